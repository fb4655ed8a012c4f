"""The read model answers: current state, both clocks, history with diffs, the change log,
deadline lapses and the summary views."""

from __future__ import annotations

import orjson
import pytest

from projections.digest import state_digest
from projections.queries import (
    ChangeFilter,
    Clock,
    changes,
    entity,
    history,
    instrument_summary,
    overdue,
    progress_matrix,
)
from projections.runner import run_tick
from tests.factories import run, setup_ccm


def known_now(projector) -> str:
    """The recorded time of the newest event: 'as known at' this moment."""
    projector.catch_up()
    (last,) = changes(projector.view, newest_first=True, limit=1)
    return last["recorded_at"]


def test_a_late_report_and_a_corrected_figure_on_both_clocks(ledger, projector):
    """Croatia's initial report was due on 27 January 2011. The ledger learns only later that it
    arrived on 20 January, and later still that the stockpile it reported was misstated."""
    setup_ccm(ledger)
    run(ledger, "schedule_report", party="HRV", instrument="CCM", kind="initial", period="2010",
        due_on="2011-01-27", effective_on="2010-08-01")
    run(ledger, "declare_obligation", id="hrv-stock", party="HRV", provision="CCM:3",
        kind="stockpile_destruction", description="Declared stockpile",
        quantities={"submunitions": 1000}, deadline="2018-08-01", effective_on="2010-08-01")
    before_report = known_now(projector)

    submitted = run(ledger, "submit_report", party="HRV", instrument="CCM", kind="initial",
                    period="2010", received_on="2011-01-20", effective_on="2011-01-20")
    progress = run(ledger, "report_obligation_progress", obligation="hrv-stock",
                   quantities={"submunitions destroyed": 400}, summary="as reported",
                   effective_on="2011-01-20")
    before_correction = known_now(projector)
    run(ledger, "correct_entry", entity="obligations/hrv-stock", event=progress.events[0],
        fields={"quantities": {"submunitions destroyed": 450}}, reason="Figure misprinted",
        effective_on="2011-09-01")
    projector.catch_up()
    view = projector.view
    report = "reports/CCM-HRV-initial-2010"

    # as known before the late recording: nothing received, though it was due
    assert entity(view, report, Clock(known_at=before_report))["received_on"] is None
    # as effective on 25 January 2011, known now: it had been received on the 20th, on time
    on_25th = entity(view, report, Clock(effective_on="2011-01-25"))
    assert on_25th["received_on"] == "2011-01-20"
    # as effective on 15 January 2011: not yet received
    assert entity(view, report, Clock(effective_on="2011-01-15"))["received_on"] is None
    # the late recording does not change what was known before it
    assert entity(view, report, Clock(known_at_position=submitted_position(view, submitted) - 1))[
        "received_on"] is None

    obligation = "obligations/hrv-stock"
    figure = lambda state: state["progress"][0]["quantities"]["submunitions destroyed"]  # noqa: E731
    assert figure(entity(view, obligation, Clock(known_at=before_correction))) == 400
    assert figure(entity(view, obligation)) == 450
    # the correction applies to the world-date of the figure it corrects
    assert figure(entity(view, obligation, Clock(effective_on="2011-02-01"))) == 450
    assert entity(view, obligation, Clock(effective_on="2010-12-31"))["progress"] == []

    # the change log keeps the original entry and the correction
    log = history(view, obligation)
    assert [row["type"] for row in log] == [
        "ObligationDeclared", "ObligationProgressReported", "EntryCorrected",
    ]
    assert log[1]["fields"]["quantities"] == {"submunitions destroyed": 400}
    assert log[2]["fields"]["corrects"] == progress.events[0]
    assert log[2]["diff"]["progress"][0][0]["quantities"] == {"submunitions destroyed": 400}
    assert log[2]["diff"]["progress"][1][0]["quantities"] == {"submunitions destroyed": 450}


