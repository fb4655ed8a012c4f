"""Report submissions (transparency reports, progress reports, statements) against due dates."""

from __future__ import annotations

from typing import Any

from ledger.deadlines import Deadlined
from ledger.errors import ReportAlreadySubmitted, ReportNotSubmitted


def report_ref(instrument: str, party: str, report_kind: str, period: str) -> str:
    """Reports are identified by what they are: `CCM-HRV-annual-2010`."""
    return f"{instrument}-{party}-{report_kind}-{period}"


class Report(Deadlined):
    """registered (with a due date, or none for voluntary reports) -> submitted -> amended*."""

    kind = "reports"

    class ReportRegistered(Deadlined.Created):
        party: str
        instrument: str
        report_kind: str
        period: str
        due_on: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.party = self.party
            aggregate.due_on = self.due_on
            aggregate.received_on = None

    class ReportSubmitted(Deadlined.Event):
        received_on: str
        document: str | None
        url: str | None
        covers: list[str]
        summary: str | None

        def change(self, aggregate: Any) -> None:
            aggregate.received_on = self.received_on

    class ReportAmended(Deadlined.Event):
        received_on: str
        document: str | None
        summary: str

    @classmethod
    def register(
        cls, party: str, instrument: str, report_kind: str, period: str, due_on: str | None
    ) -> Report:
        return cls._start(
            cls.ReportRegistered, report_ref(instrument, party, report_kind, period),
            party=party, instrument=instrument, report_kind=report_kind, period=period,
            due_on=due_on,
        )

    @property
    def is_open(self) -> bool:
        return self.received_on is None and self.due_on is not None

    def submit(
        self, received_on: str, document: str | None, url: str | None, covers: list[str],
        summary: str | None,
    ) -> None:
        if self.received_on is not None:
            raise ReportAlreadySubmitted(
                f"{self.path} was submitted on {self.received_on}; record an amendment instead"
            )
        self.trigger_event(
            self.ReportSubmitted, received_on=received_on, document=document, url=url,
            covers=covers, summary=summary,
        )

    def amend(self, received_on: str, document: str | None, summary: str) -> None:
        if self.received_on is None:
            raise ReportNotSubmitted(f"{self.path} has not been submitted, so it cannot be amended")
        self.trigger_event(
            self.ReportAmended, received_on=received_on, document=document, summary=summary
        )
