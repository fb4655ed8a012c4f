"""The `Ledger` application: one public method per use case, each recorded atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal, NamedTuple, TypeVar
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from ledger import errors
from ledger.allegations import Allegation
from ledger.checkpoints import Checkpoint
from ledger.commitments import Commitment
from ledger.deadlines import Deadlined
from ledger.entity import Entity, Provenance, aggregate_id, provenance
from ledger.funding import Funding
from ledger.instruments import Instrument
from ledger.obligations import Obligation
from ledger.parties import Party
from ledger.receipts import Receipt
from ledger.reports import Report, report_ref
from ledger.statements import Statement
from ledger.storage import (
    EventStateTranscoder,
    canonical_json,
    persistence_env,
    refuse_changes_to_events,
    schema_lock,
)

E = TypeVar("E", bound=Entity)


def _dashed(hex_: str) -> str:
    """A UUID's 32 hex digits in its usual printed form."""
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


def replay(entity: E | None, events: Iterable[Any]) -> E | None:
    """An entity from its events, as eventsourcing's own `project_aggregate` makes it but
    without asserting each event against a runtime-checkable protocol: on Python 3.11 that
    check took more than half the time of loading an instrument of 50 events."""
    for event in events:
        entity = event.mutate(entity)
    return entity


def kept_changing(command: str) -> errors.VersionConflict:
    """The refusal of a command overtaken by concurrent writes on every attempt."""
    return errors.VersionConflict(
        f"{command}: the entity kept changing under concurrent writes; try again")