def submitted_position(view, outcome) -> int:
    (row,) = [r for r in changes(view, ChangeFilter(kind="ReportSubmitted"))
              if r["event_id"] == outcome.events[0]]
    return row["position"]


def test_tick_twice_at_the_same_time_lapses_once_and_the_lapses_are_in_the_change_log(
    ledger, projector
):
    setup_ccm(ledger)
    run(ledger, "pledge_commitment", id="late", party="HRV", provisions=["VAP:14"],
        text="Destroy", due_on="2012-01-01")
    run(ledger, "pledge_commitment", id="kept", party="HRV", provisions=["VAP:14"],
        text="Destroy", due_on="2012-01-01")
    run(ledger, "assess_commitment", commitment="kept", outcome="kept", assessor="self",
        assessed_by="HRV")
    run(ledger, "declare_obligation", id="clear", party="HRV", provision="CCM:4",
        kind="clearance", description="Areas", deadline="2020-08-01")
    run(ledger, "schedule_report", party="HRV", instrument="CCM", kind="annual", period="2011",
        due_on="2012-04-30")
    first = run_tick(projector, "2013-01-01")
    assert sorted(o.result for o in first if o.events) == [
        "commitments/late", "reports/CCM-HRV-annual-2011",
    ]
    count = len(list(ledger.read_all()))
    again = run_tick(projector, "2013-01-01")
    assert all(o.replayed or not o.events for o in again)
    assert len(list(ledger.read_all())) == count
    lapses = changes(projector.view, ChangeFilter(kind="DeadlineLapsed"))
    assert [(row["entity"], row["recorded_by"], row["effective_on"]) for row in lapses] == [
        ("commitments/late", "ledger:tick", "2012-01-02"),
        ("reports/CCM-HRV-annual-2011", "ledger:tick", "2012-05-01"),
    ]
    assert lapses[0]["summary"] == (
        "Croatia (HRV) missed the 1 January 2012 due date of its commitment under Action 14 "
        "(Destroy stockpiles as soon as possible) of the Vientiane Action Plan (VAP)")
    assert entity(projector.view, "commitments/late")["status"] == "lapsed"
    # a later tick lapses the obligation once its deadline has passed too
    later = run_tick(projector, "2021-01-01")
    assert [o.result for o in later if o.events and not o.replayed] == ["obligations/clear"]
    assert [s["path"] for s in overdue(projector.view, "2021-01-01")] == [
        "commitments/late", "reports/CCM-HRV-annual-2011", "obligations/clear",
    ]


def test_the_change_log_filters_by_party_instrument_action_kind_dates_and_text(ledger, projector):
    setup_ccm(ledger)
    run(ledger, "register_party", code="LAO", name="Lao People's Democratic Republic",
        kind="state")
    run(ledger, "pledge_commitment", id="lao-14", party="LAO", provisions=["VAP:14"],
        text="Survey contaminated villages", due_on="2012-06-20", effective_on="2011-06-20")
    run(ledger, "declare_obligation", id="hrv-clear", party="HRV", provision="CCM:4",
        kind="clearance", description="Areas", deadline="2020-08-01", effective_on="2010-08-01")
    projector.catch_up()
    view = projector.view

    def entities_of(**where):
        return [row["entity"] for row in changes(view, ChangeFilter(**where))]

    assert entities_of(party="LAO") == ["parties/LAO", "commitments/lao-14"]
    assert entities_of(action="VAP:14") == ["instruments/VAP", "commitments/lao-14"]
    assert entities_of(instrument="VAP") == ["instruments/VAP", "instruments/VAP",
                                            "commitments/lao-14"]
    assert entities_of(kind="ObligationDeclared") == ["obligations/hrv-clear"]
    assert entities_of(kind="commitments") == ["commitments/lao-14"]
    assert entities_of(effective_from="2011-01-01", effective_to="2011-12-31") == [
        "commitments/lao-14"]
    assert entities_of(q="contaminated villages") == ["commitments/lao-14"]
    assert entities_of(q="villages", party="HRV") == []
    everything = changes(view, limit=1000)
    middle = everything[3]["recorded_at"]
    assert entities_of(recorded_from=middle) == [r["entity"] for r in everything[3:]]
    # cursor paging by position
    page = changes(view, limit=3)
    rest = changes(view, after=page[-1]["position"], limit=1000)
    assert [r["position"] for r in page + rest] == [r["position"] for r in everything]
    assert page[0]["sources"][0]["paragraph"] == "4" and page[0]["recorded_by"] == "tester"


