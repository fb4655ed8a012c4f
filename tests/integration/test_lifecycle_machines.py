"""Every aggregate's lifecycle as a hypothesis state machine: random command sequences, run the way
`ledger import` runs them on a real store, are accepted exactly when the rules allow and refused
with the named error otherwise (recording nothing); the fold of each entity's change log equals
the live read model, which shows what the rules say; and a rebuild equals live following.

The rules are written out here from docs/commands.md and the lifecycles of BRIEF section 3, not
read from the aggregates, so a change to the ledger's rules fails here until both agree."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import orjson
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger import errors
from ledger.commands import Ledger
from projections.digest import state_digest
from projections.fold import Change, fold
from projections.queries import entity
from projections.runner import Projector
from tests.factories import log, run, setup_ccm

#: the same sequences every run, few enough that the whole file runs in well under a minute
SETTINGS = settings(max_examples=20, stateful_step_count=25, derandomize=True, database=None,
                    deadline=None, suppress_health_check=list(HealthCheck))
DATES = ["2011-12-31", "2012-06-30", "2013-12-31"]
TODAYS = ["2011-06-30", "2012-07-01", "2014-01-01"]
#: a few entities per sequence, so that its steps go deep into each one's lifecycle
few = precondition(lambda machine: len(machine.model) < 3)


@dataclass
class Store:
    ledger: Ledger
    projector: Projector


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    ledger = Ledger(database_url)
    setup_ccm(ledger)  # HRV, the CCM with Articles 3, 4 and 7, the VAP with action 14
    with Projector(database_url) as projector:
        yield Store(ledger, projector)
        projector.catch_up()
        live = state_digest(projector.view)
        projector.rebuild()
        assert state_digest(projector.view) == live  # replaying the whole log gives the same
    ledger.close()


def check(machine: type[LedgerMachine], store: Store) -> None:
    run_state_machine_as_test(type(machine.__name__, (machine,), {"store": store}),
                              settings=SETTINGS)


@dataclass
class Dated:
    """What the rules know of an entity with a due date: a due date passed unmet lapses once."""

    due: str | None
    lapsed: set[str] = field(default_factory=set)

    def lapses(self, today: str, is_open: bool) -> bool:
        return is_open and self.due is not None and today > self.due and self.due not in self.lapsed


class LedgerMachine(RuleBasedStateMachine):
    """Commands through the ledger; `model` holds, per entity path, what the rules say of it."""

    store: ClassVar[Store]

    def __init__(self) -> None:
        super().__init__()
        self.ledger = self.store.ledger
        self.prefix = uuid.uuid4().hex[:8]  # each example's entities are its own in the store
        self.count = itertools.count()
        self.model: dict[str, Any] = {}
        self.last: tuple[str, str, dict[str, Any]] | None = None

    def new_ref(self) -> str:
        return f"{self.prefix}-{next(self.count)}"

    def attempt(self, command: str, refusal: type[errors.LedgerError] | None, **data: Any) -> None:
        """Accepted (events recorded) when `refusal` is None; else refused with exactly it."""
        position = self.ledger.recorder.max_notification_id()
        key = f"{self.prefix}/{next(self.count)}"
        if refusal is None:
            outcome = run(self.ledger, command, key=key, **data)
            assert outcome.events and not outcome.replayed, command
            self.last = (command, key, data)
            return
        with pytest.raises(errors.LedgerError) as refused:
            run(self.ledger, command, key=key, **data)
        assert type(refused.value) is refusal, f"{command}: {refused.value!r}"
        assert self.ledger.recorder.max_notification_id() == position, "a refusal recorded"

    def lapse(self, path: str, today: str, lapses: bool) -> None:
        """`ledger tick` on one entity: records DeadlineLapsed exactly when the rules say."""
        outcome = self.ledger.record_lapse(path, today)
        assert bool(outcome.events and not outcome.replayed) == lapses, (path, today)

    @rule()
    def retry_the_last_accepted_command(self) -> None:
        """A retry under the same idempotency key answers as before and records nothing."""
        if self.last is None:
            return
        command, key, data = self.last
        position = self.ledger.recorder.max_notification_id()
        assert run(self.ledger, command, key=key, **data).replayed
        assert self.ledger.recorder.max_notification_id() == position

    def observe(self, state: dict[str, Any]) -> Any:
        """What the rules determine of an entity's state in the read model."""
        raise NotImplementedError

    def expect(self, model: Any) -> Any:
        """The same, from the rules' model."""
        raise NotImplementedError

    def teardown(self) -> None:
        projector = self.store.projector
        projector.catch_up()
        for path, model in self.model.items():
            live = entity(projector.view, path)
            logged = self.ledger.read_entity(path, 2**31)
            folded = fold(Change.from_logged(e, orjson.loads(e.state)) for e in logged)
            assert orjson.loads(orjson.dumps(folded)) == live, path
            assert self.observe(live) == self.expect(model), path