class Logged(NamedTuple):
    """A stored event at its position in the log, as read back in bulk."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


ENTITY_CLASSES: dict[str, type[Entity]] = {
    cls.kind: cls
    for cls in (Party, Instrument, Commitment, Funding, Obligation, Report, Allegation, Statement)
}
NOT_FOUND: dict[str, type[errors.NotFound]] = {
    "parties": errors.PartyNotFound,
    "instruments": errors.InstrumentNotFound,
    "commitments": errors.CommitmentNotFound,
    "fundings": errors.FundingNotFound,
    "obligations": errors.ObligationNotFound,
    "reports": errors.ReportNotFound,
    "allegations": errors.AllegationNotFound,
    "statements": errors.StatementNotFound,
}
#: how often a command is retried when a concurrent writer got to its entity first
WRITE_ATTEMPTS = 3


@dataclass
class Outcome:
    """What a command did: the entity it concerns, the events recorded, and whether it was a
    retry of a command already recorded under the same idempotency key."""

    command: str
    result: str
    events: list[str] = field(default_factory=list)
    replayed: bool = False
    #: log position of the last event recorded (0 when replayed or nothing was recorded)
    position: int = 0


@dataclass
class _Run:
    command: str
    key: str | None
    digest: str
    expected: tuple[str, int] | None
    outcome: Outcome | None = None


_run: ContextVar[_Run | None] = ContextVar("ledger_run", default=None)


class Command(NamedTuple):
    """One command of a batch, as `Ledger.execute` takes it."""

    name: str
    data: dict[str, Any]
    provenance: Provenance
    key: str | None = None
    #: an entity path and the version the caller last saw (HTTP If-Match)
    expected: tuple[str, int] | None = None


#: the command fields that name an entity, and its kind
NAMING_FIELDS = {
    "party": "parties", "donor": "parties", "recipient": "parties", "against": "parties",
    "instrument": "instruments", "parent": "instruments", "commitment": "commitments",
    "funding": "fundings", "obligation": "obligations", "report": "reports",
    "allegation": "allegations",
}
#: the fields that name provisions (`VAP:12`), each of an instrument
PROVISION_FIELDS = ("provision", "provisions", "covers")
#: the commands that create an entity, named by their `id` or `code`, and its kind
CREATING = {
    "register_party": "parties", "register_instrument": "instruments",
    "pledge_commitment": "commitments", "pledge_funding": "fundings",
    "declare_obligation": "obligations", "file_allegation": "allegations",
    "record_statement": "statements",
}


def named_paths(command: Command) -> Iterator[str]:
    """The entity paths a command's data names (and its receipt's): what it will likely load
    or check is new. Only a hint for reading them at once: a path it misses is read when asked
    for, and one that names no entity only lengthens the query."""
    data = command.data
    if command.key is not None:
        yield f"{Receipt.kind}/{command.key}"
    if (kind := CREATING.get(command.name)) and isinstance(ref := data.get("id", data.get("code")),
                                                          str):
        yield f"{kind}/{ref}"
    for name, kind in NAMING_FIELDS.items():
        if isinstance(ref := data.get(name), str):
            yield f"{kind}/{ref}"
    for name in PROVISION_FIELDS:
        value = data.get(name)
        for provision in [value] if isinstance(value, str) else value or ():
            if isinstance(provision, str):
                yield f"instruments/{provision.partition(':')[0]}"
    if command.name in ("correct_entry", "retract_entry") and isinstance(data.get("entity"), str):
        yield data["entity"]


@dataclass
class _Batch:
    """Commands checked in turn against what the earlier ones left; their events held back."""

    #: every entity the batch has read or changed, as the batch left it
    entities: dict[UUID, Entity] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    #: each outcome with its last event, whose log position it takes once saved
    outcomes: list[tuple[Outcome, Any]] = field(default_factory=list)
    #: the entities (and receipts) that the commands name and that were not stored when the
    #: batch began (looked up at once, with those that were)
    absent: frozenset[UUID] = frozenset()


_batch: ContextVar[_Batch | None] = ContextVar("ledger_batch", default=None)


def command_digest(command: str, data: dict[str, Any], prov: Provenance) -> str:
    """SHA-256 of what a command asks for, to tell a true retry from a reused key."""
    body = {
        "command": command, "data": data, "effective_on": prov.effective_on,
        "sources": list(prov.sources), "note": prov.note,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


class Ledger(Application):
    """Commands in, immutable events out. Queries of current state live in `projections`."""

    name = "Ledger"

    def __init__(self, database_url: str) -> None:
        with schema_lock(database_url):
            super().__init__(env=persistence_env(database_url))
            refuse_changes_to_events(self.recorder)

    def construct_transcoder(self) -> EventStateTranscoder:
        return EventStateTranscoder()

    # -- running commands ------------------------------------------------------------------

    COMMANDS: frozenset[str] = frozenset({
        "register_party", "change_treaty_status", "register_instrument", "add_provision",
        "pledge_commitment", "report_progress", "extend_due_date", "assess_commitment",
        "withdraw_commitment", "pledge_funding", "disburse_funding", "declare_obligation",
        "report_obligation_progress", "request_extension", "grant_extension",
        "refuse_extension", "declare_completion", "schedule_report", "submit_report",
        "amend_report", "file_allegation", "open_review", "request_clarification",
        "receive_response", "open_investigation", "issue_finding", "resolve_allegation",
        "reopen_allegation", "add_statement_code", "record_statement", "correct_entry",
        "retract_entry",
    })

    def execute(
        self,
        command: str,
        data: dict[str, Any],
        *,
        provenance_: Provenance,
        key: str | None = None,
        expected: tuple[str, int] | None = None,
    ) -> Outcome:
        """Run one command under its provenance; a known `key` replays the first outcome.

        `expected` is an entity path and the version the caller last saw (HTTP If-Match).
        """
        [result] = self.execute_all([Command(command, data, provenance_, key, expected)])
        if isinstance(result, errors.LedgerError):
            raise result
        return result

    def execute_all(
        self, commands: Sequence[Command], *, save: Literal["all", "accepted", "none"] = "all"
    ) -> list[Outcome | errors.LedgerError]:
        """Run commands in turn, each checked against the state the earlier ones leave, and
        save their events in one transaction: `all` or none if any is refused, the `accepted`
        ones, or `none` (only check). A refusal is returned in its command's place.

        The save checks the version of every entity the batch changes or creates: when another
        writer got to one first, nothing is saved and the whole batch is checked again. If that
        keeps happening, `accepted` carries the commands out one by one.
        """
        for _ in range(WRITE_ATTEMPTS):
            batch = self._prefetch(commands)
            token = _batch.set(batch)
            try:
                results = [self._attempt(command) for command in commands]
            finally:
                _batch.reset(token)
            refused = any(isinstance(result, errors.LedgerError) for result in results)
            if save == "none" or (save == "all" and refused) or not batch.events:
                return results
            try:
                recordings = self.save(*batch.events)
            except IntegrityError:
                continue  # a concurrent writer won; check every command again
            except PersistenceError as error:
                raise errors.StoreUnavailable(f"the event store failed: {error}") from None
            positions = {id(r.domain_event): r.notification.id for r in recordings}
            for outcome, last in batch.outcomes:
                outcome.position = positions[id(last)]
            return results
        if save == "accepted":
            return [self._attempt(command) for command in commands]
        if len(commands) == 1:
            raise kept_changing(commands[0].name)
        raise errors.VersionConflict("the batch kept meeting concurrent writes; try again")

    def _attempt(self, command: Command) -> Outcome | errors.LedgerError:
        try:
            if command.name not in self.COMMANDS:
                raise errors.InvalidValue(f"unknown command {command.name!r}", field="command")
            return self._run(command.name, getattr(self, command.name), command.data,
                             command.provenance, command.key, command.expected)
        except errors.StoreUnavailable:
            raise
        except errors.LedgerError as error:
            return error

    def record_lapse(self, path: str, today: str) -> Outcome:
        """Append `DeadlineLapsed` to an entity whose due date passed unmet before `today`.

        Idempotent: the key names the entity and the due date, and the aggregate refuses to
        lapse the same due date twice. Recorded by `ledger:tick`, effective the day after the
        due date.
        """
        target = self._load_path(path)
        if not isinstance(target, Deadlined) or target.due_on is None:
            raise errors.InvalidValue(f"{path} has no due date", field="entity")
        due_on = target.due_on
        lapsed = (date.fromisoformat(due_on) + timedelta(days=1)).isoformat()
        prov = Provenance(recorded_by="ledger:tick", effective_on=lapsed,
                          note=f"due {due_on}; not met by then")

        def lapse(path: str, due_on: str) -> None:
            entity = self._load_path(path)
            if isinstance(entity, Deadlined) and entity.lapse_if_due(today):
                self._commit(entity)

        key = f"tick/{path}/{due_on}"
        return self._run("record_lapse", lapse, {"path": path, "due_on": due_on}, prov, key, None)

    def record_checkpoint(
        self, origin: str, tree_size: int, root_hash: str, state_digest: str,
        verifier_key: str, signed_note: str,
    ) -> Outcome:
        """Record a signed checkpoint of the audit tree (recorded by `ledger:checkpoint`).
        Issuing the same checkpoint twice records it once."""
        data = {"origin": origin, "tree_size": tree_size, "root_hash": root_hash,
                "state_digest": state_digest, "verifier_key": verifier_key,
                "signed_note": signed_note}

        def issue(**fields: Any) -> None:
            self._check_new(Checkpoint, str(tree_size))
            self._commit(Checkpoint.issue(**fields))

        prov = Provenance(recorded_by="ledger:checkpoint")
        return self._run("record_checkpoint", issue, data, prov, f"checkpoint/{tree_size}", None)

    def _run(
        self, command: str, handler: Callable[..., Any], data: dict[str, Any], prov: Provenance,
        key: str | None, expected: tuple[str, int] | None,
    ) -> Outcome:
        digest = command_digest(command, data, prov)
        for _ in range(WRITE_ATTEMPTS):
            if key is not None and (replay := self._replay(key, command, digest)) is not None:
                return replay
            run = _Run(command=command, key=key, digest=digest, expected=expected)
            run_token, prov_token = _run.set(run), provenance.set(prov)
            try:
                handler(**data)
            except IntegrityError:
                continue  # a concurrent writer won; reload and check the rules again
            except errors.LedgerError:
                # a concurrent retry of this very command may have been recorded meanwhile
                if key is not None and (replay := self._replay(key, command, digest, True)):
                    return replay
                raise
            except PersistenceError as error:
                raise errors.StoreUnavailable(f"the event store failed: {error}") from None
            finally:
                _run.reset(run_token)
                provenance.reset(prov_token)
            return run.outcome or Outcome(command, result="")  # nothing needed recording
        raise kept_changing(command)

    def _prefetch(self, commands: Sequence[Command]) -> _Batch:
        """A new batch holding every entity that the commands name (`named_paths`) as stored
        now, and knowing which of them are not stored: read in one query per 500 entities,
        where each command would load them, and look for its receipt, one query at a time."""
        paths = sorted({path for command in commands for path in named_paths(command)})
        stored: dict[str, list[Any]] = {}
        for record in self.read_entities(paths, before=2**63 - 1):
            stored.setdefault(record.originator_id, []).append(self.domain_event(record))
        ids = [aggregate_id(path) for path in paths]
        return _Batch(
            entities={id_: replay(None, stored[str(id_)]) for id_ in ids if str(id_) in stored},
            absent=frozenset(id_ for id_ in ids if str(id_) not in stored))

    def _replay(self, key: str, command: str, digest: str, recheck: bool = False) -> Outcome | None:
        """The outcome recorded under `key` before, if any (a batch trusts what it looked up
        when it began, unless told to `recheck` the store)."""
        try:
            receipt = self._load(Receipt, key, recheck)
        except errors.NotFound:
            return None
        if receipt.digest != digest:
            raise errors.IdempotencyKeyReused(
                f"idempotency key {key!r} was used for a different {receipt.command} command"
            )
        return Outcome(receipt.command, receipt.result, list(receipt.events), replayed=True)

    def _commit(self, *entities: Entity) -> str:
        """Save the entities' new events, with the run's receipt, in one transaction (in a
        batch: hold them until the batch is saved)."""
        run = _run.get()
        if run is None:
            raise RuntimeError("commands are recorded through Ledger.execute")
        events: list[Any] = [event for entity in entities for event in entity.collect_events()]
        result = entities[0].path
        outcome = Outcome(run.command, result, [event.event_id for event in events])
        if run.key is not None:
            receipt = Receipt.issue(run.key, run.command, run.digest, result, outcome.events)
            events.extend(receipt.collect_events())
            entities = (*entities, receipt)
        if (batch := _batch.get()) is not None:
            # aggregates check before they record, so a later refusal leaves these as they are
            batch.entities.update((entity.id, entity) for entity in entities)
            batch.events.extend(events)
            if events:
                batch.outcomes.append((outcome, events[-1]))
        else:
            recordings = self.save(*events)
            outcome.position = recordings[-1].notification.id if recordings else 0
        run.outcome = outcome
        return result

    def _load(self, cls: type[E], ref: str, recheck: bool = False) -> E:
        """The entity as the batch holds or left it, or else as stored (`recheck`: even if it
        was not stored when the batch began)."""
        path, batch = f"{cls.kind}/{ref}", _batch.get()
        id_ = aggregate_id(path)
        held = batch.entities.get(id_) if batch is not None else None
        try:
            if held is None and batch is not None and id_ in batch.absent and not recheck:
                raise AggregateNotFoundError(id_)
            entity = held if held is not None else self.repository.get(id_, projector_func=replay)
            if batch is not None:
                batch.entities[entity.id] = entity
        except AggregateNotFoundError:
            error = NOT_FOUND.get(cls.kind, errors.NotFound)
            raise error(f"{path} is not in the ledger") from None
        except PersistenceError as error:
            raise errors.StoreUnavailable(f"the event store failed: {error}") from None
        run = _run.get()
        if run is not None and run.expected is not None and run.expected[0] == path:
            if entity.version != run.expected[1]:
                raise errors.StaleVersion(
                    f"{path} is at version {entity.version}, not {run.expected[1]}"
                )
        return entity

    def _check_new(self, cls: type[Entity], ref: str) -> None:
        """Refuse to create an entity whose id is taken."""
        id_, batch = aggregate_id(f"{cls.kind}/{ref}"), _batch.get()
        if batch is not None and id_ in batch.entities or \
                (batch is None or id_ not in batch.absent) and id_ in self.repository:
            raise errors.AlreadyExists(f"{cls.kind}/{ref} already exists")

    def _check_party(self, code: str, field_name: str = "party") -> None:
        try:
            self._load(Party, code)
        except errors.PartyNotFound as error:
            raise errors.PartyNotFound(str(error), field=field_name) from None

    def _check_provisions(self, provisions: Sequence[str], field_name: str = "provisions") -> None:
        for provision in provisions:
            instrument_code, _, number = provision.partition(":")
            try:
                self._load(Instrument, instrument_code).check_provision(number)
            except (errors.InstrumentNotFound, errors.ProvisionNotFound) as error:
                raise errors.ProvisionNotFound(str(error), field=field_name) from None

    # -- parties and instruments -----------------------------------------------------------

    def register_party(self, code: str, name: str, kind: str) -> str:
        self._check_new(Party, code)
        return self._commit(Party.register(code, name, kind))

    def change_treaty_status(self, party: str, instrument: str, status: str, on: str) -> str:
        entity = self._load(Party, party)
        self._load(Instrument, instrument)
        entity.change_treaty_status(instrument, status, on)
        return self._commit(entity)

    def register_instrument(
        self, code: str, title: str, kind: str, parent: str | None = None,
        adopted_on: str | None = None,
    ) -> str:
        self._check_new(Instrument, code)
        if parent is not None:
            try:
                self._load(Instrument, parent)
            except errors.InstrumentNotFound as error:
                raise errors.InstrumentNotFound(str(error), field="parent") from None
        return self._commit(Instrument.register(code, title, kind, parent, adopted_on))

    def add_provision(
        self, instrument: str, number: str, kind: str, title: str, text: str | None = None,
        area: str | None = None,
    ) -> str:
        entity = self._load(Instrument, instrument)
        entity.add_provision(number, kind, title, text, area)
        return self._commit(entity)

    # -- commitments and funding -----------------------------------------------------------

    def pledge_commitment(
        self, id: str, party: str, provisions: list[str], text: str,
        due_on: str | None = None, target: str | None = None,
    ) -> str:
        self._check_new(Commitment, id)
        self._check_party(party)
        self._check_provisions(provisions)
        return self._commit(Commitment.pledge(id, party, provisions, text, target, due_on))

    def report_progress(
        self, commitment: str, status: str, quantities: dict[str, float] | None = None,
        summary: str | None = None,
    ) -> str:
        entity = self._load(Commitment, commitment)
        entity.report_progress(status, quantities or {}, summary)
        return self._commit(entity)

    def extend_due_date(self, commitment: str, due_on: str, reason: str) -> str:
        entity = self._load(Commitment, commitment)
        entity.extend_due_date(due_on, reason)
        return self._commit(entity)

    def assess_commitment(
        self, commitment: str, outcome: str, assessor: str, assessed_by: str
    ) -> str:
        entity = self._load(Commitment, commitment)
        entity.assess(outcome, assessor, assessed_by)
        return self._commit(entity)

    def withdraw_commitment(self, commitment: str, reason: str) -> str:
        entity = self._load(Commitment, commitment)
        entity.withdraw(reason)
        return self._commit(entity)

    def pledge_funding(
        self, id: str, donor: str, amount: Decimal, currency: str, recipient: str | None = None,
        purpose: str | None = None, period: str | None = None,
        provisions: list[str] | None = None,
    ) -> str:
        self._check_new(Funding, id)
        self._check_party(donor, "donor")
        if recipient is not None:
            self._check_party(recipient, "recipient")
        self._check_provisions(provisions or [])
        return self._commit(
            Funding.pledge(id, donor, recipient, amount, currency, purpose, period, provisions or [])
        )

    def disburse_funding(self, funding: str, amount: Decimal, currency: str) -> str:
        entity = self._load(Funding, funding)
        entity.disburse(amount, currency)
        return self._commit(entity)

    # -- obligations -----------------------------------------------------------------------

    def declare_obligation(
        self, id: str, party: str, provision: str, kind: str, description: str,
        deadline: str | None = None, quantities: dict[str, float] | None = None,
    ) -> str:
        self._check_new(Obligation, id)
        self._check_party(party)
        self._check_provisions([provision], "provision")
        return self._commit(
            Obligation.declare(id, party, provision, kind, description, quantities or {}, deadline)
        )

    def report_obligation_progress(
        self, obligation: str, summary: str, quantities: dict[str, float] | None = None
    ) -> str:
        entity = self._load(Obligation, obligation)
        entity.report_progress(quantities or {}, summary)
        return self._commit(entity)

    def request_extension(self, obligation: str, requested_deadline: str, reason: str) -> str:
        entity = self._load(Obligation, obligation)
        entity.request_extension(requested_deadline, reason)
        return self._commit(entity)

    def grant_extension(self, obligation: str, deadline: str) -> str:
        entity = self._load(Obligation, obligation)
        entity.grant_extension(deadline)
        return self._commit(entity)

    def refuse_extension(self, obligation: str, reason: str) -> str:
        entity = self._load(Obligation, obligation)
        entity.refuse_extension(reason)
        return self._commit(entity)

    def declare_completion(self, obligation: str) -> str:
        entity = self._load(Obligation, obligation)
        entity.declare_completion()
        return self._commit(entity)

    # -- reports ---------------------------------------------------------------------------

    def schedule_report(
        self, party: str, instrument: str, kind: str, period: str, due_on: str
    ) -> str:
        self._check_new(Report, report_ref(instrument, party, kind, period))
        self._check_party(party)
        self._load(Instrument, instrument)
        return self._commit(Report.register(party, instrument, kind, period, due_on))

    def submit_report(
        self, party: str, instrument: str, kind: str, period: str, received_on: str,
        document: str | None = None, url: str | None = None, covers: list[str] | None = None,
        summary: str | None = None,
    ) -> str:
        self._check_party(party)
        self._load(Instrument, instrument)
        self._check_provisions(covers or [], "covers")
        try:
            entity = self._load(Report, report_ref(instrument, party, kind, period))
        except errors.ReportNotFound:
            entity = Report.register(party, instrument, kind, period, None)
        entity.submit(received_on, document, url, covers or [], summary)
        return self._commit(entity)

    def amend_report(
        self, report: str, received_on: str, summary: str, document: str | None = None
    ) -> str:
        entity = self._load(Report, report)
        entity.amend(received_on, document, summary)
        return self._commit(entity)

    # -- allegations -----------------------------------------------------------------------

    def file_allegation(
        self, id: str, provision: str, filed_by: str, summary: str, against: str | None = None,
        place: str | None = None, occurred_on: str | None = None, evidence: str | None = None,
        territory: str | None = None,
    ) -> str:
        """`against` is left out when the source names no user; `territory` is the registered
        party where the use or breach was reported."""
        self._check_new(Allegation, id)
        if against is not None:
            self._check_party(against, "against")
        if territory is not None:
            self._check_party(territory, "territory")
        self._check_provisions([provision], "provision")
        return self._commit(Allegation.file(
            id, against, provision, filed_by, place, occurred_on, summary, evidence, territory))

    def open_review(self, allegation: str, summary: str | None = None) -> str:
        entity = self._load(Allegation, allegation)
        entity.open_review(summary)
        return self._commit(entity)

    def request_clarification(self, allegation: str, summary: str) -> str:
        entity = self._load(Allegation, allegation)
        entity.request_clarification(summary)
        return self._commit(entity)

    def receive_response(self, allegation: str, summary: str) -> str:
        entity = self._load(Allegation, allegation)
        entity.receive_response(summary)
        return self._commit(entity)

    def open_investigation(self, allegation: str, summary: str) -> str:
        entity = self._load(Allegation, allegation)
        entity.open_investigation(summary)
        return self._commit(entity)

    def issue_finding(self, allegation: str, finding: str, issued_by: str) -> str:
        entity = self._load(Allegation, allegation)
        entity.issue_finding(finding, issued_by)
        return self._commit(entity)

    def resolve_allegation(
        self, allegation: str, outcome: str, recommendation: str | None = None
    ) -> str:
        entity = self._load(Allegation, allegation)
        entity.resolve(outcome, recommendation)
        return self._commit(entity)

    def reopen_allegation(self, allegation: str, reason: str) -> str:
        entity = self._load(Allegation, allegation)
        entity.reopen(reason)
        return self._commit(entity)

    # -- what documents state ----------------------------------------------------------------

    def add_statement_code(
        self, instrument: str, code: str, label: str, area: str | None = None
    ) -> str:
        entity = self._load(Instrument, instrument)
        entity.add_statement_code(code, label, area)
        return self._commit(entity)

    def record_statement(
        self, id: str, instrument: str, code: str, text: str, party: str | None = None,
        described_as: str | None = None, provisions: list[str] | None = None,
        quantity: dict[str, str] | None = None, territory: str | None = None,
    ) -> str:
        """A statement's code must be registered on its instrument or one above it (a plan's
        treaty); a statement without a party but with a quantity is a document's own total."""
        self._check_new(Statement, id)
        self._check_code(instrument, code)
        if party is not None:
            self._check_party(party)
        if territory is not None:
            self._check_party(territory, "territory")
        self._check_provisions(provisions or [])
        return self._commit(Statement.record(
            id, instrument=instrument, code=code, party=party, described_as=described_as,
            provisions=provisions or [], quantity=quantity, territory=territory, text=text))

    def _check_code(self, instrument: str, code: str) -> None:
        """Find `code` on the instrument or up its chain of parents."""
        seen: list[str] = []
        current: str | None = instrument
        while current is not None and current not in seen:
            try:
                entity = self._load(Instrument, current)
            except errors.InstrumentNotFound as error:
                raise errors.InstrumentNotFound(str(error), field="instrument") from None
            if entity.has_code(code):
                return
            seen.append(current)
            current = entity.parent
        raise errors.StatementCodeNotFound(
            f"{code!r} is not a statement code of {' or '.join(seen)}; register it first "
            "with add_statement_code")

    # -- corrections -----------------------------------------------------------------------

    def correct_entry(self, entity: str, event: str, fields: dict[str, Any], reason: str) -> str:
        target = self._load_path(entity)
        target.correct(event, fields, reason)
        return self._commit(target)

    def retract_entry(self, entity: str, event: str, reason: str) -> str:
        target = self._load_path(entity)
        target.retract(event, reason)
        return self._commit(target)

    def _load_path(self, path: str) -> Entity:
        kind, _, ref = path.partition("/")
        cls = ENTITY_CLASSES.get(kind)
        if cls is None or not ref:
            raise errors.InvalidValue(
                f"{path!r} is not an entity path such as commitments/ID", field="entity"
            )
        try:
            return self._load(cls, ref)
        except errors.NotFound as error:
            raise type(error)(str(error), field="entity") from None

    # -- the log ---------------------------------------------------------------------------

    def read(self, after: int = 0, limit: int = 500) -> list[Logged]:
        """Stored events after log position `after`, in order (positions may have gaps).

        One plain SELECT per call, without eventsourcing's per-row objects: projections and
        exports read the whole log this way."""
        position = "notification_id" if self._postgres else "rowid"
        return self._select(f"{position} > ? ORDER BY {position} LIMIT ?", (after, limit))

    def read_entity(self, path: str, upto_version: int) -> list[Logged]:
        """The stored events of one entity up to a version, in order."""
        originator = aggregate_id(path)
        return self._select(
            "originator_id = ? AND originator_version <= ? ORDER BY originator_version",
            (str(originator) if self._postgres else originator.hex, upto_version),
        )

    def domain_event(self, record: Logged) -> Any:
        """A logged event as eventsourcing's mapper makes it into a domain event."""
        return self.mapper.to_domain_event(StoredEvent(
            UUID(record.originator_id), record.originator_version, record.topic, record.state))

    def read_entities(self, paths: Sequence[str], before: int) -> list[Logged]:
        """The stored events of several entities before log position `before`, each entity's
        in order (one SELECT per 500 entities)."""
        # the ids as one parameter, so that the query's text is the same for any number
        found: list[Logged] = []
        for start in range(0, len(paths), 500):
            ids = [aggregate_id(path) for path in paths[start:start + 500]]
            if self._postgres:
                where = "originator_id = ANY(string_to_array(?, ',')::uuid[]) AND notification_id"
                param = ",".join(str(id_) for id_ in ids)
            else:
                where = "originator_id IN (SELECT value FROM json_each(?)) AND rowid"
                param = orjson.dumps([id_.hex for id_ in ids]).decode()
            found += self._select(f"{where} < ? ORDER BY originator_id, originator_version",
                                  (param, before))
        return found

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Logged]:
        table = self.recorder.events_table_name
        try:
            with self.recorder.datastore.transaction(commit=False) as cursor:
                if self._postgres:
                    cursor.execute(
                        "SELECT notification_id AS id, originator_id::text AS originator_id, "
                        "originator_version, topic, state "
                        f'FROM "{self.recorder.datastore.schema}"."{table}" '
                        f"WHERE {where.replace('?', '%s')}", params)
                    return [Logged(**row) for row in cursor.fetchall()]
                cursor.execute("SELECT rowid, originator_id, originator_version, topic, state "
                               f"FROM {table} WHERE {where}", params)
                # eventsourcing keeps SQLite originator ids as 32 hex digits
                return [Logged(id_, _dashed(hex_), version, topic, state)
                        for id_, hex_, version, topic, state in cursor.fetchall()]
        except PersistenceError as error:
            raise errors.StoreUnavailable(f"the event store failed: {error}") from None

    @cached_property
    def _postgres(self) -> bool:
        return isinstance(self.recorder, PostgresApplicationRecorder)

    def read_all(self, batch: int = 500) -> Iterator[Logged]:
        """The whole log in order, fetched in batches."""
        after = 0
        while logged := self.read(after, batch):
            yield from logged
            after = logged[-1].id

    def is_empty(self) -> bool:
        return self.recorder.max_notification_id() is None

    def restore(self, stored_events: Iterator[StoredEvent], batch: int = 1000) -> int:
        """Append an exported log, unchanged, into an empty store; returns the count."""
        if not self.is_empty():
            raise errors.StoreNotEmpty("restore appends only into an empty store")
        count, pending = 0, []
        for stored_event in stored_events:
            pending.append(stored_event)
            if len(pending) == batch:
                self.recorder.insert_events(pending)
                count, pending = count + len(pending), []
        if pending:
            self.recorder.insert_events(pending)
            count += len(pending)
        return count
