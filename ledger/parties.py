"""States and organisations, and each state's status under each treaty over time."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity

#: `state_party`: bound by the treaty, where the source does not say whether by ratification or
#: accession
TREATY_STATUSES = ("signed", "ratified", "acceded", "state_party", "entered_into_force", "withdrew")


class Party(Entity):
    kind = "parties"

    class PartyRegistered(Entity.Created):
        code: str
        name: str
        party_kind: str

        def change(self, aggregate: Any) -> None:
            aggregate.code = self.code
            aggregate.name = self.name
            aggregate.party_kind = self.party_kind
            aggregate.statuses = {}

    class TreatyStatusChanged(Entity.Event):
        instrument: str
        status: str
        on: str

        def change(self, aggregate: Any) -> None:
            aggregate.statuses[self.instrument] = self.status

    @classmethod
    def register(cls, code: str, name: str, party_kind: str) -> Party:
        return cls._start(cls.PartyRegistered, code, code=code, name=name, party_kind=party_kind)

    def change_treaty_status(self, instrument: str, status: str, on: str) -> None:
        self.trigger_event(self.TreatyStatusChanged, instrument=instrument, status=status, on=on)