# -- commitments -------------------------------------------------------------------------------

CLOSED = {"kept", "partially_kept", "broken", "withdrawn"}


@dataclass
class Pledge(Dated):
    status: str = "pledged"
    before_lapse: str = "pledged"


class CommitmentLifecycle(LedgerMachine):
    """pledged -> in_progress <-> stalled -> kept | partially_kept | broken; withdrawn; lapsed
    when the due date passes unmet, and open again when it is extended."""

    commitments = Bundle("commitments")

    @few
    @rule(target=commitments, due=st.sampled_from(DATES))
    def pledge(self, due: str) -> str:
        ref = self.new_ref()
        self.attempt("pledge_commitment", None, id=ref, party="HRV", provisions=["VAP:14"],
                     text="Destroy the stockpile", due_on=due)
        self.model[f"commitments/{ref}"] = Pledge(due)
        return ref

    @rule(ref=commitments)
    def pledge_a_taken_id(self, ref: str) -> None:
        self.attempt("pledge_commitment", errors.AlreadyExists, id=ref, party="HRV",
                     provisions=["VAP:14"], text="Again", due_on=DATES[0])

    @few
    @rule(party=st.sampled_from(["HRV", "LAO"]), provision=st.sampled_from(["VAP:14", "VAP:99"]))
    def pledge_with_references(self, party: str, provision: str) -> None:
        refusal = (errors.PartyNotFound if party == "LAO" else
                   errors.ProvisionNotFound if provision == "VAP:99" else None)
        ref = self.new_ref()
        self.attempt("pledge_commitment", refusal, id=ref, party=party, provisions=[provision],
                     text="Clear the land", due_on=DATES[1])
        if refusal is None:
            self.model[f"commitments/{ref}"] = Pledge(DATES[1])

    def step(self, ref: str, command: str, **data: Any) -> Pledge | None:
        """Run a step on an open commitment; None when the rules refuse it as closed."""
        pledge = self.model[f"commitments/{ref}"]
        closed = pledge.status in CLOSED
        self.attempt(command, errors.CommitmentAlreadyClosed if closed else None,
                     commitment=ref, **data)
        return None if closed else pledge

    @rule(ref=commitments, status=st.sampled_from(["in_progress", "stalled"]))
    def report_progress(self, ref: str, status: str) -> None:
        if pledge := self.step(ref, "report_progress", status=status):
            pledge.status = status

    @rule(ref=commitments, due=st.sampled_from(DATES))
    def extend_due_date(self, ref: str, due: str) -> None:
        if pledge := self.step(ref, "extend_due_date", due_on=due, reason="agreed"):
            pledge.due = due
            if pledge.status == "lapsed":
                pledge.status = pledge.before_lapse

    @rule(ref=commitments, outcome=st.sampled_from(["kept", "partially_kept", "broken"]))
    def assess(self, ref: str, outcome: str) -> None:
        if pledge := self.step(ref, "assess_commitment", outcome=outcome, assessor="independent",
                               assessed_by="CMC"):
            pledge.status = outcome

    @rule(ref=commitments)
    def withdraw(self, ref: str) -> None:
        if pledge := self.step(ref, "withdraw_commitment", reason="a new government"):
            pledge.status = "withdrawn"

    @rule(ref=commitments, today=st.sampled_from(TODAYS))
    def tick(self, ref: str, today: str) -> None:
        pledge = self.model[f"commitments/{ref}"]
        lapses = pledge.lapses(today, pledge.status not in CLOSED | {"lapsed"})
        self.lapse(f"commitments/{ref}", today, lapses)
        if lapses:
            pledge.before_lapse, pledge.status = pledge.status, "lapsed"
            pledge.lapsed.add(pledge.due)

    @rule(command=st.sampled_from(["report_progress", "withdraw_commitment"]))
    def step_on_an_unknown_commitment(self, command: str) -> None:
        data = {"status": "stalled"} if command == "report_progress" else {"reason": "none"}
        self.attempt(command, errors.CommitmentNotFound, commitment=self.new_ref(), **data)

    def observe(self, state: dict[str, Any]) -> Any:
        return state["status"], state["due_on"]

    def expect(self, model: Pledge) -> Any:
        return model.status, model.due


