"""Compliance allegations and their lifecycle, from filing to resolution (and reopening)."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity
from ledger.errors import AllegationAlreadyResolved, IllegalAllegationStep

OUTCOMES = ("not_credible", "unfounded", "confirmed", "remedied")

#: the states each step may start from (BRIEF section 3)
STEPS: dict[str, tuple[str, ...]] = {
    "open_review": ("filed",),
    "request_clarification": ("under_review", "response_received", "investigation"),
    "receive_response": ("clarification_requested",),
    "open_investigation": ("under_review", "response_received"),
    "issue_finding": ("under_review", "response_received", "investigation"),
    "resolve": ("under_review", "clarification_requested", "response_received", "investigation"),
    "reopen": ("resolved",),
}


class Allegation(Entity):
    """filed -> under_review -> (clarification_requested <-> response_received) -> investigation
    -> resolved; reopened -> under_review."""

    kind = "allegations"

    class AllegationFiled(Entity.Created):
        """`against` is None when the source names no user; `territory` (absent from events
        recorded before it existed) is where the use or breach was reported."""

        against: str | None
        provision: str
        filed_by: str
        place: str | None
        occurred_on: str | None
        summary: str
        evidence: str | None
        territory: str | None = None

        def change(self, aggregate: Any) -> None:
            aggregate.against = self.against
            aggregate.state = "filed"

    class ReviewOpened(Entity.Event):
        summary: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.state = "under_review"

    class ClarificationRequested(Entity.Event):
        summary: str

        def change(self, aggregate: Any) -> None:
            aggregate.state = "clarification_requested"

    class ResponseReceived(Entity.Event):
        summary: str

        def change(self, aggregate: Any) -> None:
            aggregate.state = "response_received"

    class InvestigationOpened(Entity.Event):
        summary: str

        def change(self, aggregate: Any) -> None:
            aggregate.state = "investigation"

    class FindingIssued(Entity.Event):
        finding: str
        issued_by: str

    class AllegationResolved(Entity.Event):
        outcome: str
        recommendation: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.state = "resolved"
            aggregate.outcome = self.outcome

    class AllegationReopened(Entity.Event):
        reason: str

        def change(self, aggregate: Any) -> None:
            aggregate.state = "under_review"
            aggregate.outcome = None

    @classmethod
    def file(
        cls, ref: str, against: str | None, provision: str, filed_by: str, place: str | None,
        occurred_on: str | None, summary: str, evidence: str | None, territory: str | None = None,
    ) -> Allegation:
        return cls._start(
            cls.AllegationFiled, ref, against=against, provision=provision, filed_by=filed_by,
            place=place, occurred_on=occurred_on, summary=summary, evidence=evidence,
            territory=territory,
        )

    def open_review(self, summary: str | None) -> None:
        self._step("open_review", self.ReviewOpened, summary=summary)

    def request_clarification(self, summary: str) -> None:
        self._step("request_clarification", self.ClarificationRequested, summary=summary)

    def receive_response(self, summary: str) -> None:
        self._step("receive_response", self.ResponseReceived, summary=summary)

    def open_investigation(self, summary: str) -> None:
        self._step("open_investigation", self.InvestigationOpened, summary=summary)

    def issue_finding(self, finding: str, issued_by: str) -> None:
        self._step("issue_finding", self.FindingIssued, finding=finding, issued_by=issued_by)

    def resolve(self, outcome: str, recommendation: str | None) -> None:
        self._step(
            "resolve", self.AllegationResolved, outcome=outcome, recommendation=recommendation
        )

    def reopen(self, reason: str) -> None:
        self._step("reopen", self.AllegationReopened, reason=reason)

    def _step(self, step: str, event_class: Any, **fields: Any) -> None:
        if self.state not in STEPS[step]:
            error = AllegationAlreadyResolved if self.state == "resolved" else IllegalAllegationStep
            raise error(f"{self.path} is {self.state}: '{step}' is not allowed from there")
        self.trigger_event(event_class, **fields)
