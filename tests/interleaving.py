"""Real faults at chosen moments: another writer, or a store failure, just before a save."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg

from ledger.commands import Ledger


class Interleaved(Ledger):
    """A ledger that runs the next of `meanwhile` before each save: after a batch was checked,
    before its events are written."""

    name = "Ledger"  # the same tables as every other Ledger (eventsourcing names them after it)

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.meanwhile: list[Callable[[], Any]] = []

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        if self.meanwhile:
            self.meanwhile.pop(0)()
        return super().save(*objs, **kwargs)


@contextmanager
def store_failure(database_url: str) -> Iterator[Callable[[], None]]:
    """Yield a function that makes the store fail every write (SQLite: the events table is
    gone; PostgreSQL: the database refuses connections); mend it on leaving."""
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        path = url.path[1:]

        def sql(statement: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(statement)
            conn.close()

        try:
            yield lambda: sql("ALTER TABLE stored_events RENAME TO hidden_events")
        finally:
            sql("ALTER TABLE hidden_events RENAME TO stored_events")
        return
    name = url.path.strip("/")
    admin = database_url.rsplit("/", 1)[0] + "/postgres"

    def pg(*statements: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    try:
        yield lambda: pg(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                         f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         f"WHERE datname = '{name}'")
    finally:
        pg(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
