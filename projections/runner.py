"""Keeping the read model up to date: catch up in batches, follow the log live (polling on SQLite,
LISTEN/NOTIFY on PostgreSQL, under a lease per read model), restart where it stopped, rebuild from
position zero."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import psycopg
from eventsourcing.persistence import IntegrityError, PersistenceError

from ledger.commands import Ledger, Outcome
from ledger.errors import StoreUnavailable
from projections.audit import AuditModel
from projections.beside import rebuild_beside
from projections.leases import RENEW_EVERY, LeaseLost, Leases
from projections.queries import open_deadlines
from projections.store import NAME, StateView, open_view, refuse_newer

log = logging.getLogger("ledger.projections")

#: the read models `ledger rebuild NAME` knows: current state with the change log, and the
#: audit tree
READ_MODELS = (NAME, AuditModel.name)
#: events per transaction; also the bound on what a batch holds in memory
BATCH = 500
#: events per transaction in a rebuild from zero
BULK_BATCH = 5000
#: the longest wait between attempts to reach a PostgreSQL server that went away
RECONNECT_EVERY = 2.0
#: the shortest time between two settles of the parties' rows by date while writes keep coming
#: (settling reads each marked party's steps: under a stream of writes, once a second is enough)
SETTLE_EVERY = 1.0
#: failures to reach the store, which a follower outlives by trying again
UNREACHABLE = (psycopg.OperationalError, PersistenceError, sqlite3.Error, StoreUnavailable)
#: what a projector meets when another one (a thread of `ledger serve`, `ledger checkpoint`)
#: wrote the same batch first
CONFLICT = (sqlite3.IntegrityError, psycopg.IntegrityError, IntegrityError)


class Projector:
    """Projects the ledger's log into the state read model, exactly once per event."""

    def __init__(self, database_url: str, batch: int = BATCH) -> None:
        self.database_url = database_url
        self.ledger = Ledger(database_url)
        self.view: StateView = open_view(database_url)
        self.view.ledger = self.ledger
        self.audit = AuditModel(self.view)
        self.models = {NAME: self.view, AuditModel.name: self.audit}
        self.batch = batch
        self.on_change: Callable[[int, int], object] | None = None
        self._settled_at = -SETTLE_EVERY
        self._finish_rebuilds(self._unfinished_rebuilds())

    def close(self) -> None:
        self.view.datastore.close()
        self.ledger.close()

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def position(self) -> int:
        """How far every read model has got (the least of their positions)."""
        return min(model.position() for model in self.models.values())

    def catch_up(
        self, on_batch: Callable[[int], object] | None = None, names: Sequence[str] = READ_MODELS,
        bulk: bool = False, fence: Callable[[Any], object] | None = None,
    ) -> int:
        """Project every event recorded after each model's tracked position; returns how many
        events were read. The log is read once for all models, each event's state parsed once.
        `fence(cursor)` runs first in each batch's transaction and may refuse it by raising."""
        if self.view.outdated is not None and NAME in names:
            refuse_newer(self.view.outdated)
            self.rebuild((NAME,))  # beside the outdated one, which serves until then
        if self.view.dialect == "postgres" and NAME in names:
            fence = schema_fence(fence)
        return self.project_into(self.view, [self.models[name] for name in names], on_batch,
                                 bulk, fence)

    def project_into(
        self, view: StateView, models: Sequence[StateView | AuditModel],
        on_batch: Callable[[int], object] | None = None, bulk: bool = False,
        fence: Callable[[Any], object] | None = None,
    ) -> int:
        """`catch_up` for read models of `view` (the serving ones, or a rebuild's beside them)."""
        batch = BULK_BATCH if bulk else self.batch
        count = 0
        while True:
            positions = [model.position() for model in models]
            logged = self.ledger.read(min(positions), batch)
            if not logged:
                if not bulk and view in models and \
                        time.monotonic() - self._settled_at >= SETTLE_EVERY:
                    settle(view, fence)
                    self._settled_at = time.monotonic()
                return count
            events = [(record, orjson.loads(record.state)) for record in logged]
            try:
                with view.transaction() as cursor:  # every model's batch commits together
                    if fence is not None:
                        fence(cursor)
                    for model, position in zip(models, positions, strict=True):
                        model.process_in(cursor, [e for e in events if e[0].id > position], bulk)
            except CONFLICT:
                if [model.position() for model in models] == positions:
                    raise  # nobody else moved on: a real fault
                continue  # another projector wrote it first: go on from where it got
            count += len(events)
            if on_batch is not None:
                on_batch(logged[-1].id)

    def rebuild(
        self, names: Sequence[str] = READ_MODELS, on_batch: Callable[[int], object] | None = None
    ) -> int:
        """Project the whole log again from position zero, as a bulk load: bigger batches, and
        indexes built once at the end. On PostgreSQL the new read models are built beside the
        serving ones and take their place at once (projections/beside.py). On SQLite they are
        dropped and loaded in place; a rebuild that is interrupted there is finished by the
        next projector to open the read models: its rows and positions are exact, only the
        indexes are missing, and those are built then."""
        if self.view.dialect == "postgres":
            return rebuild_beside(self, names, on_batch)
        with self.view.transaction() as cursor:
            cursor.executemany(self.view.sql(
                "INSERT INTO read_model_rebuilds (name) VALUES (?) ON CONFLICT DO NOTHING"),
                [(name,) for name in names])
        for name in names:
            self.models[name].drop_model_tables()
        count = self.catch_up(on_batch, names, bulk=True)
        self._finish_rebuilds(names)
        return count

    def _unfinished_rebuilds(self) -> list[str]:
        with self.view.transaction(commit=False) as cursor:
            cursor.execute("SELECT name FROM read_model_rebuilds ORDER BY name")
            return [row["name"] for row in cursor.fetchall() if row["name"] in self.models]

    def _finish_rebuilds(self, names: Sequence[str]) -> None:
        if not names:
            return
        with self.view.transaction() as cursor:
            for name in names:
                self.models[name].finish_rebuild(cursor)
            cursor.executemany(self.view.sql("DELETE FROM read_model_rebuilds WHERE name = ?"),
                               [(name,) for name in names])

    def follow(
        self, stop: threading.Event, poll: float = 0.5,
        on_change: Callable[[int, int], object] | None = None, names: Sequence[str] = READ_MODELS,
    ) -> None:
        """Catch up the read models `names`, then wait for new events until `stop` is set;
        `on_change(before, after)` hears of each advance of the state read model's position.
        On PostgreSQL a read model is written only under its lease (projections.leases)."""
        self.on_change = on_change
        if self.view.dialect == "postgres":
            self._follow_notifications(stop, poll, names)
        else:  # eventsourcing has no subscription on SQLite: poll
            while not stop.is_set():
                try:
                    self._advance(names)
                except UNREACHABLE as error:  # e.g. the file stayed locked
                    log.warning("projection batch failed, retrying: %s", error)
                stop.wait(poll)

    def _advance(self, names: Sequence[str], fence: Callable[[Any], object] | None = None) -> None:
        before = self.view.position()
        if self.catch_up(names=names, fence=fence) and NAME in names and self.on_change:
            self.on_change(before, self.view.position())

    def _follow_notifications(self, stop: threading.Event, poll: float, names: Sequence[str]
                              ) -> None:
        """LISTEN on the events table's channel, and project the read models whose lease this
        worker holds (their batches fenced by it); a dropped connection is reopened, and the
        position in the read model means nothing is missed meanwhile. While the server is
        down, try again every RECONNECT_EVERY seconds at most, to resume soon after it is back."""
        channel = self.ledger.recorder.events_table_name.replace(".", "_")
        backoff = poll
        while not stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    leases = Leases(conn, names)
                    backoff = poll
                    try:
                        self._follow_leased(stop, poll, conn, leases)
                    finally:
                        leases.release()
            except UNREACHABLE as error:  # the listener's, or a batch's, e.g. ended by the server
                log.warning("projection worker lost a connection to the store: %s", error)
                stop.wait(backoff)
                backoff = min(backoff * 2, RECONNECT_EVERY)

    def _follow_leased(
        self, stop: threading.Event, poll: float, conn: psycopg.Connection, leases: Leases
    ) -> None:
        """Project what the leases held allow, then (every `poll` seconds, or every second at
        least) renew them and try to take the others, and wait for events; a batch first, so
        that a worker that resumes after a stall meets the fence at once."""
        every = min(poll, RENEW_EVERY)
        kept = -every
        while not stop.is_set():
            if held := leases.held:
                try:
                    self._advance(held, lambda cursor: leases.fence(cursor, held))
                except LeaseLost as lost:
                    log.warning("batch refused, standing by: %s", lost)
            if time.monotonic() - kept >= every:
                leases.keep()
                kept = time.monotonic()
            for _ in conn.notifies(timeout=every, stop_after=1):
                pass


