"""Recording over HTTP: authentication first, scopes, idempotent retries, optimistic
concurrency, and one error shape."""

from __future__ import annotations

import pytest

from tests.factories import log, setup_ccm

CCM = {"code": "CCM", "title": "Convention on Cluster Munitions", "kind": "treaty"}
SOURCES = [{"title": "Beirut Progress Report", "document": "CCM/MSP/2011/WP.1", "paragraph": "29"}]


def write_routes(api) -> list[tuple[str, str]]:
    spec = api.client.get("/openapi.json").json()
    return [(path, op["x-scope"]) for path, item in spec["paths"].items()
            for method, op in item.items() if method == "post"]


def concrete(path: str) -> str:
    return (path.replace("{party}", "HRV").replace("{instrument}", "CCM")
            .replace("{report}", "CCM-HRV-initial-2010").replace("{commitment}", "c1")
            .replace("{obligation}", "o1").replace("{allegation}", "a1")
            .replace("{funding}", "f1"))


def test_every_write_route_refuses_a_missing_or_wrong_token_and_records_nothing(api):
    from ledger.commands import Ledger

    routes = write_routes(api)
    assert len(routes) == len(Ledger.COMMANDS) + 1  # every command and the NDJSON import
    ledger: Ledger = api.client.app.state.ledger
    before = log(ledger)
    other = {"record": "adjudicate", "adjudicate": "record", "admin": "record"}
    for path, scope in routes:
        url = concrete(path)
        anonymous = api.client.post(url, content=b"{not json")
        assert anonymous.status_code == 401, path
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert "errors" not in anonymous.json()  # nothing about the body's schema
        forged = api.client.post(url, json={}, headers={"Authorization": "Bearer abc.def"})
        assert forged.status_code == 401, path
        wrong = api.client.post(url, json={}, headers=api.headers(other[scope]))
        assert wrong.status_code == 403, path
        assert wrong.json()["detail"] == f"this needs a token with the {scope!r} scope"
    assert log(ledger) == before


def test_a_recorded_command_names_the_principal_and_its_sources(api):
    response = api.post("/v1/instruments", {**CCM, "sources": SOURCES, "effective_on": "2008-05-30"})
    assert response.status_code == 201
    body = response.json()
    assert body["entity"] == "instruments/CCM" and len(body["events"]) == 1
    assert response.headers["location"] == "/v1/instruments/CCM"
    api.settle()
    (row,) = api.client.get("/v1/instruments/CCM/history").json()
    assert row["recorded_by"] == "record-desk"
    assert row["sources"] == SOURCES and row["effective_on"] == "2008-05-30"


def test_a_retried_post_with_the_same_idempotency_key_records_exactly_one_event(api):
    first = api.post("/v1/instruments", CCM, **{"Idempotency-Key": "ccm-1"})
    again = api.post("/v1/instruments", CCM, **{"Idempotency-Key": "ccm-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    ledger = api.client.app.state.ledger
    types = [n.topic.rsplit(".", 1)[1] for n in ledger.read_all()]
    assert types == ["InstrumentRegistered", "CommandAccepted"]
    changed = api.post("/v1/instruments", {**CCM, "title": "Other"}, **{"Idempotency-Key": "ccm-1"})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["field"] == "key"
    assert len(list(ledger.read_all())) == 2


def test_if_match_with_a_stale_version_gets_412_and_records_nothing(api):
    setup = api.client.app.state.ledger
    setup_ccm(setup)
    api.post("/v1/commitments", {"id": "c1", "party": "HRV", "provisions": ["VAP:14"],
                                 "text": "Destroy the stockpile", "due_on": "2013-08-01"})
    api.settle()
    etag = api.client.get("/v1/commitments/c1").headers["etag"]
    assert etag == '"v1"'
    progress = {"status": "in_progress"}
    ok = api.post("/v1/commitments/c1/progress", progress, **{"If-Match": etag})
    assert ok.status_code == 201
    before = log(setup)
    stale = api.post("/v1/commitments/c1/progress", progress, **{"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["errors"] == [{"field": "If-Match",
                                       "reason": "commitments/c1 is at version 2, not 1"}]
    assert log(setup) == before


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/v1/parties", {"code": "XXX", "name": "Nowhere", "kind": "state"}, 422, "code"),
    ("/v1/parties", {"code": "HRV", "name": "Croatia", "kind": "state", "extra": 1}, 422, "extra"),
    ("/v1/commitments/nope/progress", {"status": "in_progress"}, 404, None),
    ("/v1/commitments", {"party": "ZZZ", "provisions": ["VAP:14"], "text": "t",
                         "due_on": "2012-01-01"}, 422, "party"),
    ("/v1/report-submissions", {"party": "HRV", "instrument": "CCM", "kind": "initial",
                                "period": "2010", "received_on": "2011-13-45"}, 422, "received_on"),
])
def test_bad_requests_get_a_problem_with_the_field_and_reason(api, path, body, status, field):
    setup_ccm(api.client.app.state.ledger)
    response = api.post(path, body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["instance"] == path
    if field:
        assert field in [e["field"] for e in problem["errors"]]
        assert all(e["reason"] for e in problem["errors"])


def test_a_lifecycle_conflict_is_409_and_an_oversized_body_is_413(api):
    setup_ccm(api.client.app.state.ledger)
    api.post("/v1/obligations", {"id": "o1", "party": "HRV", "provision": "CCM:3",
                                 "kind": "stockpile_destruction", "description": "d"})
    assert api.post("/v1/obligations/o1/completion", {}).status_code == 201
    again = api.post("/v1/obligations/o1/completion", {})
    assert again.status_code == 409
    assert again.json()["title"] == "Obligation Already Completed"
    huge = api.client.post("/v1/import", content=b"x" * (17 * 1024 * 1024),
                           headers=api.headers())
    assert huge.status_code == 413


def test_the_ndjson_import_route_follows_the_cli_rules(api):
    from tests.factories import line

    body = b"\n".join([
        line("register_instrument", key="i1", code="CCM", title="CCM", kind="treaty"),
        line("register_party", key="p1", code="XXX", name="Nowhere", kind="state"),
    ])
    first = api.client.post("/v1/import", content=body, headers=api.headers())
    assert first.status_code == 207  # one line recorded, one refused
    assert [n["outcome"] for n in first.json()["lines"]] == ["recorded", "refused"]
    assert first.json()["lines"][1]["errors"][0]["field"] == "data.code"
    again = api.client.post("/v1/import", content=body, headers=api.headers())
    assert again.status_code == 422
    assert again.json()["detail"] == "0 recorded, 1 already recorded, 1 refused"
    assert again.json()["errors"][0]["field"] == "line 2 data.code"
    fixed = api.client.post("/v1/import", content=body.split(b"\n")[0], headers=api.headers())
    assert fixed.status_code == 200
    assert (fixed.json()["recorded"], fixed.json()["already_recorded"]) == (0, 1)
