"""Lifecycle rules of the aggregates, without any store."""

from __future__ import annotations

import pytest

from ledger import errors
from ledger.allegations import Allegation
from ledger.commitments import Commitment
from ledger.entity import Provenance, provenance
from ledger.funding import Funding
from ledger.obligations import Obligation
from ledger.reports import Report


def pledge() -> Commitment:
    return Commitment.pledge("c1", "HRV", ["VAP:14"], "Destroy the stockpile", None, "2013-08-01")


def allegation() -> Allegation:
    return Allegation.file("a1", "SSD", "APMBC:1", "ICBL", None, None, "Alleged use", None)


def test_every_event_carries_the_envelope_of_the_command_being_recorded():
    token = provenance.set(Provenance("alice", "2011-06-30", ({"title": "Report", "paragraph": "9"},), "n"))
    try:
        commitment = pledge()
    finally:
        provenance.reset(token)
    (event,) = commitment.collect_events()
    assert (event.recorded_by, event.effective_on, event.note) == ("alice", "2011-06-30", "n")
    assert event.sources == [{"title": "Report", "paragraph": "9"}]
    assert event.entity == "commitments/c1" and len(event.event_id) == 36
    assert event.timestamp.tzinfo is not None


def test_a_commitment_moves_from_pledged_through_progress_to_kept():
    commitment = pledge()
    commitment.report_progress("in_progress", {"destroyed": 100}, None)
    commitment.report_progress("stalled", {}, "funding gap")
    commitment.report_progress("in_progress", {}, None)
    commitment.assess("kept", "independent", "CMC")
    assert commitment.status == "kept"


@pytest.mark.parametrize("close", [
    lambda c: c.withdraw("changed government"),
    lambda c: c.assess("broken", "self", "HRV"),
])
def test_a_closed_commitment_takes_no_further_steps(close):
    commitment = pledge()
    close(commitment)
    with pytest.raises(errors.CommitmentAlreadyClosed):
        commitment.report_progress("in_progress", {}, None)
    with pytest.raises(errors.CommitmentAlreadyClosed):
        commitment.extend_due_date("2020-01-01", "late")
    with pytest.raises(errors.CommitmentAlreadyClosed):
        commitment.assess("kept", "self", "HRV")


def test_a_commitment_lapses_once_when_its_due_date_passes_unmet():
    commitment = pledge()
    assert not commitment.lapse_if_due("2013-08-01")  # due that day: not yet lapsed
    assert commitment.lapse_if_due("2013-08-02")
    assert commitment.status == "lapsed"
    assert not commitment.lapse_if_due("2013-09-01")
    commitment.extend_due_date("2014-12-31", "extension agreed")
    assert commitment.status == "pledged"


def test_an_obligation_extension_must_be_requested_before_it_is_granted():
    obligation = Obligation.declare("o1", "HRV", "CCM:3", "stockpile_destruction", "d", {}, "2018-08-01")
    with pytest.raises(errors.NoExtensionPending):
        obligation.grant_extension("2022-08-01")
    obligation.request_extension("2022-08-01", "needs time")
    with pytest.raises(errors.ExtensionAlreadyPending):
        obligation.request_extension("2023-08-01", "again")
    obligation.grant_extension("2022-08-01")
    assert obligation.due_on == "2022-08-01"


def test_a_completed_obligation_takes_no_extension_progress_or_second_completion():
    obligation = Obligation.declare("o1", "HRV", "CCM:3", "stockpile_destruction", "d", {}, "2018-08-01")
    obligation.declare_completion()
    with pytest.raises(errors.ObligationAlreadyCompleted):
        obligation.request_extension("2022-08-01", "late")
    with pytest.raises(errors.ObligationAlreadyCompleted):
        obligation.report_progress({}, "more")
    with pytest.raises(errors.ObligationAlreadyCompleted):
        obligation.declare_completion()
    assert not obligation.lapse_if_due("2030-01-01")


def test_a_report_is_submitted_once_and_amended_afterwards():
    report = Report.register("HRV", "CCM", "initial", "2010", "2011-01-27")
    with pytest.raises(errors.ReportNotSubmitted):
        report.amend("2011-02-01", None, "fix")
    report.submit("2011-03-01", "doc", None, [], None)
    with pytest.raises(errors.ReportAlreadySubmitted):
        report.submit("2011-03-02", "doc", None, [], None)
    report.amend("2011-04-01", None, "corrected figures")


def test_a_voluntary_report_without_due_date_never_lapses():
    report = Report.register("HRV", "CCM", "voluntary", "2010", None)
    assert not report.lapse_if_due("2030-01-01")


def test_an_allegation_follows_its_lifecycle_to_resolution_and_can_be_reopened():
    case = allegation()
    case.open_review(None)
    case.request_clarification("asked SSD")
    case.receive_response("SSD replied")
    case.request_clarification("asked again")
    case.receive_response("replied again")
    case.open_investigation("SSD investigates")
    case.issue_finding("not credible", "SSD")
    case.resolve("not_credible", "not to pursue further")
    assert case.state == "resolved"
    case.reopen("new evidence")
    assert case.state == "under_review"


def test_resolving_a_resolved_allegation_is_refused():
    case = allegation()
    case.open_review(None)
    case.resolve("unfounded", None)
    with pytest.raises(errors.AllegationAlreadyResolved):
        case.resolve("confirmed", None)


@pytest.mark.parametrize("step", [
    lambda a: a.resolve("confirmed", None),
    lambda a: a.receive_response("no request was made"),
    lambda a: a.open_investigation("before review"),
])
def test_a_filed_allegation_cannot_skip_its_review(step):
    with pytest.raises(errors.IllegalAllegationStep):
        step(allegation())


def test_a_disbursement_must_be_in_the_pledge_currency():
    funding = Funding.pledge("f1", "NOR", None, "1000000", "USD", None, "2014", [])
    with pytest.raises(errors.CurrencyMismatch):
        funding.disburse("10", "EUR")
    funding.disburse("250000.50", "USD")
    assert str(funding.disbursed) == "250000.50"


def test_a_correction_names_an_event_of_its_entity_and_its_fields():
    commitment = pledge()
    pledged = next(iter(commitment.entries))
    with pytest.raises(errors.EventNotFound):
        commitment.correct("00000000-0000-0000-0000-000000000000", {"text": "x"}, "typo")
    with pytest.raises(errors.InvalidValue):
        commitment.correct(pledged, {"no_such_field": 1}, "typo")
    commitment.correct(pledged, {"due_on": "2013-09-01"}, "typo in the report")
    commitment.retract(pledged, "recorded against the wrong party")
    with pytest.raises(errors.EntryAlreadyRetracted):
        commitment.retract(pledged, "twice")
    with pytest.raises(errors.EntryAlreadyRetracted):
        commitment.correct(pledged, {"text": "x"}, "after retraction")
