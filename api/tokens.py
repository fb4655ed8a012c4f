"""Bearer tokens for recorders: created and revoked with `ledger token`, stored as hashes, checked
in constant time. A token reads `<id>.<secret>`; only the SHA-256 of the secret is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import psycopg

from ledger.errors import AlreadyExists, InvalidValue, NotFound
from ledger.storage import persistence_env, schema_lock

SCOPES = ("record", "adjudicate", "admin")
#: idle PostgreSQL connections the server's token store keeps at most
KEPT_CONNECTIONS = 4


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name is recorded on every event as `recorded_by`."""

    name: str
    scopes: frozenset[str]

    def may(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    """The `api_tokens` table beside the events (same database, outside the event log).
    `kept`: the server's store, which checks a token on every write, keeps its connections
    (a few PostgreSQL ones; one SQLite connection) where the CLI connects once per command."""

    def __init__(self, database_url: str, kept: bool = False) -> None:
        env = persistence_env(database_url)
        self.sqlite_path = env.get("SQLITE_DBNAME")
        self.database_url = database_url
        self._kept = kept
        self._lock = threading.Lock()
        self._sqlite: sqlite3.Connection | None = None
        self._idle: list[psycopg.Connection] = []
        self._closed = False
        with schema_lock(database_url), self._cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS api_tokens (name TEXT PRIMARY KEY, "
                "token_id TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, "
                "created_at TEXT NOT NULL, revoked_at TEXT)"
            )

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self._kept:
            with self._kept_cursor() as cursor:
                yield cursor
        elif self.sqlite_path is not None:
            conn = sqlite3.connect(self.sqlite_path, timeout=10)
            try:
                with conn:
                    yield _Qmark(conn.cursor())
            finally:
                conn.close()
        else:
            with psycopg.connect(self.database_url, connect_timeout=5) as conn, conn.cursor() as c:
                yield _Pyformat(c)

    @contextmanager
    def _kept_cursor(self) -> Iterator[Any]:
        """A cursor on a kept connection: the one SQLite connection, in turn; or an idle
        PostgreSQL connection (a new one when none is idle), kept again after use. An idle one
        is checked with an empty query as it is taken, and dropped if its server went away.
        Unlike a pool, which waits for the connection it is making, a store that is down fails
        the check of a token at once, as a new connection does."""
        if self.sqlite_path is not None:
            with self._lock:
                if self._sqlite is None:
                    self._sqlite = sqlite3.connect(self.sqlite_path, timeout=10,
                                                   check_same_thread=False)
                with self._sqlite:
                    yield _Qmark(self._sqlite.cursor())
            return
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            try:
                conn.execute("")  # a kept connection may have outlived its server
            except psycopg.Error:
                conn.close()
                conn = None
        if conn is None:
            conn = psycopg.connect(self.database_url, connect_timeout=5, autocommit=True)
        try:
            with conn.cursor() as cursor:
                yield _Pyformat(cursor)
        except BaseException:
            conn.close()
            raise
        with self._lock:
            if len(self._idle) < KEPT_CONNECTIONS and not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the kept connections (the server's store, as it stops)."""
        with self._lock:
            self._closed = True
            for conn in self._idle:
                conn.close()
            if self._sqlite is not None:
                self._sqlite.close()
            self._idle, self._sqlite = [], None

    def create(self, name: str, scopes: list[str]) -> str:
        """A new token; the only time its secret is shown."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if not scopes or unknown:
            raise InvalidValue(f"scopes must be among {', '.join(SCOPES)}", field="scope")
        if not name or len(name) > 100 or not name.isprintable():
            raise InvalidValue("a token name is 1-100 printable characters", field="name")
        token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc).isoformat()
        with self._cursor() as cursor:
            cursor.execute("SELECT 1 FROM api_tokens WHERE name = ?", (name,))
            if cursor.fetchone():
                raise AlreadyExists(f"a token named {name!r} exists", field="name")
            cursor.execute(
                "INSERT INTO api_tokens (name, token_id, secret_hash, scopes, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, token_id, _digest(secret), " ".join(sorted(set(scopes))), now),
            )
        return f"{token_id}.{secret}"

    def revoke(self, name: str) -> None:
        now = datetime.now(timezone.utc).isoformat()
        with self._cursor() as cursor:
            cursor.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (now, name),
            )
            if cursor.rowcount != 1:
                raise NotFound(f"no active token named {name!r}", field="name")

    def list(self) -> list[dict[str, Any]]:
        with self._cursor() as cursor:
            cursor.execute("SELECT name, scopes, created_at, revoked_at FROM api_tokens ORDER BY name")
            return [dict(zip(("name", "scopes", "created_at", "revoked_at"), row, strict=True))
                    for row in cursor.fetchall()]

    def authenticate(self, token: str) -> Principal | None:
        """The principal of an active token, or None; the secret is compared in constant time."""
        token_id, _, secret = token.partition(".")
        if not token_id or not secret:
            return None
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT name, secret_hash, scopes FROM api_tokens "
                "WHERE token_id = ? AND revoked_at IS NULL", (token_id,),
            )
            row = cursor.fetchone()
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        return Principal(name=row[0], scopes=frozenset(row[2].split()))


class _Qmark:
    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


class _Pyformat(_Qmark):
    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self.cursor.execute(sql.replace("?", "%s"), params)