def test_commitments_follow_their_lifecycle(store):
    check(CommitmentLifecycle, store)


# -- obligations -------------------------------------------------------------------------------


@dataclass
class Duty(Dated):
    completed: bool = False
    pending: str | None = None
    requests: int = 0


class ObligationLifecycle(LedgerMachine):
    """open -> (extension requested -> granted | refused)* -> completed; a completed obligation
    takes no further step; lapsed (once per deadline) when overdue."""

    obligations = Bundle("obligations")

    @few
    @rule(target=obligations, deadline=st.sampled_from(DATES))
    def declare(self, deadline: str) -> str:
        ref = self.new_ref()
        self.attempt("declare_obligation", None, id=ref, party="HRV", provision="CCM:3",
                     kind="stockpile_destruction", description="Destroy 1,000 munitions",
                     deadline=deadline)
        self.model[f"obligations/{ref}"] = Duty(deadline)
        return ref

    def step(self, ref: str, command: str, needs_pending: bool | None, **data: Any) -> Duty | None:
        duty = self.model[f"obligations/{ref}"]
        refusal = (errors.ObligationAlreadyCompleted if duty.completed else
                   errors.NoExtensionPending if needs_pending and duty.pending is None else
                   errors.ExtensionAlreadyPending if needs_pending is False and duty.pending
                   else None)
        self.attempt(command, refusal, obligation=ref, **data)
        return None if refusal else duty

    @rule(ref=obligations)
    def report_progress(self, ref: str) -> None:
        self.step(ref, "report_obligation_progress", None, summary="half destroyed")

    @rule(ref=obligations, deadline=st.sampled_from(DATES))
    def request_extension(self, ref: str, deadline: str) -> None:
        if duty := self.step(ref, "request_extension", False, requested_deadline=deadline,
                             reason="funding"):
            duty.pending, duty.requests = deadline, duty.requests + 1

    @rule(ref=obligations, deadline=st.sampled_from(DATES))
    def grant_extension(self, ref: str, deadline: str) -> None:
        if duty := self.step(ref, "grant_extension", True, deadline=deadline):
            duty.pending, duty.due = None, deadline

    @rule(ref=obligations)
    def refuse_extension(self, ref: str) -> None:
        if duty := self.step(ref, "refuse_extension", True, reason="no plan"):
            duty.pending = None

    @rule(ref=obligations)
    def declare_completion(self, ref: str) -> None:
        if duty := self.step(ref, "declare_completion", None):
            duty.completed = True

    @rule(ref=obligations, today=st.sampled_from(TODAYS))
    def tick(self, ref: str, today: str) -> None:
        duty = self.model[f"obligations/{ref}"]
        lapses = duty.lapses(today, not duty.completed)
        self.lapse(f"obligations/{ref}", today, lapses)
        if lapses:
            duty.lapsed.add(duty.due)

    @rule()
    def complete_an_unknown_obligation(self) -> None:
        self.attempt("declare_completion", errors.ObligationNotFound, obligation=self.new_ref())

    def observe(self, state: dict[str, Any]) -> Any:
        pending = bool(state["extensions"]) and state["extensions"][-1]["decision"] is None
        return state["completed"], state["due_on"], pending, len(state["extensions"])

    def expect(self, model: Duty) -> Any:
        return model.completed, model.due, model.pending is not None, model.requests


def test_obligations_follow_their_lifecycle(store):
    check(ObligationLifecycle, store)


# -- reports -----------------------------------------------------------------------------------


@dataclass
class Filing(Dated):
    submitted: bool = False
    amendments: int = 0


