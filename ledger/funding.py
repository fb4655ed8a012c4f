"""Funding pledges from a donor, and disbursements against them, in one ISO 4217 currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.entity import Entity
from ledger.errors import CurrencyMismatch


class Funding(Entity):
    kind = "fundings"

    class FundingPledged(Entity.Created):
        donor: str
        recipient: str | None
        amount: str
        currency: str
        purpose: str | None
        period: str | None
        provisions: list[str]

        def change(self, aggregate: Any) -> None:
            aggregate.currency = self.currency
            aggregate.disbursed = Decimal(0)

    class FundingDisbursed(Entity.Event):
        amount: str
        currency: str

        def change(self, aggregate: Any) -> None:
            aggregate.disbursed += Decimal(self.amount)

    @classmethod
    def pledge(
        cls, ref: str, donor: str, recipient: str | None, amount: Decimal, currency: str,
        purpose: str | None, period: str | None, provisions: list[str],
    ) -> Funding:
        return cls._start(
            cls.FundingPledged, ref, donor=donor, recipient=recipient, amount=str(amount),
            currency=currency, purpose=purpose, period=period, provisions=provisions,
        )

    def disburse(self, amount: Decimal, currency: str) -> None:
        if currency != self.currency:
            raise CurrencyMismatch(
                f"{self.path} was pledged in {self.currency}, not {currency}"
            )
        self.trigger_event(self.FundingDisbursed, amount=str(amount), currency=currency)
