"""Treaties and action plans, and their provisions: numbered articles and actions."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity
from ledger.errors import AlreadyExists, ProvisionNotFound, StatementCodeNotFound


class Instrument(Entity):
    kind = "instruments"

    class InstrumentRegistered(Entity.Created):
        code: str
        title: str
        instrument_kind: str
        parent: str | None
        adopted_on: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.code = self.code
            aggregate.title = self.title
            aggregate.parent = self.parent
            aggregate.provisions = {}
            aggregate.codes = {}

    class ProvisionAdded(Entity.Event):
        number: str
        provision_kind: str
        title: str
        text: str | None
        area: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.provisions[self.number] = self.title

    class StatementCodeAdded(Entity.Event):
        """A code of the vocabulary that statements under this instrument (or a plan below
        it) are recorded in."""

        code: str
        label: str
        area: str | None

        def change(self, aggregate: Any) -> None:
            # instruments recorded before vocabularies existed have no `codes` yet
            aggregate.codes = {**getattr(aggregate, "codes", {}), self.code: self.label}

    @classmethod
    def register(
        cls, code: str, title: str, instrument_kind: str, parent: str | None, adopted_on: str | None
    ) -> Instrument:
        return cls._start(
            cls.InstrumentRegistered, code, code=code, title=title,
            instrument_kind=instrument_kind, parent=parent, adopted_on=adopted_on,
        )

    def add_provision(
        self, number: str, provision_kind: str, title: str, text: str | None, area: str | None
    ) -> None:
        if number in self.provisions:
            raise AlreadyExists(f"{self.code}:{number} is already a provision", field="number")
        self.trigger_event(
            self.ProvisionAdded, number=number, provision_kind=provision_kind,
            title=title, text=text, area=area,
        )

    def check_provision(self, number: str) -> None:
        if number not in self.provisions:
            raise ProvisionNotFound(f"{self.code} has no provision {number}")

    def add_statement_code(self, code: str, label: str, area: str | None) -> None:
        if code in getattr(self, "codes", {}):
            raise AlreadyExists(f"{self.code} already has the statement code {code}", field="code")
        self.trigger_event(self.StatementCodeAdded, code=code, label=label, area=area)

    def has_code(self, code: str) -> bool:
        return code in getattr(self, "codes", {})
