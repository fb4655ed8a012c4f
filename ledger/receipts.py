"""Receipts make retries safe: one per idempotency key, recorded atomically with the command."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity


class Receipt(Entity):
    kind = "receipts"

    class CommandAccepted(Entity.Created):
        key: str
        command: str
        digest: str
        result: str
        events: list[str]

        def change(self, aggregate: Any) -> None:
            aggregate.command = self.command
            aggregate.digest = self.digest
            aggregate.result = self.result
            aggregate.events = self.events

    @classmethod
    def issue(cls, key: str, command: str, digest: str, result: str, events: list[str]) -> Receipt:
        return cls._start(
            cls.CommandAccepted, key, key=key, command=command, digest=digest, result=result,
            events=events,
        )
