"""Illegal steps are refused with a named error and leave the log exactly as it was."""

from __future__ import annotations

import pytest

from ledger import errors
from ledger.entity import aggregate_id
from tests.factories import log, run, setup_ccm


@pytest.fixture
def ccm(ledger):
    setup_ccm(ledger)
    return ledger


def refused(ledger, error, command, **data):
    before = log(ledger)
    with pytest.raises(error) as caught:
        run(ledger, command, **data)
    assert log(ledger) == before, "a refused command changed the log"
    return caught.value


def test_resolving_a_resolved_allegation_is_refused(ccm):
    run(ccm, "file_allegation", id="a1", against="HRV", provision="CCM:3", filed_by="CMC",
        summary="Alleged retention above the minimum")
    run(ccm, "open_review", allegation="a1")
    run(ccm, "resolve_allegation", allegation="a1", outcome="unfounded")
    refused(ccm, errors.AllegationAlreadyResolved, "resolve_allegation", allegation="a1",
            outcome="confirmed")


def test_progress_on_a_withdrawn_commitment_is_refused(ccm):
    run(ccm, "pledge_commitment", id="c1", party="HRV", provisions=["VAP:14"],
        text="Destroy the stockpile", due_on="2013-08-01")
    run(ccm, "withdraw_commitment", commitment="c1", reason="superseded")
    refused(ccm, errors.CommitmentAlreadyClosed, "report_progress", commitment="c1",
            status="in_progress")


def test_a_report_from_an_unknown_party_is_refused(ccm):
    error = refused(ccm, errors.PartyNotFound, "submit_report", party="PER", instrument="CCM",
                    kind="initial", period="2010", received_on="2011-02-01")
    assert error.field == "party"


def test_an_extension_on_a_completed_obligation_is_refused(ccm):
    run(ccm, "declare_obligation", id="o1", party="HRV", provision="CCM:3",
        kind="stockpile_destruction", description="Declared stockpile", deadline="2018-08-01")
    run(ccm, "declare_completion", obligation="o1")
    refused(ccm, errors.ObligationAlreadyCompleted, "request_extension", obligation="o1",
            requested_deadline="2020-08-01", reason="late")


def test_a_correction_naming_an_unknown_event_is_refused(ccm):
    pledged = run(ccm, "pledge_commitment", id="c1", party="HRV", provisions=["VAP:14"],
                  text="Destroy the stockpile", due_on="2013-08-01")
    other = run(ccm, "register_party", code="LAO", name="Lao PDR", kind="state")
    refused(ccm, errors.EventNotFound, "correct_entry", entity="commitments/c1",
            event="6f1c2d34-0000-4000-8000-000000000000", fields={"text": "x"}, reason="r")
    # an event that exists, but belongs to another entity, is unknown to this one
    refused(ccm, errors.EventNotFound, "correct_entry", entity="commitments/c1",
            event=other.events[0], fields={"name": "x"}, reason="r")
    run(ccm, "correct_entry", entity="commitments/c1", event=pledged.events[0],
        fields={"due_on": "2013-09-01"}, reason="the report gives 1 September")


@pytest.mark.parametrize(("command", "data", "error"), [
    ("pledge_commitment", dict(id="c2", party="HRV", provisions=["VAP:99"], text="t",
                               due_on="2013-01-01"), errors.ProvisionNotFound),
    ("pledge_commitment", dict(id="c2", party="HRV", provisions=["XYZ:1"], text="t",
                               due_on="2013-01-01"), errors.ProvisionNotFound),
    ("report_progress", dict(commitment="nope", status="in_progress"), errors.CommitmentNotFound),
    ("register_party", dict(code="HRV", name="Croatia again", kind="state"), errors.AlreadyExists),
    ("change_treaty_status", dict(party="HRV", instrument="XYZ", status="signed", on="2008-12-03"),
     errors.InstrumentNotFound),
    ("open_review", dict(allegation="nope"), errors.AllegationNotFound),
    ("grant_extension", dict(obligation="nope", deadline="2020-01-01"), errors.ObligationNotFound),
    ("disburse_funding", dict(funding="nope", amount="1", currency="USD"), errors.FundingNotFound),
    ("amend_report", dict(report="CCM-HRV-annual-2010", received_on="2011-05-01", summary="s"),
     errors.ReportNotFound),
])
def test_commands_naming_what_the_ledger_does_not_know_are_refused(ccm, command, data, error):
    refused(ccm, error, command, **data)


def test_accepted_commands_are_recorded_in_order_with_their_envelope(ccm):
    outcome = run(ccm, "pledge_commitment", id="c1", party="HRV", provisions=["VAP:14"],
                  text="Destroy the stockpile", due_on="2013-08-01")
    assert outcome.result == "commitments/c1" and len(outcome.events) == 1
    commitment = ccm.repository.get(aggregate_id("commitments/c1"))
    assert commitment.status == "pledged" and commitment.party == "HRV"
    (event,) = commitment_events = [n for n in ccm.read_all() if n.originator_id == str(commitment.id)]
    assert b'"recorded_by":"tester"' in event.state and b'"paragraph":"4"' in event.state
    assert len(commitment_events) == 1
