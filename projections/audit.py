"""The audit read model: every event a dense leaf index in log order, and an RFC 9162 Merkle tree
over the leaf bytes whose complete subtrees are stored by (level, index), so that any root,
inclusion or consistency proof takes O(log n) lookups.

The leaf bytes of an event are its NDJSON export line without the newline (docs/audit.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking

from audit import merkle
from ledger.exchange import export_line
from ledger.storage import schema_lock
from projections.fold import Parsed
from projections.store import StateView

NAME = "audit"


def leaf_bytes(stored: StoredEvent, state: dict[str, Any] | None = None) -> bytes:
    """The exact bytes a leaf hashes: the event's export line, without its newline (`state` is
    the stored state already parsed, if it is at hand)."""
    return export_line(stored, state=state)[:-1]


@dataclass(frozen=True)
class Leaf:
    index: int
    position: int
    event_id: str


class AuditModel:
    """Leaves and subtree hashes in two tables beside the state read model (same database)."""

    name = NAME

    def __init__(self, view: StateView) -> None:
        self.view = view
        blob = "BLOB" if view.dialect == "sqlite" else "BYTEA"
        big = "INTEGER" if view.dialect == "sqlite" else "BIGINT"
        self.tables = [
            f"CREATE TABLE IF NOT EXISTS audit_leaves (leaf_index {big} PRIMARY KEY, "
            f"position {big} NOT NULL UNIQUE, event_id TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS audit_nodes (level INTEGER NOT NULL, idx {big} NOT NULL, "
            f"hash {blob} NOT NULL, PRIMARY KEY (level, idx))",
        ]
        self.indexes = [  # proof bundles are asked for by event id
            "CREATE INDEX IF NOT EXISTS audit_leaves_event_id ON audit_leaves (event_id)",
        ]
        if not view.read_only:
            self.create_model_tables()

    def create_model_tables(self, indexes: bool = True) -> None:
        """Create the tables; a rebuild adds the secondary index after the bulk load."""
        with schema_lock(self.view.database_url), self.view.transaction() as cursor:
            for statement in self.tables + (self.indexes if indexes else []):
                cursor.execute(statement)

    def finish_rebuild(self, cursor: Any) -> None:
        """After a bulk load from zero: the secondary index."""
        for statement in self.indexes:
            cursor.execute(statement)

    def model_tables(self) -> tuple[str, ...]:
        """Its tables (its position is in the tracking table)."""
        return ("audit_leaves", "audit_nodes")

    def drop_model_tables(self) -> None:
        with self.view.transaction() as cursor:
            for table in self.model_tables():
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(self.view.sql(
                f"DELETE FROM {self.view.tracking_table()} WHERE application_name = ?"), (NAME,))
        self.create_model_tables(indexes=False)

    def position(self) -> int:
        return self.view.max_tracking_id(NAME) or 0

    # -- writing -------------------------------------------------------------------------------

    def process_in(self, cursor: Any, events: Sequence[Parsed], bulk: bool = False) -> None:
        """Append the events as leaves and store every subtree they complete, with the tracking
        position, within the caller's transaction (a bulk load is no different here: the
        primary keys are the only indexes)."""
        if events:
            size = self._size(cursor)
            compact = merkle.CompactRange.from_peaks(size, self._peaks(cursor, size))
            leaves, nodes = [], []
            for offset, (logged, state) in enumerate(events):
                leaves.append((size + offset, logged.id, state["event_id"]))
                nodes.extend(compact.append(merkle.leaf_hash(leaf_bytes(logged, state))))
            self.view.insert_rows(cursor, "audit_leaves", ("leaf_index", "position", "event_id"),
                                  leaves)
            self.view.insert_rows(cursor, "audit_nodes", ("level", "idx", "hash"), nodes)
            self.view._insert_tracking(cursor, Tracking(NAME, events[-1][0].id))

    # -- reading -------------------------------------------------------------------------------

    def size(self) -> int:
        with self.view.reading() as cursor:
            return self._size(cursor)

    def _size(self, cursor: Any) -> int:
        """Leaves are dense from 0, so the size is the last index plus one (an index lookup)."""
        cursor.execute("SELECT MAX(leaf_index) AS last FROM audit_leaves")
        last = cursor.fetchone()["last"]
        return 0 if last is None else int(last) + 1

    def _peaks(self, cursor: Any, size: int) -> list[bytes]:
        """The complete subtrees on the right edge of a tree of `size` leaves, left to right."""
        keys, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                keys.append((level, start >> level))
                start += 1 << level
        found = self._nodes(cursor, keys)
        return [found[key] for key in keys]

    def _nodes(self, cursor: Any, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        if not keys:
            return {}
        if self.view.dialect == "postgres":  # a join on two arrays plans in a fixed time, where
            # PostgreSQL planned and ran the ORs of a proof's 20-40 keys in twice the time
            cursor.execute("SELECT level, idx, hash FROM unnest(%s::integer[], %s::bigint[]) "
                           "AS wanted (level, idx) JOIN audit_nodes USING (level, idx)",
                           ([level for level, _ in keys], [idx for _, idx in keys]))
        else:
            clause = " OR ".join("(level = ? AND idx = ?)" for _ in keys)
            cursor.execute(f"SELECT level, idx, hash FROM audit_nodes WHERE {clause}",
                           [value for key in keys for value in key])
        return {(row["level"], row["idx"]): bytes(row["hash"]) for row in cursor.fetchall()}

    def _range_hash(self, cursor: Any, ranges: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        keys = sorted({key for start, end in ranges for key in merkle.aligned_subtrees(start, end)})
        nodes = self._nodes(cursor, keys)
        return {(start, end): merkle.range_hash_from_nodes(lambda lv, ix: nodes[(lv, ix)], start, end)
                for start, end in ranges}

    def root(self, size: int) -> bytes:
        """The root hash of the first `size` leaves."""
        if size == 0:
            return merkle.EMPTY_ROOT
        with self.view.reading() as cursor:
            return self._range_hash(cursor, [(0, size)])[(0, size)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        with self.view.reading() as cursor:
            hashes = self._range_hash(cursor, merkle.inclusion_ranges(index, size))
        return merkle.inclusion_path(lambda s, e: hashes[(s, e)], index, size)

    def consistency(self, first: int, second: int) -> list[bytes]:
        with self.view.reading() as cursor:
            hashes = self._range_hash(cursor, merkle.consistency_ranges(first, second))
        return merkle.consistency_path(lambda s, e: hashes[(s, e)], first, second)

    def level_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """The hashes of the complete subtrees start..end-1 at one tree level, in order (fewer
        where the tree has not completed them): what a C2SP tile holds."""
        with self.view.reading() as cursor:
            cursor.execute(self.view.sql(
                "SELECT hash FROM audit_nodes WHERE level = ? AND idx >= ? AND idx < ? "
                "ORDER BY idx"), (level, start, end))
            return [bytes(row["hash"]) for row in cursor.fetchall()]

    def leaf_index(self, event_id: str) -> int | None:
        """The leaf of an event, if the tree holds it yet."""
        with self.view.reading() as cursor:
            cursor.execute(self.view.sql(
                "SELECT leaf_index FROM audit_leaves WHERE event_id = ?"), (event_id,))
            row = cursor.fetchone()
        return None if row is None else int(row["leaf_index"])

    def leaves(self, start: int, end: int) -> list[Leaf]:
        with self.view.reading() as cursor:
            cursor.execute(self.view.sql(
                "SELECT leaf_index, position, event_id FROM audit_leaves "
                "WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index"), (start, end))
            return [Leaf(row["leaf_index"], row["position"], row["event_id"])
                    for row in cursor.fetchall()]
