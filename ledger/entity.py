"""What every recorded fact shares: the envelope, stable ids, and corrections that never erase."""

from __future__ import annotations

import copy
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, ClassVar, get_type_hints
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate
from pydantic import TypeAdapter, ValidationError

from ledger.errors import EntryAlreadyRetracted, EventNotFound, InvalidValue

#: Fixed namespace for the aggregate ids the ledger derives from public ids (never change it).
ID_NAMESPACE = UUID("4f1d5c1e-8e3a-5b7e-9a61-2d0c7f3b9e10")


@dataclass(frozen=True)
class Provenance:
    """Who records a command, when it took effect in the world, and on whose source."""

    recorded_by: str
    effective_on: str | None = None
    sources: tuple[dict[str, Any], ...] = ()
    note: str | None = None


provenance: ContextVar[Provenance] = ContextVar(
    "provenance", default=Provenance(recorded_by="system")
)


@lru_cache(maxsize=65536)
def aggregate_id(path: str) -> UUID:
    """The aggregate id behind a public entity path such as `commitments/ccm-art3-PER` (kept
    for the paths used most lately: a command asks for the same ones several times)."""
    return uuid5(ID_NAMESPACE, path)


def _new_event_id() -> str:
    return str(uuid4())


def _recorded_by() -> str:
    return provenance.get().recorded_by


def _effective_on() -> str | None:
    return provenance.get().effective_on


def _sources() -> list[dict[str, Any]]:
    return [dict(source) for source in provenance.get().sources]


def _note() -> str | None:
    return provenance.get().note


class Entity(Aggregate):
    """Base of every aggregate: public path, envelope on each event, corrections and retractions."""

    #: the URL family of the entity: `parties`, `commitments`, ... (no annotation: eventsourcing
    #: turns annotated aggregate attributes into constructor fields)
    kind = ""

    #: what every entity keeps besides the facts its events set (no annotation, as above)
    BOOKKEEPING = frozenset({"entries", "retracted", "corrections", "patches", "facts"})

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.retracted: set[str] = set()
        self.corrections: list[str] = []
        #: corrected values by the event they correct
        self.patches: dict[str, dict[str, Any]] = {}
        #: every event but corrections and retractions, in order, to fold again after one
        self.facts: list[Entity.Event] = []

    class Event(Aggregate.Event):
        """The envelope of BRIEF section 3; `timestamp` is `recorded_at`, set by the ledger."""

        event_id: str = field(default_factory=_new_event_id, init=False)
        entity: str = field(default="", kw_only=True)
        recorded_by: str = field(default_factory=_recorded_by, init=False)
        effective_on: str | None = field(default_factory=_effective_on, init=False)
        sources: list[dict[str, Any]] = field(default_factory=_sources, init=False)
        note: str | None = field(default_factory=_note, init=False)

        ENVELOPE: ClassVar[frozenset[str]] = frozenset(
            {"event_id", "entity", "recorded_by", "effective_on", "sources", "note",
             "originator_id", "originator_version", "timestamp", "originator_topic"}
        )

        def apply(self, aggregate: Any) -> None:
            aggregate._path = self.entity
            aggregate.entries[self.event_id] = {
                "type": type(self).__name__,
                "fields": [k for k in vars(self) if k not in self.ENVELOPE],
            }
            if not isinstance(self, (Entity.EntryCorrected, Entity.EntryRetracted)):
                aggregate.facts.append(self)
            self.change(aggregate)

        def change(self, aggregate: Any) -> None:
            """Apply this event's facts to the aggregate's state."""

    class Created(Event, Aggregate.Created):
        pass

    class EntryCorrected(Event):
        """Names an earlier event of this entity and the corrected values of its fields."""

        corrects: str
        fields: dict[str, Any]
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.corrections.append(self.corrects)
            aggregate.patches[self.corrects] = {
                **aggregate.patches.get(self.corrects, {}), **self.fields}
            aggregate.refold()

    class EntryRetracted(Event):
        """Names an earlier event of this entity that should not have been recorded, and why."""

        retracts: str
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.retracted.add(self.retracts)
            aggregate.refold()

    def refold(self) -> None:
        """Set the entity's facts again from its events, with corrections applied and
        retracted events left out (a retracted creation still leaves the entity), so that
        its rules judge the next command on what the record now says, as the read side
        shows it."""
        for name in [n for n in vars(self) if not n.startswith("_") and n not in self.BOOKKEEPING]:
            delattr(self, name)
        for event in self.facts:
            if event.event_id in self.retracted and event is not self.facts[0]:
                continue
            if patch := self.patches.get(event.event_id):
                event = copy.copy(event)
                for name, value in patch.items():
                    object.__setattr__(event, name, value)
            event.change(self)

    @property
    def ref(self) -> str:
        """The entity's public id, the last part of its path."""
        return self.path.split("/", 1)[1]

    @property
    def path(self) -> str:
        return self._path

    @classmethod
    def _start(cls, created: type[Aggregate.Created], ref: str, **fields: Any) -> Any:
        path = f"{cls.kind}/{ref}"
        return cls._create(created, id=aggregate_id(path), entity=path, **fields)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(event_class, entity=self.path, **kwargs)

    def correct(self, event_id: str, fields: dict[str, Any], reason: str) -> None:
        entry = self._entry(event_id)
        unknown = sorted(set(fields) - set(entry["fields"]))
        if not fields or unknown:
            raise InvalidValue(
                f"{entry['type']} has no field(s) {', '.join(unknown) or '(none given)'}; "
                f"correctable: {', '.join(entry['fields'])}",
                field="fields",
            )
        event_class = next(type(e) for e in self.facts if e.event_id == event_id)
        for name, value in fields.items():
            _check_corrected(event_class, name, value)
        self.trigger_event(self.EntryCorrected, corrects=event_id, fields=fields, reason=reason)

    def retract(self, event_id: str, reason: str) -> None:
        self._entry(event_id)
        self.trigger_event(self.EntryRetracted, retracts=event_id, reason=reason)

    def _entry(self, event_id: str) -> dict[str, Any]:
        entry = self.entries.get(event_id)
        if entry is None or entry["type"] in ("EntryCorrected", "EntryRetracted"):
            raise EventNotFound(f"{self.path} has no correctable event {event_id}")
        if event_id in self.retracted:
            raise EntryAlreadyRetracted(f"event {event_id} of {self.path} is already retracted")
        return entry


#: corrected values that must keep the format of what they replace
DATES = frozenset({"due_on", "deadline", "on", "received_on", "occurred_on",
                   "requested_deadline", "adopted_on"})
FORMATS = {
    "amount": re.compile(r"(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?"),
    "currency": re.compile(r"[A-Z]{3}"),
}


def _check_corrected(event_class: type, name: str, value: Any) -> None:
    """A corrected value has the type the event declares for its field (a date stays a
    date, an amount a plain decimal string), so the rules that read it keep working."""
    try:
        TypeAdapter(get_type_hints(event_class)[name]).validate_python(value, strict=True)
        if value is not None and name in DATES:
            date.fromisoformat(value)
        if name in FORMATS and not FORMATS[name].fullmatch(value):
            raise ValueError(f"not in the form {FORMATS[name].pattern}")
    except (ValidationError, ValueError, TypeError) as error:
        reason = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        raise InvalidValue(f"the corrected {name} {value!r} does not fit the field: {reason}",
                           field="fields") from None
