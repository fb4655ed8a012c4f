"""Treaty obligations with deadlines: stockpiles to destroy, areas to clear, victims to assist."""

from __future__ import annotations

from typing import Any

from ledger.deadlines import Deadlined
from ledger.errors import (
    ExtensionAlreadyPending,
    NoExtensionPending,
    ObligationAlreadyCompleted,
)


class Obligation(Deadlined):
    """open -> (extension requested -> granted | refused)* -> completed; lapsed when overdue."""

    kind = "obligations"

    class ObligationDeclared(Deadlined.Created):
        party: str
        provision: str
        obligation_kind: str
        description: str
        quantities: dict[str, float]
        deadline: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.party = self.party
            aggregate.due_on = self.deadline
            aggregate.completed = False
            aggregate.pending_extension = None

    class ObligationProgressReported(Deadlined.Event):
        quantities: dict[str, float]
        summary: str

    class ExtensionRequested(Deadlined.Event):
        requested_deadline: str
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.pending_extension = self.requested_deadline

    class ExtensionGranted(Deadlined.Event):
        deadline: str

        def change(self, aggregate: Any) -> None:
            aggregate.due_on = self.deadline
            aggregate.pending_extension = None

    class ExtensionRefused(Deadlined.Event):
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.pending_extension = None

    class CompletionDeclared(Deadlined.Event):
        def change(self, aggregate: Any) -> None:
            aggregate.completed = True

    @classmethod
    def declare(
        cls, ref: str, party: str, provision: str, obligation_kind: str, description: str,
        quantities: dict[str, float], deadline: str | None,
    ) -> Obligation:
        return cls._start(
            cls.ObligationDeclared, ref, party=party, provision=provision,
            obligation_kind=obligation_kind, description=description, quantities=quantities,
            deadline=deadline,
        )

    @property
    def is_open(self) -> bool:
        return not self.completed and self.due_on is not None

    def report_progress(self, quantities: dict[str, float], summary: str) -> None:
        self._check_not_completed()
        self.trigger_event(self.ObligationProgressReported, quantities=quantities, summary=summary)

    def request_extension(self, requested_deadline: str, reason: str) -> None:
        self._check_not_completed()
        if self.pending_extension is not None:
            raise ExtensionAlreadyPending(
                f"{self.path} already has an extension to {self.pending_extension} pending"
            )
        self.trigger_event(
            self.ExtensionRequested, requested_deadline=requested_deadline, reason=reason
        )

    def grant_extension(self, deadline: str) -> None:
        self._check_pending()
        self.trigger_event(self.ExtensionGranted, deadline=deadline)

    def refuse_extension(self, reason: str) -> None:
        self._check_pending()
        self.trigger_event(self.ExtensionRefused, reason=reason)

    def declare_completion(self) -> None:
        self._check_not_completed()
        self.trigger_event(self.CompletionDeclared)

    def _check_not_completed(self) -> None:
        if self.completed:
            raise ObligationAlreadyCompleted(f"{self.path} is already completed")

    def _check_pending(self) -> None:
        self._check_not_completed()
        if self.pending_extension is None:
            raise NoExtensionPending(f"{self.path} has no extension request pending")
