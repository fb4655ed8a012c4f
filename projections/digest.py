"""A SHA-256 over a canonical serialisation of the read model at its tracked position, so that
live following and a rebuild can be compared (and checkpoints can carry it)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from projections.store import CHANGE_COLUMNS, ENTITY_COLUMNS, NAME, StateView


@dataclass(frozen=True)
class Digest:
    position: int
    sha256: str


def state_digest(view: StateView) -> Digest:
    """Read the position and every row in one snapshot, in a fixed order."""
    digest = hashlib.sha256()
    with view.transaction(commit=False) as cursor:
        if view.dialect == "postgres":
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        position = view._max_tracking_id(NAME, cursor) or 0
        queries = (
            f"SELECT {', '.join(ENTITY_COLUMNS)} FROM entities ORDER BY path",
            f"SELECT {', '.join(CHANGE_COLUMNS)} FROM changes ORDER BY position",
            "SELECT ref, position FROM change_refs ORDER BY ref, position",
        )
        digest.update(orjson.dumps({"position": position}))
        for query in queries:
            cursor.execute(query)
            for row in cursor.fetchall():
                digest.update(orjson.dumps([row[c] for c in row.keys()]) + b"\n")
    return Digest(position, digest.hexdigest())
