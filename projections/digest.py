"""The state digest: what the read models hold, in one value, so that live following and a
rebuild can be compared, and a checkpoint can carry it for an auditor to recompute.

It is a set hash (projections/sethash.py) over the rows of the state read model: its entities,
its change rows and their references, and the dashboards (`boards`, and the steps of each
event, named by its event id). Rows are hashed without their log positions (a store restored
from an export numbers its log afresh, and must give the same digest) and without a change's
one-line summary (wording, which a better sentence must not make unverifiable).

- `state_digest` reads the sum the projector keeps with each batch: one row, at any size.
- `recomputed_digest` reads every row again and adds them up, in batches, in flat memory: how an
  auditor's replay is checked; `checked_digest` gives both in one snapshot, to check the kept
  sum against the rows (`ledger digest --recompute`).
- `ordered_digest` is the digest checkpoints carried before the set hash (`sha256`: one SHA-256
  over the rows in a fixed order); `ledger verify` still checks old checkpoints with it.

The kind of digest names it: `set-sha256` for the set hash, `sha256` for the ordered one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg.rows import tuple_row

from projections import sethash
from projections.store import (
    HASHED_CHANGE_COLUMNS,
    HASHED_ENTITY_COLUMNS,
    MEMBER_COLUMNS,
    NAME,
    STEP_COLUMNS,
    StateView,
)

_STEP = [c for c in STEP_COLUMNS if c != "position"]
#: (table, query) of the rows the set hash covers, in no particular order; `boards` rows are
#: counted (their last value, `n`)
SET_QUERIES = (
    ("entities", f"SELECT {', '.join(HASHED_ENTITY_COLUMNS)} FROM entities"),
    ("changes", f"SELECT {', '.join(HASHED_CHANGE_COLUMNS)} FROM changes"),
    ("change_refs", "SELECT r.ref, c.event_id FROM change_refs r "
                    "JOIN changes c ON c.position = r.position"),
    ("boards", f"SELECT {', '.join(MEMBER_COLUMNS)}, n FROM boards"),
    ("board_steps", f"SELECT c.event_id, {', '.join('s.' + c for c in _STEP)} "
                    "FROM board_steps s JOIN changes c ON c.position = s.position"),
)
#: the ordered digest: each row hashed as its JSON array and a newline, in this order
ORDERED_QUERIES = (
    f"SELECT {', '.join(HASHED_ENTITY_COLUMNS)} FROM entities ORDER BY path",
    f"SELECT {', '.join(HASHED_CHANGE_COLUMNS)} FROM changes ORDER BY position",
    "SELECT r.ref, c.event_id FROM change_refs r JOIN changes c "
    "ON c.position = r.position ORDER BY r.ref, r.position",
    f"SELECT {', '.join(MEMBER_COLUMNS)}, n FROM boards ORDER BY {', '.join(MEMBER_COLUMNS)}",
    f"SELECT c.event_id, {', '.join('s.' + c for c in _STEP)} "
    "FROM board_steps s JOIN changes c ON c.position = s.position "
    f"ORDER BY s.position, {', '.join('s.' + c for c in (*MEMBER_COLUMNS, 'effective', 'mode'))}",
)
#: rows held in memory at a time
BATCH = 5000


@dataclass(frozen=True)
class Digest:
    position: int
    sha256: str
    kind: str = sethash.KIND

    def __str__(self) -> str:
        """As a checkpoint carries it: `set-sha256:<hex>`."""
        return f"{self.kind}:{self.sha256}"


def state_digest(view: StateView) -> Digest:
    """The digest the projector keeps, and the position it stands at."""
    with view.transaction(commit=False) as cursor:
        return digest_in(view, cursor)


def digest_in(view: StateView, cursor: Any) -> Digest:
    """The kept digest as seen by an open read transaction."""
    cursor.execute("SELECT total FROM digest_sum WHERE id = 1")
    row = cursor.fetchone()
    kept = int(row["total"], 16) if row else 0
    return Digest(view._max_tracking_id(NAME, cursor) or 0, sethash.published(kept))


def recomputed_digest(view: StateView) -> Digest:
    """The set digest of the rows themselves, read in one snapshot, BATCH rows at a time."""
    with _snapshot(view) as cursor:
        return _rows_digest(view, cursor)


def checked_digest(view: StateView) -> tuple[Digest, Digest]:
    """The kept digest and the rows' own, in one snapshot: equal unless the kept sum is wrong."""
    with _snapshot(view) as cursor:
        return digest_in(view, cursor), _rows_digest(view, cursor)


def _rows_digest(view: StateView, cursor: Any) -> Digest:
    position = view._max_tracking_id(NAME, cursor) or 0
    found = 0
    for table, query in SET_QUERIES:
        add = sethash.weighted if table == "boards" else sethash.total
        for rows in _batches(view, cursor, query):
            found += add(table, rows)
    return Digest(position, sethash.published(found))


def ordered_digest(view: StateView) -> Digest:
    """The digest of checkpoints before the set hash: one SHA-256 over the rows in order."""
    digest = hashlib.sha256()
    with _snapshot(view) as cursor:
        position = view._max_tracking_id(NAME, cursor) or 0
        for query in ORDERED_QUERIES:
            for rows in _batches(view, cursor, query):
                digest.update(b"\n".join(map(orjson.dumps, rows)) + b"\n")
    return Digest(position, digest.hexdigest(), "sha256")


@contextmanager
def _snapshot(view: StateView) -> Iterator[Any]:
    """A read transaction that sees one snapshot for as long as reading every row takes."""
    with view.transaction(commit=False) as cursor:
        if view.dialect == "postgres":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # reading a large read model (1M events) takes longer than the 5 s a PostgreSQL
            # session may stay idle in a transaction (eventsourcing's setting) between queries
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        yield cursor


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