class ReportLifecycle(LedgerMachine):
    """registered with a due date (or created by its submission) -> submitted once -> amended;
    lapsed when its due date passes unsubmitted."""

    periods = Bundle("periods")

    def path(self, period: str) -> str:
        return f"reports/CCM-HRV-annual-{period}"

    @few
    @rule(target=periods)
    def new_period(self) -> str:
        return self.new_ref()

    @rule(period=periods, due=st.sampled_from(DATES))
    def schedule(self, period: str, due: str) -> None:
        known = self.path(period) in self.model
        self.attempt("schedule_report", errors.AlreadyExists if known else None, party="HRV",
                     instrument="CCM", kind="annual", period=period, due_on=due)
        self.model.setdefault(self.path(period), Filing(due))

    @rule(period=periods, received=st.sampled_from(DATES))
    def submit(self, period: str, received: str) -> None:
        filing = self.model.get(self.path(period))
        submitted = filing is not None and filing.submitted
        self.attempt("submit_report", errors.ReportAlreadySubmitted if submitted else None,
                     party="HRV", instrument="CCM", kind="annual", period=period,
                     received_on=received)
        self.model.setdefault(self.path(period), Filing(None)).submitted = True

    @rule(period=periods)
    def amend(self, period: str) -> None:
        filing = self.model.get(self.path(period))
        refusal = (errors.ReportNotFound if filing is None else
                   errors.ReportNotSubmitted if not filing.submitted else None)
        self.attempt("amend_report", refusal, report=self.path(period).partition("/")[2],
                     received_on=DATES[2], summary="corrected figures")
        if refusal is None:
            filing.amendments += 1

    @rule(period=periods, today=st.sampled_from(TODAYS))
    def tick(self, period: str, today: str) -> None:
        filing = self.model.get(self.path(period))
        if filing is None:
            return
        if filing.due is None:  # created by its submission: it has no due date to pass
            with pytest.raises(errors.InvalidValue):
                self.ledger.record_lapse(self.path(period), today)
            return
        lapses = filing.lapses(today, not filing.submitted)
        self.lapse(self.path(period), today, lapses)
        if lapses:
            filing.lapsed.add(filing.due)

    def observe(self, state: dict[str, Any]) -> Any:
        return state["due_on"], state["received_on"] is not None, len(state["amendments"])

    def expect(self, model: Filing) -> Any:
        return model.due, model.submitted, model.amendments


def test_reports_follow_their_lifecycle(store):
    check(ReportLifecycle, store)


# -- allegations -------------------------------------------------------------------------------

#: each step, the states it may be taken from, and the state it leads to (None: stays)
STEPS: dict[str, tuple[set[str], str | None]] = {
    "open_review": ({"filed"}, "under_review"),
    "request_clarification": ({"under_review", "response_received", "investigation"},
                              "clarification_requested"),
    "receive_response": ({"clarification_requested"}, "response_received"),
    "open_investigation": ({"under_review", "response_received"}, "investigation"),
    "issue_finding": ({"under_review", "response_received", "investigation"}, None),
    "resolve_allegation": ({"under_review", "clarification_requested", "response_received",
                            "investigation"}, "resolved"),
    "reopen_allegation": ({"resolved"}, "under_review"),
}
STEP_DATA: dict[str, dict[str, Any]] = {
    "open_review": {}, "request_clarification": {"summary": "which area?"},
    "receive_response": {"summary": "the north"}, "open_investigation": {"summary": "a visit"},
    "issue_finding": {"finding": "not credible", "issued_by": "Committee"},
    "resolve_allegation": {"outcome": "not_credible"}, "reopen_allegation": {"reason": "new evidence"},
}


@dataclass
class Case:
    state: str = "filed"
    findings: int = 0