def settle(view: StateView, fence: Callable[[Any], object] | None = None) -> None:
    """Once caught up, settle the parties' rows as effective on each date that the batches
    unsettled (projections/store.py): deferred while a backlog lasts, so that each party is
    settled once for all of it. The rows are computed from a read, and only written under the
    write lock (where a party whose steps changed meanwhile is left for the next settle)."""
    if not (marks := view.unsettled()):
        return
    with view.reading() as cursor:
        found = {key: view.effective_rows(cursor, key) for key in marks}
    try:
        with view.transaction() as cursor:
            if fence is not None:
                fence(cursor)
            view.settle(cursor, marks, found)
    except CONFLICT:
        pass  # another projector settled them first


def schema_fence(fence: Callable[[Any], object] | None) -> Callable[[Any], object]:
    """`fence`, after refusing a batch if a newer version's rebuild has switched its read model
    in meanwhile (this version's rows would not be what that one reads)."""
    def check(cursor: Any) -> None:
        cursor.execute("SELECT version FROM read_model_schema")
        refuse_newer(cursor.fetchone()["version"])
        if fence is not None:
            fence(cursor)
    return check


def run_tick(projector: Projector, today: str) -> list[Outcome]:
    """Lapse every due date before `today` that is unmet, judged on an up-to-date read model
    (the aggregates re-check each one, so a stale candidate records nothing)."""
    projector.catch_up()
    outcomes = [projector.ledger.record_lapse(path, today)
                for path, _ in open_deadlines(projector.view, today)]
    projector.catch_up()
    return outcomes
