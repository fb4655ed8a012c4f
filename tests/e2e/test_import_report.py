"""POST /v1/import answers with an outcome per line: a client can tell exactly which lines were
recorded, which were already recorded and which to fix and send again."""

from __future__ import annotations

import random

import orjson
import pycountry

from ledger.commands import Ledger
from tests.factories import line
from tests.interleaving import Interleaved, store_failure

PARTIES = sorted(country.alpha_3 for country in pycountry.countries)[:40]
#: a bad line of each kind, with the field its refusal names
BAD: list[tuple[bytes, str]] = [
    (b'{"key": "bad/json", "command": "register_party", "data": ', "(line)"),
    (line("register_party", code="XXX", name="Nowhere", kind="state"), "data.code"),
    (line("pledge_commitment", party="ZWE", provisions=["CCM:3"], text="Unknown party"), "party"),
    (line("report_progress", commitment="no-such", status="in_progress"), "commitment"),
    (line("pledge_commitment", id="c0", party=PARTIES[0], provisions=["CCM:3"], text="Taken"),
     "id"),
    (line("pledge_commitment", party=PARTIES[0], provisions=["CCM:3"], text="Bad date",
          due_on="2013-02-30"), "data.due_on"),
]


def lawful(count: int) -> list[bytes]:
    """`count` lines that the ledger accepts in order: the CCM, parties, pledges and progress."""
    lines = [line("register_instrument", key="bulk/CCM", code="CCM",
                  title="Convention on Cluster Munitions", kind="treaty")]
    lines += [line("add_provision", key=f"bulk/CCM/{n}", instrument="CCM", number=n,
                   kind="article", title=f"Article {n}") for n in ("3", "4", "7")]
    lines += [line("register_party", key=f"bulk/party/{code}", code=code, name=code, kind="state")
              for code in PARTIES]
    n = 0
    while len(lines) < count:
        lines.append(line("pledge_commitment", key=f"bulk/pledge/{n}", id=f"c{n}",
                          party=PARTIES[n % len(PARTIES)], provisions=["CCM:3"], text="Destroy",
                          due_on="2020-01-01"))
        lines.append(line("report_progress", key=f"bulk/progress/{n}", commitment=f"c{n}",
                          status="in_progress", summary="Half destroyed"))
        n += 1
    return lines[:count]


def scattered(total: int, bad: int, seed: int = 12) -> tuple[bytes, dict[int, str]]:
    """An NDJSON body of `total` lines, `bad` of them bad at random places after the first
    pledge; returns the body and each bad line's number with the field it should name."""
    rng = random.Random(seed)
    lines = lawful(total - bad)
    places = sorted(rng.sample(range(len(PARTIES) + 6, total), bad))
    expected = {}
    for place in places:  # inserting in ascending order keeps the earlier places right
        raw, field = BAD[rng.randrange(len(BAD))]
        lines.insert(place, raw)
        expected[place + 1] = field
    return b"\n".join(lines) + b"\n", expected


def post(api, body: bytes, query: str = ""):
    return api.client.post(f"/v1/import{query}", content=body,
                           headers=api.headers(**{"Content-Type": "application/x-ndjson"}))


def logged_events(database_url: str) -> dict[str, int]:
    """Every event id in the log with its position, receipts left out."""
    ledger = Ledger(database_url)
    try:
        return {orjson.loads(n.state)["event_id"]: n.id for n in ledger.read_all()
                if not n.topic.endswith("CommandAccepted")}
    finally:
        ledger.close()


def test_ten_thousand_lines_with_bad_ones_scattered_record_exactly_the_good_ones(
    api, database_url,
):
    body, bad = scattered(10_000, 100)
    first = post(api, body)
    assert first.status_code == 207, first.text[:500]
    report = first.json()
    assert (report["recorded"], report["already_recorded"], report["refused"]) == (9_900, 0, 100)
    lines = report["lines"]
    assert [n["line"] for n in lines] == list(range(1, 10_001))
    refused = {n["line"]: n for n in lines if n["outcome"] == "refused"}
    assert {number: n["errors"][0]["field"] for number, n in refused.items()} == bad
    assert all(n["type"].startswith("/-/problems#") and n["errors"][0]["reason"]
               for n in refused.values())
    recorded = [n for n in lines if n["outcome"] == "recorded"]
    events = logged_events(database_url)
    assert sorted(e for n in recorded for e in n["events"]) == sorted(events)
    assert all(n["entity"] and n["position"] >= events[n["events"][-1]] for n in recorded)

    again = post(api, body)
    assert again.status_code == 422  # nothing recorded this time; the bad lines are still bad
    retry = again.json()
    assert (retry["recorded"], retry["already_recorded"], retry["refused"]) == (0, 9_900, 100)
    assert [n["events"] for n in retry["lines"] if n["outcome"] == "already_recorded"] == [
        n["events"] for n in recorded]
    assert logged_events(database_url) == events


