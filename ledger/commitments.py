"""Political pledges on provisions, with a measurable target and a due date, and their lifecycle."""

from __future__ import annotations

from typing import Any

from ledger.deadlines import Deadlined
from ledger.errors import CommitmentAlreadyClosed

CLOSED = ("kept", "partially_kept", "broken", "withdrawn")
OUTCOMES = ("kept", "partially_kept", "broken")
PROGRESS_STATUSES = ("in_progress", "stalled")


class Commitment(Deadlined):
    """pledged -> in_progress <-> stalled -> kept | partially_kept | broken; withdrawn; lapsed."""

    kind = "commitments"

    class CommitmentPledged(Deadlined.Created):
        party: str
        provisions: list[str]
        text: str
        target: str | None
        due_on: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.party = self.party
            aggregate.due_on = self.due_on
            aggregate.status = "pledged"

    class ProgressReported(Deadlined.Event):
        status: str
        quantities: dict[str, float]
        summary: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.status = self.status

    class DueDateExtended(Deadlined.Event):
        due_on: str
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.due_on = self.due_on
            if aggregate.status == "lapsed":
                aggregate.status = aggregate.status_before_lapse

    class CommitmentAssessed(Deadlined.Event):
        outcome: str
        assessor: str
        assessed_by: str

        def change(self, aggregate: Any) -> None:
            aggregate.status = self.outcome

    class CommitmentWithdrawn(Deadlined.Event):
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.status = "withdrawn"

    @classmethod
    def pledge(
        cls, ref: str, party: str, provisions: list[str], text: str, target: str | None,
        due_on: str | None,
    ) -> Commitment:
        return cls._start(
            cls.CommitmentPledged, ref, party=party, provisions=provisions, text=text,
            target=target, due_on=due_on,
        )

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED and self.status != "lapsed" and self.due_on is not None

    def on_lapsed(self) -> None:
        self.status_before_lapse = self.status
        self.status = "lapsed"

    def report_progress(
        self, status: str, quantities: dict[str, float], summary: str | None
    ) -> None:
        self._check_open()
        self.trigger_event(
            self.ProgressReported, status=status, quantities=quantities, summary=summary
        )

    def extend_due_date(self, due_on: str, reason: str) -> None:
        self._check_open()
        self.trigger_event(self.DueDateExtended, due_on=due_on, reason=reason)

    def assess(self, outcome: str, assessor: str, assessed_by: str) -> None:
        self._check_open()
        self.trigger_event(
            self.CommitmentAssessed, outcome=outcome, assessor=assessor, assessed_by=assessed_by
        )

    def withdraw(self, reason: str) -> None:
        self._check_open()
        self.trigger_event(self.CommitmentWithdrawn, reason=reason)

    def _check_open(self) -> None:
        if self.status in CLOSED:
            raise CommitmentAlreadyClosed(f"{self.path} is {self.status}; it takes no further steps")