class AllegationLifecycle(LedgerMachine):
    """filed -> under_review -> (clarification_requested <-> response_received) -> investigation
    -> resolved; reopened -> under_review. A resolved allegation takes only a reopening."""

    allegations = Bundle("allegations")

    @few
    @rule(target=allegations)
    def file(self) -> str:
        ref = self.new_ref()
        self.attempt("file_allegation", None, id=ref, against="HRV", provision="CCM:3",
                     filed_by="CMC", summary="alleged use")
        self.model[f"allegations/{ref}"] = Case()
        return ref

    @rule()
    def file_against_an_unknown_party(self) -> None:
        self.attempt("file_allegation", errors.PartyNotFound, id=self.new_ref(), against="SSD",
                     provision="CCM:3", filed_by="CMC", summary="alleged use")

    @rule(ref=allegations, data=st.data())
    def take_a_step_the_rules_allow(self, ref: str, data: st.DataObject) -> None:
        state = self.model[f"allegations/{ref}"].state
        self.take(ref, data.draw(st.sampled_from(
            sorted(step for step, (allowed, _) in STEPS.items() if state in allowed))))

    @rule(ref=allegations | st.just("unknown"), step=st.sampled_from(sorted(STEPS)))
    def take_any_step(self, ref: str, step: str) -> None:
        self.take(ref, step)

    def take(self, ref: str, step: str) -> None:
        case = self.model.get(f"allegations/{ref}")
        allowed, after = STEPS[step]
        refusal = (errors.AllegationNotFound if case is None else
                   None if case.state in allowed else
                   errors.AllegationAlreadyResolved if case.state == "resolved" else
                   errors.IllegalAllegationStep)
        self.attempt(step, refusal, allegation=ref, **STEP_DATA[step])
        if refusal is None:
            case.state = after or case.state
            case.findings += step == "issue_finding"

    def observe(self, state: dict[str, Any]) -> Any:
        return state["state"], state["outcome"], len(state["findings"])

    def expect(self, model: Case) -> Any:
        outcome = "not_credible" if model.state == "resolved" else None
        return model.state, outcome, model.findings


def test_allegations_follow_their_lifecycle(store):
    check(AllegationLifecycle, store)


# -- funding -----------------------------------------------------------------------------------


@dataclass
class Grant:
    currency: str
    disbursed: Decimal = Decimal(0)


class FundingLifecycle(LedgerMachine):
    """pledged by a registered donor in one currency -> disbursed in that currency, any times."""

    fundings = Bundle("fundings")

    @few
    @rule(target=fundings, currency=st.sampled_from(["USD", "EUR"]))
    def pledge(self, currency: str) -> str:
        ref = self.new_ref()
        self.attempt("pledge_funding", None, id=ref, donor="HRV", amount="430700000",
                     currency=currency)
        self.model[f"fundings/{ref}"] = Grant(currency)
        return ref

    @rule()
    def pledge_from_an_unknown_donor(self) -> None:
        self.attempt("pledge_funding", errors.PartyNotFound, id=self.new_ref(), donor="LAO",
                     amount="1000", currency="USD")

    @rule(ref=fundings, amount=st.sampled_from(["1000", "2500.50", "0.01"]),
          currency=st.sampled_from(["USD", "EUR"]))
    def disburse(self, ref: str, amount: str, currency: str) -> None:
        grant = self.model[f"fundings/{ref}"]
        mismatch = currency != grant.currency
        self.attempt("disburse_funding", errors.CurrencyMismatch if mismatch else None,
                     funding=ref, amount=amount, currency=currency)
        if not mismatch:
            grant.disbursed += Decimal(amount)

    @rule()
    def disburse_an_unknown_funding(self) -> None:
        self.attempt("disburse_funding", errors.FundingNotFound, funding=self.new_ref(),
                     amount="1", currency="USD")

    def observe(self, state: dict[str, Any]) -> Any:
        return state["currency"], Decimal(state["disbursed"])

    def expect(self, model: Grant) -> Any:
        return model.currency, model.disbursed


def test_fundings_follow_their_lifecycle(store):
    check(FundingLifecycle, store)


# -- parties and instruments -------------------------------------------------------------------