def test_the_progress_matrix_shows_pledged_reported_and_completed_actions(ledger, projector):
    setup_ccm(ledger)
    run(ledger, "pledge_commitment", id="a", party="HRV", provisions=["VAP:14"], text="t",
        due_on="2013-01-01")
    run(ledger, "register_party", code="LAO", name="Lao PDR", kind="state")
    run(ledger, "pledge_commitment", id="b", party="LAO", provisions=["VAP:14"], text="t",
        due_on="2013-01-01")
    run(ledger, "report_progress", commitment="b", status="in_progress")
    run(ledger, "assess_commitment", commitment="a", outcome="kept", assessor="independent",
        assessed_by="CMC")
    projector.catch_up()
    matrix = progress_matrix(projector.view, "VAP")
    assert matrix == {"plan": "VAP", "actions": ["14"],
                      "parties": {"HRV": {"14": "completed"}, "LAO": {"14": "reported"}}}
    summary = instrument_summary(projector.view, "CCM", "2013-01-01")
    assert summary["instrument"] == "CCM"
    assert orjson.dumps(summary)  # plain data


def test_summaries_name_parties_as_registered_at_the_time_live_after_a_rollback_and_rebuilt(
    ledger, projector
):
    """Laos is registered under a short name, later corrected: each change reads with the name
    known when it was projected, a batch rolled back leaves none of its names behind, and a
    rebuild gives the same rows."""
    setup_ccm(ledger)
    registered = run(ledger, "register_party", code="LAO", name="Laos", kind="state")
    run(ledger, "pledge_commitment", id="lao-14", party="LAO", provisions=["VAP:14"],
        text="Survey contaminated villages", due_on="2012-06-20")
    projector.catch_up()
    run(ledger, "report_progress", commitment="lao-14", status="stalled", summary="No funds")
    run(ledger, "correct_entry", entity="parties/LAO", event=registered.events[0],
        fields={"name": "Lao People's Democratic Republic"}, reason="Official name")
    view = projector.view
    batch = [(r, orjson.loads(r.state)) for r in projector.ledger.read(view.position(), 100)]
    with pytest.raises(RuntimeError), view.transaction() as cursor:
        view.process_in(cursor, batch)  # learns the corrected name...
        raise RuntimeError("...and is rolled back")
    run(ledger, "report_progress", commitment="lao-14", status="in_progress", summary="Funded")
    projector.catch_up()

    assert [row["summary"] for row in changes(view, ChangeFilter(party="LAO"))] == [
        "Laos (LAO) registered as a state",
        "Laos (LAO) pledged under Action 14 (Destroy stockpiles as soon as possible) of the "
        "Vientiane Action Plan (VAP), due 20 June 2012: Survey contaminated villages",
        "Laos (LAO) reported its commitment under Action 14 (Destroy stockpiles as soon as "
        "possible) of the Vientiane Action Plan (VAP) stalled: No funds",
        "Correction to Lao People's Democratic Republic (LAO): name now Lao People's Democratic "
        "Republic",
        "Lao People's Democratic Republic (LAO) reported progress on its commitment under "
        "Action 14 of the Vientiane Action Plan (VAP): Funded",
    ]
    live = state_digest(view)
    projector.rebuild()
    assert state_digest(view) == live