def test_an_atomic_import_with_one_bad_line_records_nothing_and_says_so(api, database_url):
    lines = lawful(200)
    lines.insert(150, line("report_progress", key="bad", commitment="no-such",
                           status="in_progress"))
    body = b"\n".join(lines)
    before = logged_events(database_url)
    response = post(api, body, "?atomic=true")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "The batch was refused" and problem["atomic"] is True
    assert problem["errors"] == [{"field": "line 151 commitment",
                                  "reason": "commitments/no-such is not in the ledger"}]
    assert (problem["recorded"], problem["refused"], problem["not_recorded"]) == (0, 1, 200)
    assert all("events" not in n for n in problem["lines"])
    assert logged_events(database_url) == before

    del lines[150]
    fixed = post(api, b"\n".join(lines), "?atomic=true")
    assert fixed.status_code == 200
    assert fixed.json()["recorded"] == 200
    positions = [n["position"] for n in fixed.json()["lines"]]
    assert positions == sorted(positions)


def test_a_clean_file_is_200_and_sending_it_again_records_nothing(api, database_url):
    body = b"\n".join(lawful(60))
    first = post(api, body)
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json()["recorded"] == 60
    events = logged_events(database_url)
    again = post(api, body)
    assert again.status_code == 200
    assert {n["outcome"] for n in again.json()["lines"]} == {"already_recorded"}
    assert all("position" not in n for n in again.json()["lines"])
    assert logged_events(database_url) == events


def test_a_store_failure_midway_is_503_with_what_was_recorded_and_a_resend_completes(
    api, database_url,
):
    body = b"\n".join(lawful(1_200))
    api.client.app.state.ledger.close()
    # on PostgreSQL, give up on a refused connection after 1 s rather than 2
    quick = database_url + ("?connect_timeout=1" if database_url.startswith("postgres") else "")
    ledger = api.client.app.state.ledger = Interleaved(quick)
    with store_failure(database_url) as fail:
        ledger.meanwhile += [lambda: None, fail]  # the second batch of 500 lines meets it
        response = post(api, body)
    assert response.status_code == 503 and response.headers["retry-after"]
    report = response.json()
    assert report["detail"] == "500 recorded, 0 already recorded, 0 refused, 700 not recorded"
    assert "nothing recorded from line 501 on" in report["interrupted"]
    assert {n["outcome"] for n in report["lines"][:500]} == {"recorded"}
    assert {n["outcome"] for n in report["lines"][500:]} == {"not_recorded"}
    assert len(logged_events(database_url)) == 500

    resent = post(api, body)
    assert resent.status_code == 200
    assert (resent.json()["recorded"], resent.json()["already_recorded"]) == (700, 500)
    assert len(logged_events(database_url)) == 1_200


def test_the_openapi_describes_the_report_for_each_status(api):
    operation = api.client.get("/openapi.json").json()["paths"]["/v1/import"]["post"]
    schema = {status: next(iter(response["content"].items()))
              for status, response in operation["responses"].items()
              if status in ("200", "207", "422", "503")}
    assert schema == {
        "200": ("application/json", {"schema": {"$ref": "#/components/schemas/ImportReport"}}),
        "207": ("application/json", {"schema": {"$ref": "#/components/schemas/ImportReport"}}),
        "422": ("application/problem+json",
                {"schema": {"$ref": "#/components/schemas/ImportProblem"}}),
        "503": ("application/problem+json",
                {"schema": {"$ref": "#/components/schemas/ImportProblem"}}),
    }
    assert operation["parameters"][0]["name"] == "atomic"