class RegistryLifecycle(LedgerMachine):
    """Parties and instruments are registered once; a treaty status names both; an instrument's
    provision numbers are unique; an action plan's parent must exist."""

    parties = Bundle("parties")
    instruments = Bundle("instruments")

    @few
    @rule(target=parties)
    def register_party(self) -> str:
        code = f"ORG-{self.new_ref().upper()}"
        self.attempt("register_party", None, code=code, name="A monitor", kind="organisation")
        self.model[f"parties/{code}"] = {}
        return code

    @rule(code=parties)
    def register_a_taken_party(self, code: str) -> None:
        self.attempt("register_party", errors.AlreadyExists, code=code, name="Again",
                     kind="organisation")

    @few
    @rule(target=instruments, parent=st.sampled_from([None, "CCM", "NOPE"]))
    def register_instrument(self, parent: str | None) -> str:
        code = f"I-{self.new_ref().upper()}"
        refusal = errors.InstrumentNotFound if parent == "NOPE" else None
        self.attempt("register_instrument", refusal, code=code, title="A plan",
                     kind="treaty" if parent is None else "action_plan", parent=parent)
        if refusal is None:
            self.model[f"instruments/{code}"] = set()
        return code

    @rule(code=instruments, number=st.sampled_from(["1", "2", "14"]))
    def add_provision(self, code: str, number: str) -> None:
        provisions = self.model.get(f"instruments/{code}")
        refusal = (errors.InstrumentNotFound if provisions is None else
                   errors.AlreadyExists if number in provisions else None)
        self.attempt("add_provision", refusal, instrument=code, number=number, kind="action",
                     title="An action")
        if refusal is None:
            provisions.add(number)

    @rule(party=parties | st.just("LAO"), instrument=instruments | st.just("CCM"),
          status=st.sampled_from(["signed", "ratified", "withdrew"]))
    def change_treaty_status(self, party: str, instrument: str, status: str) -> None:
        statuses = self.model.get(f"parties/{party}")
        refusal = (errors.PartyNotFound if statuses is None else
                   errors.InstrumentNotFound if instrument != "CCM"
                   and f"instruments/{instrument}" not in self.model else None)
        self.attempt("change_treaty_status", refusal, party=party, instrument=instrument,
                     status=status, on=DATES[0])
        if refusal is None:
            statuses[instrument] = status

    def observe(self, state: dict[str, Any]) -> Any:
        if state["kind"] == "parties":
            return {code: entry["status"] for code, entry in state["statuses"].items()}
        return set(state["provisions"])

    def expect(self, model: Any) -> Any:
        return model


def test_parties_and_instruments_follow_their_rules(store):
    check(RegistryLifecycle, store)



# -- the rules judge what the record now says -----------------------------------------------


def test_a_retracted_withdrawal_no_longer_closes_the_commitment(store):
    run(store.ledger, "pledge_commitment", id="c1", party="HRV", provisions=["VAP:14"],
        text="Destroy the stockpile", due_on=DATES[2])
    withdrawal = run(store.ledger, "withdraw_commitment", commitment="c1", reason="a mistake")
    run(store.ledger, "retract_entry", entity="commitments/c1", event=withdrawal.events[0],
        reason="recorded against the wrong commitment")
    store.projector.catch_up()
    assert entity(store.projector.view, "commitments/c1")["status"] == "pledged"
    run(store.ledger, "report_progress", commitment="c1", status="in_progress")


def test_a_corrected_currency_is_the_one_disbursements_must_use(store):
    pledge = run(store.ledger, "pledge_funding", id="f1", donor="HRV", amount="100",
                 currency="EUR", purpose="Stockpile destruction")
    run(store.ledger, "correct_entry", entity="fundings/f1", event=pledge.events[0],
        fields={"currency": "USD"}, reason="the report gives dollars")
    with pytest.raises(errors.CurrencyMismatch):
        run(store.ledger, "disburse_funding", funding="f1", amount="10", currency="EUR")
    run(store.ledger, "disburse_funding", funding="f1", amount="10", currency="USD")
    store.projector.catch_up()
    assert entity(store.projector.view, "fundings/f1")["disbursed"] == "10"


@pytest.mark.parametrize(("command", "data", "field", "value"), [
    ("pledge_commitment", {"id": "c1", "party": "HRV", "provisions": ["VAP:14"], "text": "t",
                           "due_on": DATES[2]}, "due_on", 5),
    ("pledge_commitment", {"id": "c1", "party": "HRV", "provisions": ["VAP:14"], "text": "t",
                           "due_on": DATES[2]}, "due_on", "2012-02-30"),
    ("pledge_funding", {"id": "f1", "donor": "HRV", "amount": "100", "currency": "EUR"},
     "amount", "1e3"),
    ("pledge_funding", {"id": "f1", "donor": "HRV", "amount": "100", "currency": "EUR"},
     "currency", ["EUR"]),
])
def test_a_corrected_value_keeps_the_form_of_its_field(store, command, data, field, value):
    """The rules read corrected values: a due date corrected to a number would break the
    deadline tick, an amount in another form every sum."""
    created = run(store.ledger, command, **data)
    path = created.result
    before = log(store.ledger)
    with pytest.raises(errors.InvalidValue) as refused:
        run(store.ledger, "correct_entry", entity=path, event=created.events[0],
            fields={field: value}, reason="a hostile correction")
    assert refused.value.field == "fields" and field in str(refused.value)
    assert log(store.ledger) == before
