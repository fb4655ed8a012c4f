"""Public reads on the demo data: entities on both clocks, history, the change log with each
filter, CSV and NDJSON downloads, summaries, the raw log and the export."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from api.routes.changes import CSV_COLUMNS

SSD = "allegations/apmbc-cc-2019-SSD"


def rows(client, **params):
    """Every change the filters select, following the pages."""
    response = client.get("/v1/changes", params={"limit": 1000, **params})
    found = []
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["changes"]
        if not page["next"]:
            return found
        response = client.get(page["next"])


def test_filter_by_party_gives_south_sudan_its_status_every_step_of_its_case_and_statements(demo):
    found = [(r["type"], r["entity"]) for r in rows(demo, party="SSD")]
    said = "statements/apmbc-review-2019-"
    assert found == [("PartyRegistered", "parties/SSD"), ("TreatyStatusChanged", "parties/SSD")] + [
        (t, SSD) for t in (
            "AllegationFiled", "ReviewOpened", "ClarificationRequested", "ResponseReceived",
            "InvestigationOpened", "FindingIssued", "AllegationResolved")] + [
        ("StatementRecorded", f"{said}{s}-SSD") for s in (
            "9-va-stakeholder-dialogue-held", "21-compliance-allegations-considered",
            "21-allegations-found-not-credible")]


def test_filter_by_kind_gives_the_one_resolution(demo):
    (row,) = rows(demo, kind="AllegationResolved")
    assert row["entity"] == SSD
    assert row["summary"] == (
        "Allegation against South Sudan (SSD) under Article 1.1 of the APMBC resolved as not "
        "credible: In view of the information received from South Sudan…")
    assert row["sources"][0]["document"] == "seed 004"
    assert row["diff"]["state"] == ["investigation", "resolved"]


def test_filter_by_instrument_and_action(demo):
    assert [r["type"] for r in rows(demo, instrument="MAP")] == [
        "InstrumentRegistered", "ProvisionAdded"]
    (added, *said) = [(r["type"], r["entity"]) for r in rows(demo, action="VAP:14")]
    assert added == ("ProvisionAdded", "instruments/VAP")
    assert ("StatementRecorded", "statements/ccm-beirut-42-fn40-clearance-methods-reported-LAO"
            ) in said
    assert {entity.split("/")[0] for _, entity in said} == {"statements"}


def test_filter_by_effective_range_and_entity_family(demo):
    found = rows(demo, kind="fundings", effective_from="2014-01-01", effective_to="2014-12-31")
    assert [(r["entity"], r["fields"]["amount"]) for r in found] == [
        ("fundings/apmbc-mine-action-funding-2014", "430700000")]


def test_a_recorded_range_of_dates_takes_in_the_whole_of_both_days(demo):
    """`recorded_from=D` starts at the first moment of D and `recorded_to=D` ends at its last:
    the day the demo was loaded, given as both, holds every change of it."""
    everything = rows(demo, kind="fundings")
    day = everything[0]["recorded_at"][:10]
    assert rows(demo, kind="fundings", recorded_from=day, recorded_to=day) == everything
    first = everything[0]["recorded_at"]
    assert rows(demo, kind="fundings", recorded_to=first) == everything[:1]


def test_full_text_search_finds_words_in_the_event_fields(demo):
    # the statement code's label, Japan's obligation, and the statement and total of fn 12
    assert [r["entity"] for r in rows(demo, q="tendering")] == [
        "instruments/CCM", "obligations/ccm-art3-JPN",
        "statements/ccm-beirut-29-fn12-stockpile-destruction-tender-JPN",
        "statements/ccm-beirut-29-fn12-stockpile-destruction-tender-state-party-stated"]
    assert rows(demo, q="tendering", party="HRV") == []


def test_recorded_range_and_cursor_paging_cover_the_log_once(demo):
    everything = rows(demo)
    assert len(everything) > 500
    cut = everything[100]["recorded_at"]
    assert [r["position"] for r in rows(demo, recorded_from=cut)] == [
        r["position"] for r in everything if r["recorded_at"] >= cut]
    page = demo.get("/v1/changes", params={"limit": 200}).json()
    seen = [r["position"] for r in page["changes"]]
    while page["next"]:
        page = demo.get(page["next"]).json()
        seen += [r["position"] for r in page["changes"]]
    assert seen == [r["position"] for r in everything]


def test_the_csv_parses_with_the_documented_columns(demo):
    response = demo.get("/v1/changes.csv", params={"party": "SSD", "kind": "allegations"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(table[0]) == CSV_COLUMNS
    assert [r["type"] for r in table][-1] == "AllegationResolved"
    assert "seed 004" in table[-1]["sources"]
    assert orjson.loads(table[-1]["diff"])["outcome"] == [None, "not_credible"]
    every = list(csv.DictReader(io.StringIO(demo.get("/v1/changes.csv").text)))
    assert len(every) == len(rows(demo))


def test_the_ndjson_change_log_and_the_export(demo):
    lines = demo.get("/v1/changes.ndjson", params={"kind": "allegations"}).content.splitlines()
    assert {orjson.loads(line)["kind"] for line in lines} == {"allegations"}
    export = demo.get("/v1/export", params={"format": "cloudevents"}).content.splitlines()
    assert all(orjson.loads(line)["specversion"] == "1.0" for line in export)
    assert len(export) > 1000


def test_entities_on_both_clocks_and_their_history(demo):
    case = demo.get(f"/v1/{SSD}").json()
    assert case["state"] == "resolved" and case["outcome"] == "not_credible"
    assert demo.get(f"/v1/{SSD}").headers["etag"] == f'"v{case["version"]}"'
    first = demo.get(f"/v1/{SSD}/history").json()[0]["position"]
    assert demo.get(f"/v1/{SSD}", params={"at_position": first}).json()["state"] == "filed"
    assert demo.get(f"/v1/{SSD}", params={"as_known_at": "2000-01-01"}).status_code == 404
    assert demo.get(f"/v1/{SSD}", params={"as_known_at": "yesterday"}).json()["errors"][0][
        "field"] == "query.as_known_at"
    listed = demo.get("/v1/allegations").json()
    assert {a["against"] for a in listed} >= {"SSD", "SDN", "UKR", "YEM"}
    assert demo.get("/v1/parties/XYZ").status_code == 404


def test_summaries_matrix_overdue_and_the_raw_log(demo):
    summary = demo.get("/v1/summary/APMBC", params={"today": "2019-10-15"}).json()
    assert summary["allegations"]["resolved"] == ["SSD"]
    assert demo.get("/v1/summary/NOPE").status_code == 404
    assert demo.get("/v1/matrix/VAP").json()["plan"] == "VAP"
    overdue = demo.get("/v1/overdue", params={"today": "2012-01-02"}).json()
    assert {o["path"] for o in overdue} >= {"commitments/ccm-ratify-2011-PER"}
    log = demo.get("/v1/events", params={"after": 0, "limit": 3}).content.splitlines()
    assert [orjson.loads(line)["position"] for line in log] == [1, 2, 3]
    assert demo.get("/-/ready").json()["status"] == "ready"


@pytest.mark.parametrize("clock", [{}, {"as_known_at": "2100-01-01"}])
def test_overdue_pages_follow_their_next_links_to_the_whole_list(demo, clock):
    """At most `limit` a page, in due-date order; the `next` links give every entry once."""
    whole = demo.get("/v1/overdue", params={"today": "2030-01-01", "limit": 1000, **clock})
    assert "link" not in whole.headers
    expected = [o["path"] for o in whole.json()]
    assert len(expected) > 5
    assert [o["due_on"] for o in whole.json()] == sorted(o["due_on"] for o in whole.json())
    seen, url = [], demo.get("/v1/overdue", params={"today": "2030-01-01", "limit": 3, **clock})
    while True:
        assert len(url.json()) <= 3
        seen += [o["path"] for o in url.json()]
        if "link" not in url.headers:
            break
        url = demo.get(url.headers["link"].split(">", 1)[0].lstrip("<"))
    assert seen == expected
    assert demo.get("/v1/overdue", params={"after": "2011-01-01~nowhere/x"}).status_code == 422
