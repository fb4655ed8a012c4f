"""From settings to eventsourcing's persistence, and the orjson transcoder for event state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import orjson
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, Transcoder
from eventsourcing.postgres import PostgresApplicationRecorder

from ledger.errors import InvalidValue


class EventStateTranscoder(Transcoder):
    """Event state as compact JSON through orjson.

    Every event field is JSON-native by design (dates are ISO strings, amounts decimal
    strings), except eventsourcing's `timestamp`, which is written as RFC 3339 text and read
    back as an aware datetime.
    """

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        state = orjson.loads(data)
        timestamp = state.get("timestamp")
        if timestamp is not None:
            state["timestamp"] = datetime.fromisoformat(timestamp)
        return state


def canonical_json(obj: Any) -> bytes:
    """Sorted-key compact JSON, for digests that must not depend on key order."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def _sqlite_path(url: SplitResult) -> str:
    """sqlite:///relative/path and sqlite:////absolute/path, as in SQLAlchemy."""
    path = unquote(url.path[1:] if url.path.startswith("/") else url.path)
    if not path:
        raise InvalidValue("sqlite URL needs a file path: sqlite:///var/ledger.db")
    return path


def persistence_env(database_url: str) -> dict[str, str]:
    """Map `LEDGER_DATABASE_URL` onto eventsourcing's persistence environment."""
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        path = _sqlite_path(url)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if url.scheme in ("postgresql", "postgres"):
        if not url.hostname or not url.path.strip("/"):
            raise InvalidValue(
                "postgresql URL needs a host and a database: postgresql://user:pass@host:5432/db"
            )
        query = parse_qs(url.query)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path.strip("/")),
            "POSTGRES_HOST": url.hostname,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or ""),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            # also how long a request waits for a pooled connection (see FailFast)
            "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", ["2"])[0],
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "APPLICATION_RECORDER_TOPIC": "ledger.storage:PostgresRecorder",
        }
    raise InvalidValue(
        f"unsupported database URL scheme {url.scheme!r}: use sqlite:/// or postgresql://"
    )


#: the event tables eventsourcing gives the `Ledger` application; a store without one holds
#: no ledger
SQLITE_EVENTS, POSTGRES_EVENTS = "stored_events", "ledger_events"


def missing_ledger(database_url: str) -> str | None:
    """Why the URL holds no ledger yet, or None if it does; checked without creating anything,
    since opening a store the usual way creates it (a mistyped path would become a new one)."""
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        path = Path(_sqlite_path(url))
        if not path.is_file():
            return f"{path} {'is a directory' if path.is_dir() else 'does not exist'}"
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
                found = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (SQLITE_EVENTS,),
                ).fetchone()
        except sqlite3.OperationalError:
            raise  # locked or unreadable: it cannot be opened, which is not holding no ledger
        except sqlite3.DatabaseError:
            return f"{path} is not a SQLite database"
        return None if found else f"{path} has no {SQLITE_EVENTS} table"
    env = persistence_env(database_url)  # refuses other schemes; creates nothing for PostgreSQL
    table = f"public.{POSTGRES_EVENTS}"
    with psycopg.connect(database_url, connect_timeout=env["POSTGRES_CONNECT_TIMEOUT"]) as conn:
        (found,) = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    where = f"database {env['POSTGRES_DBNAME']} on {env['POSTGRES_HOST']}"
    return None if found else f"{where} has no {POSTGRES_EVENTS} table"


def out_of_space(error: BaseException | None) -> bool:
    """Whether a store failure, or one it was raised while handling, was a full disk."""
    while error is not None:
        if isinstance(error, psycopg.errors.DiskFull) or (
                isinstance(error, sqlite3.Error)
                and error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL):
            return True
        error = error.__cause__ or error.__context__
    return False


#: eventsourcing's PostgreSQL recorder methods that retry ten times when they cannot connect
RETRIED = ("insert_events", "select_events", "select_notifications", "max_notification_id",
           "insert_tracking", "max_tracking_id", "has_tracking_id")
#: seconds the pool keeps retrying a lost connection in the background, backing off 1, 2 s...;
#: then the next request tries at once
RECONNECT_WITHIN = 2.0


class FailFast:
    """Mixin for eventsourcing's PostgreSQL recorders, so that while the server is down a
    request is answered (503) within the connect timeout, and once it is back the next
    request gets through. Each call is tried once, not ten times over (each try waits the
    connect timeout for a connection); a connection attempt gives up after the connect
    timeout too; the pool's background reconnection stops backing off after
    RECONNECT_WITHIN, where it would wait minutes; and when a call finds the server gone,
    every idle connection it dropped leaves the pool at once, where each would otherwise fail
    a request of its own once the server is back."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in RETRIED:
            method = getattr(cls, name, None)
            if hasattr(method, "__wrapped__"):  # eventsourcing's retry decorator
                setattr(cls, name, method.__wrapped__)

    def __init__(self, datastore: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(datastore, *args, **kwargs)
        pool = datastore.pool
        pool.kwargs["connect_timeout"] = max(2, round(pool.timeout))  # libpq's least is 2
        pool.reconnect_timeout = RECONNECT_WITHIN
        datastore.get_connection = _dropping_dead_connections(datastore.get_connection, pool)


def _dropping_dead_connections(get_connection: Any, pool: Any) -> Any:
    @contextmanager
    def checked() -> Iterator[Any]:
        try:
            with get_connection() as connection:
                yield connection
        except (OperationalError, InterfaceError):
            if not pool.closed:
                pool.check()  # tests every idle connection, keeps those that still work
            raise

    return checked


class PostgresRecorder(FailFast, PostgresApplicationRecorder):
    """The event store's recorder on PostgreSQL (see FailFast)."""


#: the PostgreSQL advisory lock that serialises creating tables (any fixed 64-bit number)
SCHEMA_LOCK = 0x4C454447455221


@contextmanager
def schema_lock(database_url: str) -> Iterator[None]:
    """Hold a lock while creating tables: workers starting together on PostgreSQL would
    otherwise race on CREATE ... IF NOT EXISTS. SQLite serialises DDL by itself."""
    if not database_url.startswith(("postgresql:", "postgres:")):
        yield
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def refuse_changes_to_events(recorder: Any) -> None:
    """Database triggers that refuse UPDATE and DELETE on the event table: the log only grows."""
    table = recorder.events_table_name
    if type(recorder).__module__ == "eventsourcing.sqlite":
        with recorder.datastore.transaction(commit=True) as cursor:
            for action in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{action.lower()} "
                    f"BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger events are immutable: {action} refused'); END"
                )
        return
    schema = recorder.datastore.schema
    trigger = f"{table}_refuse_change"
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s", (trigger,))
        if cursor.fetchone():
            return
        cursor.execute(
            "CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'ledger events are immutable: % refused', TG_OP; END $$"
        )
        cursor.execute(
            f'CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE OR TRUNCATE '
            f'ON "{schema}"."{table}" FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()'
        )
