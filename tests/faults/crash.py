"""Run a `ledger` command that kills itself (SIGKILL) at a chosen log position, so that fault
tests crash at the same point on every run instead of racing a timer.

    python -m tests.faults.crash MOMENT N ledger-arguments...

MOMENT is where the process dies:
- `executing`: as it starts to carry out its Nth command (`Ledger._attempt`, for each command
  of a batch and for a single one);
- `recording`: inside the event-store transaction that records log position N, its events
  inserted and not committed;
- `answering`: once that transaction has committed, before anyone hears of it;
- `projecting`: inside the read-model transaction of the batch that reaches position N, its
  rows written and not committed (`ledger follow`, `ledger rebuild`, `ledger serve`).
A position the log has already passed is reached by the next transaction.

The ledger's own code runs unchanged; this module only adds the kill.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from api.cli import app
from ledger.commands import Ledger
from projections.store import StateView

MOMENTS = ("executing", "recording", "answering", "projecting")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_before(method: Callable[..., Any], calls: int) -> Callable[..., Any]:
    """`method`, except that its `calls`th call dies instead."""
    count = itertools.count(1)

    @wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if next(count) == calls:
            die()
        return method(*args, **kwargs)

    return wrapper


def kill_after(method: Callable[..., Any], reached: Callable[[Any, tuple], bool]
               ) -> Callable[..., Any]:
    """`method`, then death if `reached(its result, its arguments)`."""

    @wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        if reached(result, args):
            die()
        return result

    return wrapper


def install(moment: str, n: int) -> None:
    if moment == "executing":
        Ledger._attempt = kill_before(Ledger._attempt, n)
    elif moment == "recording":  # both return the new events' log positions, before the commit
        reached = lambda ids, _: bool(ids) and max(ids) >= n  # noqa: E731
        SQLiteApplicationRecorder._insert_events = kill_after(
            SQLiteApplicationRecorder._insert_events, reached)
        PostgresApplicationRecorder._fetch_ids_after_insert_events = kill_after(
            PostgresApplicationRecorder._fetch_ids_after_insert_events, reached)
    elif moment == "answering":
        Ledger.save = kill_after(Application.save, lambda recordings, _: any(
            r.notification.id >= n for r in recordings))
    elif moment == "projecting":  # process_in(self, cursor, events, bulk), in log order
        StateView.process_in = kill_after(
            StateView.process_in, lambda _, args: bool(args[2]) and args[2][-1][0].id >= n)
    else:
        raise SystemExit(f"moment must be one of {', '.join(MOMENTS)}")


if __name__ == "__main__":
    install(sys.argv[1], int(sys.argv[2]))
    sys.argv = ["ledger", *sys.argv[3:]]
    app()
