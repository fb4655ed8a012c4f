"""Leases on read models in PostgreSQL: one projection worker at a time writes each read model;
the others stand by and take over when the holder dies or stalls.

A lease is a row per read model: a fencing token, who holds it, and when it expires. Its holder
renews it every RENEW_EVERY seconds, and every batch it projects renews it again inside the
batch's own transaction, on condition that the token is still its own and the lease has not
expired (`fence`). So a holder that stalled (SIGSTOP, a long pause) past its lease has its next
batch refused when it resumes; and while a batch is open, the row it renewed stays locked, so
nobody takes the lease over until that transaction has ended, committed or not (a stalled one is
ended by the server once idle for TTL, or by a standby TTL after the lease expired: END_STALLED).

A standby takes a lease once it has expired, or at once when the database session that took it
is gone (the holder was killed and the server closed its connection), as an advisory lock would
hand over. An advisory lock alone would not do: a stalled holder's idle session keeps it
forever, and a lock held by one connection cannot fence the batch another one commits."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psycopg

from ledger.storage import SCHEMA_LOCK
from projections.store import StateView

log = logging.getLogger("ledger.leases")

#: seconds a lease lasts unrenewed: how long a stalled holder keeps it
TTL = 5.0
#: seconds between renewals, and between a standby's attempts to take a lease over
RENEW_EVERY = 1.0

TABLE = """CREATE TABLE IF NOT EXISTS projection_leases (
    name TEXT PRIMARY KEY, token BIGINT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    session INTEGER NOT NULL, since TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)"""
#: a free lease (expired, or its holder's session gone) changes hands with a new token
TAKE = """INSERT INTO projection_leases AS l (name, token, host, pid, session, since, expires_at)
    VALUES (%(name)s, 1, %(host)s, %(pid)s, pg_backend_pid(), clock_timestamp(),
            clock_timestamp() + make_interval(secs => %(ttl)s))
    ON CONFLICT (name) DO UPDATE SET token = l.token + 1, host = excluded.host,
        pid = excluded.pid, session = excluded.session, since = excluded.since,
        expires_at = excluded.expires_at
    WHERE l.expires_at < clock_timestamp()
        OR NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = l.session)
    RETURNING token"""
#: only the token's holder renews, and only a lease that has not expired
RENEW = """UPDATE projection_leases SET expires_at = clock_timestamp() + make_interval(secs => %s)
    WHERE name = %s AND token = %s AND expires_at > clock_timestamp()"""
RELEASE = """UPDATE projection_leases SET expires_at = clock_timestamp()
    WHERE name = %s AND token = %s"""
#: end the session whose open batch has kept a lease row locked TTL past the lease's expiry: a
#: holder stopped while sending a statement (its COPY rows, a pipeline) is not idle, and the
#: server cancels nothing while it waits for a client's COPY data; only ending the session frees
#: the row (the session's transaction id, the row's xmax, names it in pg_locks)
END_STALLED = """SELECT pg_terminate_backend(l.pid) FROM projection_leases p
    JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = p.xmax
        AND l.mode = 'ExclusiveLock' AND l.granted
    WHERE p.name = %s AND p.expires_at < clock_timestamp() - make_interval(secs => %s)"""


class LeaseLost(Exception):
    """A batch met a lease that is no longer its worker's; the batch was rolled back."""


@dataclass(frozen=True)
class Holder:
    """Who holds a read model's lease: the process, and since when (UTC, RFC 3339)."""

    host: str
    pid: int
    since: str
    expires_at: str


class Leases:
    """The leases on `names` that one worker holds or waits for, over a connection of its own
    (autocommit) whose session stands for the worker while it lives."""

    def __init__(self, connection: psycopg.Connection, names: Sequence[str], ttl: float = TTL
                 ) -> None:
        self.connection, self.names, self.ttl = connection, tuple(names), ttl
        self.tokens: dict[str, int] = {}
        self.waiting: set[str] = set()  # the leases it stands by for, told once
        self.host, self.pid = socket.gethostname(), os.getpid()
        with connection.transaction():  # workers starting together would race on CREATE
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            connection.execute(TABLE)
        # a standby does not wait on a holder's open batch: it tries again next time
        connection.execute(f"SET lock_timeout = '{int(RENEW_EVERY * 1000)}ms'")

    @property
    def held(self) -> list[str]:
        return [name for name in self.names if name in self.tokens]

    def keep(self) -> list[str]:
        """Renew the leases held, take those that are free; the names held now."""
        for name in self.names:
            if name in self.tokens:
                renewed = self._try(RENEW, (self.ttl, name, self.tokens[name]))
                if renewed is not None and not renewed.rowcount:
                    del self.tokens[name]
                    log.warning("lost the lease on %s (it expired or was taken over)", name)
            if name not in self.tokens:
                taken = self._try(TAKE, {"name": name, "host": self.host, "pid": self.pid,
                                         "ttl": self.ttl})
                if taken is None:  # its holder's batch has the row: ended if long stalled
                    if self.connection.execute(END_STALLED, (name, self.ttl)).fetchall():
                        log.warning("ended the stalled batch of the lease on %s", name)
                elif (row := taken.fetchone()) is not None:
                    self.tokens[name] = row[0]
                    self.waiting.discard(name)
                    log.info("took the lease on %s (token %d)", name, row[0])
                if name not in self.tokens and name not in self.waiting:
                    self.waiting.add(name)
                    log.info("standing by for the lease on %s (another worker holds it)", name)
        return self.held

    def fence(self, cursor: Any, names: Sequence[str]) -> None:
        """In a batch's transaction, before it writes: renew the lease of every read model the
        batch writes, or refuse the batch (LeaseLost) if one is no longer this worker's."""
        # a holder stalled between this transaction's statements has it ended by the server
        idle = int(self.ttl * 1000)
        cursor.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{idle}ms'")
        for name in names:
            cursor.execute(RENEW, (self.ttl, name, self.tokens.get(name, 0)))
            if cursor.rowcount != 1:
                self.tokens.pop(name, None)
                raise LeaseLost(f"the lease on {name} is no longer this worker's")

    def release(self) -> None:
        """Hand the leases held over at once (on a clean stop); a broken connection hands them
        over anyway (its session is gone)."""
        for name in self.held:
            try:
                self.connection.execute(RELEASE, (name, self.tokens[name]))
            except psycopg.Error:
                break
        self.tokens.clear()

    def _try(self, statement: str, params: Any) -> psycopg.Cursor | None:
        """The statement's cursor, or None if the lease row stayed locked (a standby's attempt
        to take it, or its holder's open batch): try again next time."""
        try:
            return self.connection.execute(statement, params)
        except psycopg.errors.LockNotAvailable:
            return None


def holders(view: StateView) -> dict[str, Holder]:
    """The holder of each read model's lease that has not expired (none on SQLite, where no
    lease is taken, nor before a worker first took one)."""
    if view.dialect != "postgres":
        return {}
    with view.transaction(commit=False) as cursor:
        cursor.execute("SELECT to_regclass('projection_leases') AS leases")
        if cursor.fetchone()["leases"] is None:
            return {}
        cursor.execute("SELECT name, host, pid, since, expires_at FROM projection_leases "
                       "WHERE expires_at > clock_timestamp()")
        return {row["name"]: Holder(row["host"], row["pid"], _utc(row["since"]),
                                    _utc(row["expires_at"]))
                for row in cursor.fetchall()}


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
