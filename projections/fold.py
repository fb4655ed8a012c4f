"""Pure functions from events to entity state: the fold behind current state and both clocks.

An event here is a `Change`: the stored event's envelope and its own fields, read from the log.
The state of an entity is a JSON-ready dict; the same fold gives current state (all events),
"as known at" (events up to a log position) and "as effective on" (events effective by a date).
Corrections and retractions that are part of the folded events patch or drop the events they
name before the fold, so both clocks see corrected values while the log keeps the originals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

#: envelope keys of stored event state; everything else is the event's own fields
ENVELOPE = frozenset({
    "event_id", "entity", "recorded_by", "effective_on", "sources", "note", "timestamp",
    "originator_topic",
})
NOT_PROJECTED = frozenset({"receipts"})


#: a stored event read from the log with its state parsed once, for every read model
Parsed = tuple[Any, dict[str, Any]]


@dataclass(slots=True)
class Change:
    """One event as the read side sees it (treated as immutable once made)."""

    position: int
    event_id: str
    type: str
    entity: str
    version: int
    recorded_at: str
    effective_on: str | None
    recorded_by: str
    sources: list[dict[str, Any]]
    note: str | None
    fields: dict[str, Any]
    #: the entity's kind (`commitments`), and the first and last day the change took effect (an
    #: event without `effective_on` took effect when recorded)
    kind: str = field(init=False)
    effective_from: str = field(init=False)
    effective_to: str = field(init=False)

    def __post_init__(self) -> None:
        self.kind = self.entity.partition("/")[0]
        effective = self.effective_on or self.recorded_at[:10]
        self.effective_from, _, last = effective.partition("/")
        self.effective_to = last or self.effective_from

    @classmethod
    def from_logged(cls, logged: Any, state: dict[str, Any]) -> Change:
        """From a stored event read from the log (`ledger.commands.Logged`) and its parsed
        state."""
        fields = dict(state)
        for key in ENVELOPE:
            fields.pop(key, None)
        return cls(
            logged.id, state["event_id"], logged.topic.rpartition(".")[2], state["entity"],
            logged.originator_version, state["timestamp"], state.get("effective_on"),
            state.get("recorded_by", ""), state.get("sources") or [], state.get("note"), fields,
        )


# -- reducers: one per event type ------------------------------------------------------------
# A reducer updates a shallow copy of the state and replaces, never mutates, the lists and
# dicts inside it: the state before stays intact for the diff, without a deep copy.

State = dict[str, Any]
Reducer = Callable[[State, Change], None]


def _step(change: Change, **extra: Any) -> dict[str, Any]:
    """A dated entry for an entity's list of steps."""
    return {"type": change.type, "on": change.effective_from, "event_id": change.event_id, **extra}


def _party_registered(s: State, c: Change) -> None:
    s.update(code=c.fields["code"], name=c.fields["name"], party_kind=c.fields["party_kind"],
             statuses={}, status_history=[])


def _treaty_status_changed(s: State, c: Change) -> None:
    # `effective_on`: when the sources date the change only by a span, that span
    entry = {"status": c.fields["status"], "on": c.fields["on"], "effective_on": c.effective_on}
    s["statuses"] = {**s["statuses"], c.fields["instrument"]: entry}
    s["status_history"] = [*s["status_history"], {"instrument": c.fields["instrument"], **entry}]


def _instrument_registered(s: State, c: Change) -> None:
    s.update(code=c.fields["code"], title=c.fields["title"],
             instrument_kind=c.fields["instrument_kind"], parent=c.fields["parent"],
             adopted_on=c.fields["adopted_on"], provisions={}, statement_codes={})


def _statement_code_added(s: State, c: Change) -> None:
    f = c.fields
    s["statement_codes"] = {**s.get("statement_codes", {}),
                            f["code"]: {"label": f["label"], "area": f["area"]}}


def _statement_recorded(s: State, c: Change) -> None:
    s.update({k: c.fields[k] for k in ("instrument", "code", "party", "described_as",
                                       "provisions", "quantity", "territory", "text")})
    s["on"] = c.effective_on or c.effective_from
    s["sources"] = c.sources


def _provision_added(s: State, c: Change) -> None:
    f = c.fields
    s["provisions"] = {**s["provisions"], f["number"]: {
        "kind": f["provision_kind"], "title": f["title"], "text": f["text"], "area": f["area"],
    }}


def _commitment_pledged(s: State, c: Change) -> None:
    f = c.fields
    s.update(party=f["party"], provisions=f["provisions"], text=f["text"], target=f["target"],
             original_due_on=f["due_on"], due_on=f["due_on"], status="pledged", progress=[],
             assessment=None, lapsed_on=None, withdrawn=None)


def _progress_reported(s: State, c: Change) -> None:
    s["status"] = c.fields["status"]
    s["progress"] = [*s["progress"], _step(c, status=c.fields["status"],
                                           quantities=c.fields["quantities"],
                                           summary=c.fields["summary"])]


