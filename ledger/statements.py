"""What documents state: a fact about a party (or a document's own total) against provisions,
coded from a vocabulary each instrument registers, with how the document describes the party."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity

#: how a document describes the party it speaks of
DESCRIPTIONS = ("state_party", "signatory", "state_not_party", "state", "organisation")


class Statement(Entity):
    """One statement of one document. Without a party and with a quantity it is a stated
    figure: the document's own total, set beside the parties the ledger can name."""

    kind = "statements"

    class StatementRecorded(Entity.Created):
        instrument: str
        code: str
        party: str | None
        described_as: str | None
        provisions: list[str]
        quantity: dict[str, str] | None
        territory: str | None
        text: str

    @classmethod
    def record(cls, ref: str, **fields: Any) -> Statement:
        return cls._start(cls.StatementRecorded, ref, **fields)
