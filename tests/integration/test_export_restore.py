"""An export restored into an empty store exports again to the same bytes, in both formats."""

from __future__ import annotations

import orjson
import pytest

from ledger import errors
from ledger.commands import Ledger
from ledger.exchange import export_lines, read_export
from tests.factories import run, setup_ccm


def record_a_story(ledger: Ledger) -> None:
    """One of every kind of fact, including a correction and a retraction."""
    setup_ccm(ledger)
    run(ledger, "register_party", code="NOR", name="Norway", kind="state")
    run(ledger, "register_party", code="CMC", name="Cluster Munition Coalition", kind="organisation")
    run(ledger, "change_treaty_status", party="HRV", instrument="CCM", status="ratified",
        on="2009-08-17")
    pledged = run(ledger, "pledge_commitment", id="c1", party="HRV", provisions=["VAP:14"],
                  text="Destroy the stockpile", target="all submunitions", due_on="2013-08-01")
    run(ledger, "report_progress", commitment="c1", status="in_progress",
        quantities={"submunitions destroyed": 10404, "share": 0.25}, summary="Ünïcode ✓ مرحبا")
    run(ledger, "correct_entry", entity="commitments/c1", event=pledged.events[0],
        fields={"due_on": "2013-09-01"}, reason="typo")
    run(ledger, "pledge_funding", id="f1", donor="NOR", recipient="HRV", amount="430700000.25",
        currency="USD", period="2014")
    run(ledger, "disburse_funding", funding="f1", amount="1000", currency="USD")
    run(ledger, "declare_obligation", id="o1", party="HRV", provision="CCM:4", kind="clearance",
        description="Contaminated areas", deadline="2020-08-01")
    run(ledger, "request_extension", obligation="o1", requested_deadline="2025-08-01", reason="r")
    run(ledger, "grant_extension", obligation="o1", deadline="2025-08-01")
    run(ledger, "schedule_report", party="HRV", instrument="CCM", kind="initial", period="2010",
        due_on="2011-01-27")
    run(ledger, "submit_report", party="HRV", instrument="CCM", kind="initial", period="2010",
        received_on="2011-03-01", covers=["CCM:3"])
    filed = run(ledger, "file_allegation", id="a1", against="HRV", provision="CCM:3",
                filed_by="CMC", summary="Alleged use")
    run(ledger, "open_review", allegation="a1")
    run(ledger, "retract_entry", entity="allegations/a1", event=filed.events[0],
        reason="filed against the wrong state")


@pytest.mark.parametrize("fmt", ["ndjson", "cloudevents"])
def test_export_restore_export_gives_identical_bytes(database_url, tmp_path, fmt):
    source = Ledger(database_url)
    record_a_story(source)
    first = b"".join(export_lines(source.read_all(), fmt))
    source.close()

    target = Ledger(f"sqlite:///{tmp_path}/restored.db")
    count = target.restore(read_export(first.splitlines()))
    second = b"".join(export_lines(target.read_all(), fmt))
    assert count == len(first.splitlines()) > 40
    assert second == first
    # the restored store is a working ledger: its aggregates load and accept new commands
    run(target, "report_progress", commitment="c1", status="stalled")
    target.close()


def test_export_values_come_from_the_stored_events(ledger):
    record_a_story(ledger)
    stored = list(ledger.read_all())
    for notification, raw in zip(stored, export_lines(stored, "cloudevents"), strict=True):
        event = orjson.loads(raw)
        state = orjson.loads(notification.state)
        assert event["specversion"] == "1.0"
        assert event["id"] == state["event_id"] and event["time"] == state["timestamp"]
        assert event["subject"] == state["entity"]
        assert event["type"] == "org.commitment-ledger." + notification.topic.rsplit(".", 1)[1]
        assert event["data"] == state


def test_restore_refuses_a_store_that_is_not_empty(ledger):
    record_a_story(ledger)
    exported = list(export_lines(ledger.read_all()))
    with pytest.raises(errors.StoreNotEmpty):
        ledger.restore(read_export(exported))


@pytest.mark.parametrize(("mangle", "reason"), [
    (lambda r: r.update(topic="os:system"), "is not a ledger event"),
    (lambda r: r["state"].update(event_id="00000000-0000-0000-0000-000000000000"), "disagrees"),
    (lambda r: r.pop("aggregate_id"), "missing field 'aggregate_id'"),
])
def test_a_bad_export_line_is_named(ledger, mangle, reason):
    record_a_story(ledger)
    lines = list(export_lines(ledger.read_all()))
    record = orjson.loads(lines[5])
    mangle(record)
    lines[5] = orjson.dumps(record)
    with pytest.raises(errors.InvalidValue, match=f"export line 6: .*{reason}"):
        list(read_export(lines))