def _due_date_extended(s: State, c: Change) -> None:
    s["due_on"] = c.fields["due_on"]
    if s["status"] == "lapsed":
        s["status"] = s.pop("status_before_lapse", "pledged")


def _commitment_assessed(s: State, c: Change) -> None:
    s["status"] = c.fields["outcome"]
    s["assessment"] = {k: c.fields[k] for k in ("outcome", "assessor", "assessed_by")}


def _commitment_withdrawn(s: State, c: Change) -> None:
    s["status"] = "withdrawn"
    s["withdrawn"] = {"on": c.effective_from, "reason": c.fields["reason"]}


def _deadline_lapsed(s: State, c: Change) -> None:
    s["lapsed_on"] = c.fields["due_on"]
    if "status" in s and c.kind == "commitments":
        s["status_before_lapse"] = s["status"]
        s["status"] = "lapsed"


def _funding_pledged(s: State, c: Change) -> None:
    s.update({k: c.fields[k] for k in ("donor", "recipient", "amount", "currency", "purpose",
                                       "period", "provisions")})
    s["disbursed"] = "0"
    s["disbursements"] = []


def _funding_disbursed(s: State, c: Change) -> None:
    s["disbursed"] = str(Decimal(s["disbursed"]) + Decimal(c.fields["amount"]))
    s["disbursements"] = [*s["disbursements"], _step(c, amount=c.fields["amount"])]


def _obligation_declared(s: State, c: Change) -> None:
    f = c.fields
    s.update(party=f["party"], provision=f["provision"], obligation_kind=f["obligation_kind"],
             description=f["description"], quantities=f["quantities"],
             original_deadline=f["deadline"], deadline=f["deadline"], due_on=f["deadline"],
             extensions=[], progress=[], completed=False, completed_on=None, lapsed_on=None)


def _obligation_progress(s: State, c: Change) -> None:
    s["progress"] = [*s["progress"], _step(c, quantities=c.fields["quantities"],
                                           summary=c.fields["summary"])]


def _extension_requested(s: State, c: Change) -> None:
    s["extensions"] = [*s["extensions"], _step(c, requested_deadline=c.fields["requested_deadline"],
                                               reason=c.fields["reason"], decision=None)]


def _extension_decided(s: State, c: Change) -> None:
    granted = c.type == "ExtensionGranted"
    if s["extensions"]:
        decided = {**s["extensions"][-1], "decision": _step(c, granted=granted, **c.fields)}
        s["extensions"] = [*s["extensions"][:-1], decided]
    if granted:
        s["deadline"] = s["due_on"] = c.fields["deadline"]


def _completion_declared(s: State, c: Change) -> None:
    s["completed"] = True
    s["completed_on"] = c.effective_from


def _report_registered(s: State, c: Change) -> None:
    f = c.fields
    s.update(party=f["party"], instrument=f["instrument"], report_kind=f["report_kind"],
             period=f["period"], due_on=f["due_on"], received_on=None, document=None, url=None,
             covers=[], summary=None, amendments=[], lapsed_on=None)


def _report_submitted(s: State, c: Change) -> None:
    s.update({k: c.fields[k] for k in ("received_on", "document", "url", "covers", "summary")})


def _report_amended(s: State, c: Change) -> None:
    s["amendments"] = [*s["amendments"], _step(c, received_on=c.fields["received_on"],
                                               document=c.fields["document"],
                                               summary=c.fields["summary"])]


def _allegation_filed(s: State, c: Change) -> None:
    s.update({k: c.fields[k] for k in ("against", "provision", "filed_by", "place", "occurred_on",
                                       "summary", "evidence")})
    s["territory"] = c.fields.get("territory")
    s.update(state="filed", steps=[], findings=[], outcome=None, recommendation=None)


ALLEGATION_STATES = {
    "ReviewOpened": "under_review", "ClarificationRequested": "clarification_requested",
    "ResponseReceived": "response_received", "InvestigationOpened": "investigation",
    "AllegationResolved": "resolved", "AllegationReopened": "under_review",
}


def _allegation_step(s: State, c: Change) -> None:
    s["state"] = ALLEGATION_STATES.get(c.type, s["state"])
    s["steps"] = [*s["steps"], _step(c, **c.fields)]
    if c.type == "FindingIssued":
        s["findings"] = [*s["findings"], {"finding": c.fields["finding"],
                                          "issued_by": c.fields["issued_by"]}]
    elif c.type == "AllegationResolved":
        s["outcome"], s["recommendation"] = c.fields["outcome"], c.fields["recommendation"]
    elif c.type == "AllegationReopened":
        s["outcome"] = s["recommendation"] = None


def _checkpoint_issued(s: State, c: Change) -> None:
    s.update(c.fields)


