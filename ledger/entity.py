"""What every recorded fact shares: the envelope, stable ids, and corrections that never erase."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

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


def aggregate_id(path: str) -> UUID:
    """The aggregate id behind a public entity path such as `commitments/ccm-art3-PER`."""
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

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.retracted: set[str] = set()
        self.corrections: list[str] = []

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

    class EntryRetracted(Event):
        """Names an earlier event of this entity that should not have been recorded, and why."""

        retracts: str
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.retracted.add(self.retracts)

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
