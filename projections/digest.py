"""A SHA-256 over a canonical serialisation of the state read model, so that live following and
a rebuild can be compared, and a checkpoint can carry it for an auditor to recompute.

Log positions are left out of the hashed rows (rows are still taken in log order): a store
restored from an export numbers its log afresh, and must give the same digest. So is each
change's one-line summary: it is wording made from the row's own fields and names, and a better
sentence must not make a signed digest unverifiable. The dashboards (`boards`, and the steps of
each event, named by its event id) are part of it.

The rows are streamed in batches (a server-side cursor on PostgreSQL), so that digesting takes
the same memory at any size of log."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg.rows import tuple_row

from projections.store import (
    CHANGE_COLUMNS,
    ENTITY_COLUMNS,
    MEMBER_COLUMNS,
    NAME,
    STEP_COLUMNS,
    StateView,
)

HASHED_ENTITY_COLUMNS = [c for c in ENTITY_COLUMNS if c != "position"]
HASHED_CHANGE_COLUMNS = [c for c in CHANGE_COLUMNS if c not in ("position", "summary")]
#: each row is hashed as its JSON array and a newline, in this order
QUERIES = (
    f"SELECT {', '.join(HASHED_ENTITY_COLUMNS)} FROM entities ORDER BY path",
    f"SELECT {', '.join(HASHED_CHANGE_COLUMNS)} FROM changes ORDER BY position",
    "SELECT r.ref, c.event_id FROM change_refs r JOIN changes c "
    "ON c.position = r.position ORDER BY r.ref, r.position",
    f"SELECT {', '.join(MEMBER_COLUMNS)}, n FROM boards ORDER BY {', '.join(MEMBER_COLUMNS)}",
    f"SELECT c.event_id, {', '.join('s.' + c for c in STEP_COLUMNS if c != 'position')} "
    "FROM board_steps s JOIN changes c ON c.position = s.position "
    f"ORDER BY s.position, {', '.join('s.' + c for c in (*MEMBER_COLUMNS, 'effective', 'mode'))}",
)
#: rows held in memory at a time
BATCH = 5000


@dataclass(frozen=True)
class Digest:
    position: int
    sha256: str


def state_digest(view: StateView) -> Digest:
    """Read the position and every row in one snapshot, in a fixed order."""
    with view.transaction(commit=False) as cursor:
        if view.dialect == "postgres":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return digest_in(view, cursor)


def digest_in(view: StateView, cursor: Any) -> Digest:
    """The digest as seen by an open read transaction."""
    digest = hashlib.sha256()
    # hashing a large read model (1M events) takes longer than the 5 s a PostgreSQL session may
    # stay idle in a transaction (eventsourcing's setting) between two queries: lift it here
    if view.dialect == "postgres":
        cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    position = view._max_tracking_id(NAME, cursor) or 0
    for query in QUERIES:
        for rows in _batches(view, cursor, query):
            digest.update(b"\n".join(map(orjson.dumps, rows)) + b"\n")
    return Digest(position, digest.hexdigest())


def _batches(view: StateView, cursor: Any, query: str) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a query as plain tuples, BATCH at a time, in the transaction of `cursor`."""
    if view.dialect == "postgres":
        rows = cursor.connection.cursor(name="state_digest", row_factory=tuple_row)
    else:
        rows = cursor.sqlite_cursor.connection.cursor()
        rows.row_factory = None
    try:
        rows.execute(query)
        while batch := rows.fetchmany(BATCH):
            yield batch
    finally:
        rows.close()