REDUCERS: dict[str, Reducer] = {
    "CheckpointIssued": _checkpoint_issued,
    "PartyRegistered": _party_registered,
    "TreatyStatusChanged": _treaty_status_changed,
    "InstrumentRegistered": _instrument_registered,
    "ProvisionAdded": _provision_added,
    "StatementCodeAdded": _statement_code_added,
    "StatementRecorded": _statement_recorded,
    "CommitmentPledged": _commitment_pledged,
    "ProgressReported": _progress_reported,
    "DueDateExtended": _due_date_extended,
    "CommitmentAssessed": _commitment_assessed,
    "CommitmentWithdrawn": _commitment_withdrawn,
    "DeadlineLapsed": _deadline_lapsed,
    "FundingPledged": _funding_pledged,
    "FundingDisbursed": _funding_disbursed,
    "ObligationDeclared": _obligation_declared,
    "ObligationProgressReported": _obligation_progress,
    "ExtensionRequested": _extension_requested,
    "ExtensionGranted": _extension_decided,
    "ExtensionRefused": _extension_decided,
    "CompletionDeclared": _completion_declared,
    "ReportRegistered": _report_registered,
    "ReportSubmitted": _report_submitted,
    "ReportAmended": _report_amended,
    "AllegationFiled": _allegation_filed,
    **{name: _allegation_step for name in (
        "ReviewOpened", "ClarificationRequested", "ResponseReceived", "InvestigationOpened",
        "FindingIssued", "AllegationResolved", "AllegationReopened",
    )},
}
CORRECTIONS = frozenset({"EntryCorrected", "EntryRetracted"})
#: what registers names and vocabularies rather than facts of the world: every "as effective
#: on" view includes them (a registered party exists on any date)
TIMELESS = frozenset({"PartyRegistered", "InstrumentRegistered", "ProvisionAdded",
                      "StatementCodeAdded"})


#: changes an "as effective on" view takes whatever their date
UNDATED = CORRECTIONS | TIMELESS


def in_effect(change: Change, day: str, possible: bool = False) -> bool:
    """Whether a change counts as effective on `day`: undated ones always; a dated one once its
    interval has ended (certainly), or begun when what was `possible` counts."""
    if change.type in UNDATED:
        return True
    return (change.effective_from if possible else change.effective_to) <= day


def apply(state: State | None, change: Change) -> State:
    """The entity's state after one (non-correction) event; `state` is not modified."""
    new: State = {} if state is None else dict(state)
    if state is None:
        new.update(path=change.entity, id=change.entity.split("/", 1)[1], kind=change.kind,
                   corrections=[], retracted=False)
    REDUCERS[change.type](new, change)
    new["version"] = change.version
    new["recorded_at"] = change.recorded_at
    return new


def fold(changes: Iterable[Change]) -> State | None:
    """State from an entity's events in log order, corrections and retractions applied.

    Only corrections and retractions among `changes` count: pass a filtered list to fold as
    known at a position or as effective on a date.
    """
    changes = list(changes)
    patches: dict[str, dict[str, Any]] = {}
    retracted: set[str] = set()
    corrections: list[dict[str, Any]] = []
    for change in changes:
        if change.type == "EntryCorrected":
            patches.setdefault(change.fields["corrects"], {}).update(change.fields["fields"])
            corrections.append(_step(change, corrects=change.fields["corrects"],
                                     fields=change.fields["fields"], reason=change.fields["reason"]))
        elif change.type == "EntryRetracted":
            retracted.add(change.fields["retracts"])
            corrections.append(_step(change, retracts=change.fields["retracts"],
                                     reason=change.fields["reason"]))
    state: State | None = None
    for change in changes:
        if change.type in CORRECTIONS or (change.event_id in retracted and change.version != 1):
            continue  # a retracted creation still shows the entity, marked retracted
        if change.event_id in patches:
            change = _patched(change, patches[change.event_id])
        if state is None and change.version != 1:
            continue  # the creating event is not among the folded ones: nothing exists yet
        state = apply(state, change)
    if state is not None and changes:
        state["version"] = changes[-1].version
        state["recorded_at"] = changes[-1].recorded_at
        state["corrections"] = corrections
        state["retracted"] = any(c.version == 1 and c.event_id in retracted for c in changes)
    return state


def _patched(change: Change, fields: dict[str, Any]) -> Change:
    return replace(change, fields={**change.fields, **fields})


#: state keys every event changes, or that never change: left out of diffs
NOT_DIFFED = frozenset({"version", "recorded_at", "path", "id", "kind"})


def diff(before: State | None, after: State | None) -> dict[str, list[Any]]:
    """Field-level changes between two versions: {field: [old, new]} for top-level fields.

    A reducer replaces what it changes and shares the rest with the state before, so an
    unchanged field is usually the very same object."""
    before, after = before or {}, after or {}
    if before:
        changed = [
            key for key, value in after.items()
            if (old := before.get(key)) is not value and old != value and key not in NOT_DIFFED
        ]
        changed += [key for key, old in before.items()
                    if old is not None and key not in after and key not in NOT_DIFFED]
    else:  # a new entity: every field it has
        changed = [key for key, value in after.items()
                   if value is not None and key not in NOT_DIFFED]
    changed.sort()
    return {key: [before.get(key), after.get(key)] for key in changed}
