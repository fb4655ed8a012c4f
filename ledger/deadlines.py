"""Entities with a due date that a scheduled tick can declare lapsed."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity


class Deadlined(Entity):
    """Has `due_on` and `is_met`; `lapse` records a passed due date once, idempotently."""

    # Subclasses keep `due_on` (ISO date) in their state and define the `is_open` property:
    # still expected to meet the due date. No annotations here: eventsourcing would make
    # them constructor fields.
    lapsed_on = None

    class DeadlineLapsed(Entity.Event):
        due_on: str

        def change(self, aggregate: Any) -> None:
            aggregate.lapsed_on = self.due_on
            aggregate.on_lapsed()

    def lapse_if_due(self, today: str) -> bool:
        """Record `DeadlineLapsed` when `today` is past the due date, unmet and not yet lapsed."""
        if not self.is_open or today <= self.due_on or self.lapsed_on == self.due_on:
            return False
        self.trigger_event(self.DeadlineLapsed, due_on=self.due_on)
        return True

    def on_lapsed(self) -> None:
        """Adjust state after a lapse (a commitment's status becomes `lapsed`)."""
