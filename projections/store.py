"""The state read model in SQL: entity rows, change-log rows and the tracking position, written
in one transaction per batch of events, on SQLite or PostgreSQL (eventsourcing's tracking
recorders keep the position)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, NamedTuple

import orjson
import psycopg
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from ledger.commands import Ledger
from ledger.storage import FailFast, persistence_env, schema_lock
from projections.fold import (
    CORRECTIONS,
    NOT_PROJECTED,
    Change,
    Parsed,
    State,
    apply,
    diff,
    fold,
)
from projections.dashboards import (
    KINDS as BELONGING,
    PARTY_BOARDS,
    Member,
    PartyKey,
    ROW_BOARDS,
    PartyRows,
    Timeline,
    effective_rows,
    empty_row,
)
from projections.names import Names
from projections.sethash import MODULUS, total, weighted
from projections.summaries import summarise

#: the name the read model's position is tracked under
NAME = "state"
#: bump when the tables or their rows change: an older read model is dropped and rebuilt
SCHEMA_VERSION = 9
APP = "Ledger"
#: the kinds of entity whose names summaries use
NAMED = ("parties", "instruments")

ENTITY_COLUMNS = (
    "path", "kind", "party", "instrument", "status", "due_on", "version", "position",
    "recorded_at", "state",
)
CHANGE_COLUMNS = (
    "position", "event_id", "type", "entity", "kind", "version", "party", "instrument",
    "provisions", "recorded_at", "effective_on", "effective_from", "effective_to",
    "recorded_by", "sources", "note", "summary", "fields", "diff",
)
#: what the state digest hashes of each row (projections/sethash.py): no log positions (a store
#: restored from an export numbers its log afresh, and must give the same digest), and not a
#: change's one-line summary (wording, which a better sentence must not make unverifiable)
HASHED_ENTITY_COLUMNS = tuple(c for c in ENTITY_COLUMNS if c != "position")
HASHED_CHANGE_COLUMNS = tuple(c for c in CHANGE_COLUMNS if c not in ("position", "summary"))
_ENTITY_HASHED = [ENTITY_COLUMNS.index(c) for c in HASHED_ENTITY_COLUMNS]
_STATE = HASHED_ENTITY_COLUMNS.index("state")
_CHANGE_HASHED = [CHANGE_COLUMNS.index(c) for c in HASHED_CHANGE_COLUMNS]


#: built after the rows in a rebuild (a bulk load is faster without them)
INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS changes_by_event ON changes (event_id)",
    "CREATE INDEX IF NOT EXISTS changes_by_entity ON changes (entity, position)",
    "CREATE INDEX IF NOT EXISTS change_refs_by_ref ON change_refs (ref, position)",
    "CREATE INDEX IF NOT EXISTS entities_by_kind ON entities (kind, path)",
    "CREATE INDEX IF NOT EXISTS entities_by_party_kind ON entities (party, kind, path)",
    "CREATE INDEX IF NOT EXISTS entities_by_due ON entities (due_on)",
    "CREATE INDEX IF NOT EXISTS changes_by_type ON changes (type, position)",
    "CREATE INDEX IF NOT EXISTS changes_by_kind ON changes (kind, position)",
    "CREATE INDEX IF NOT EXISTS changes_by_recorded ON changes (recorded_at, position)",
    "CREATE INDEX IF NOT EXISTS changes_by_effective ON changes (effective_from, position)",
    # a dashboard on another clock sums each member's steps, member by member
    "CREATE INDEX IF NOT EXISTS board_steps_by_member ON board_steps (board, instrument, bucket, "
    "party, detail, position, recorded_at, effective, mode, delta)",
    # a party's members of a board, to start keeping its row of `board_parties`
    "CREATE INDEX IF NOT EXISTS boards_by_party ON boards (board, instrument, party, bucket, "
    "detail, n)",
    # a party's steps by date, to settle its rows of `board_party_effective`
    "CREATE INDEX IF NOT EXISTS board_steps_by_party ON board_steps (board, instrument, party, "
    "effective, bucket, detail, mode, delta)",
]
#: read models being rebuilt from zero, whose indexes are still to be built
REBUILDS = "CREATE TABLE IF NOT EXISTS read_model_rebuilds (name TEXT PRIMARY KEY)"
MEMBER_COLUMNS = ("board", "instrument", "bucket", "party", "detail")
STEP_COLUMNS = (*MEMBER_COLUMNS, "position", "recorded_at", "effective", "mode", "delta")


class NewerReadModel(Exception):
    """The state read model has a newer schema than this version of the ledger knows."""


def refuse_newer(found: int) -> None:
    """Refuse to write or replace a read model whose schema is newer than this version's."""
    if found > SCHEMA_VERSION:
        raise NewerReadModel(
            f"the state read model has schema version {found}, newer than this version's "
            f"{SCHEMA_VERSION}: a newer ledger has taken it over; stop this process")


def _tables(big_int: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS entities (
            path TEXT PRIMARY KEY, kind TEXT NOT NULL, party TEXT, instrument TEXT,
            status TEXT, due_on TEXT, version {big_int} NOT NULL, position {big_int} NOT NULL,
            recorded_at TEXT NOT NULL, state TEXT NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS changes (
            position {big_int} PRIMARY KEY, event_id TEXT NOT NULL, type TEXT NOT NULL,
            entity TEXT NOT NULL, kind TEXT NOT NULL, version {big_int} NOT NULL, party TEXT,
            instrument TEXT, provisions TEXT NOT NULL, recorded_at TEXT NOT NULL,
            effective_on TEXT, effective_from TEXT NOT NULL, effective_to TEXT NOT NULL,
            recorded_by TEXT NOT NULL, sources TEXT NOT NULL, note TEXT, summary TEXT NOT NULL,
            fields TEXT NOT NULL, diff TEXT NOT NULL)""",
        f"CREATE TABLE IF NOT EXISTS change_refs (ref TEXT NOT NULL, position {big_int} NOT NULL)",
        # dashboards (projections/dashboards.py): members now, and every event's steps
        f"""CREATE TABLE IF NOT EXISTS boards (
            board TEXT NOT NULL, instrument TEXT NOT NULL, bucket TEXT NOT NULL,
            party TEXT NOT NULL, detail TEXT NOT NULL, n {big_int} NOT NULL,
            PRIMARY KEY (board, instrument, bucket, party, detail))""",
        f"""CREATE TABLE IF NOT EXISTS board_steps (
            board TEXT NOT NULL, instrument TEXT NOT NULL, bucket TEXT NOT NULL,
            party TEXT NOT NULL, detail TEXT NOT NULL, position {big_int} NOT NULL,
            recorded_at TEXT NOT NULL, effective TEXT NOT NULL, mode TEXT NOT NULL,
            delta INTEGER NOT NULL)""",
        # each party's row of a summary or a matrix: now, and from each event that changed it
        """CREATE TABLE IF NOT EXISTS board_parties (
            board TEXT NOT NULL, instrument TEXT NOT NULL, party TEXT NOT NULL,
            body TEXT NOT NULL, PRIMARY KEY (board, instrument, party))""",
        f"""CREATE TABLE IF NOT EXISTS board_party_history (
            board TEXT NOT NULL, instrument TEXT NOT NULL, party TEXT NOT NULL,
            position {big_int} NOT NULL, body TEXT NOT NULL,
            PRIMARY KEY (board, instrument, party, position))""",
        # each party's row as effective from each date, as known now, once settled: a party whose
        # steps changed since is `unsettled` (with the last position that changed them)
        """CREATE TABLE IF NOT EXISTS board_party_effective (
            board TEXT NOT NULL, instrument TEXT NOT NULL, party TEXT NOT NULL,
            effective TEXT NOT NULL, mode TEXT NOT NULL, body TEXT NOT NULL,
            PRIMARY KEY (board, instrument, party, effective, mode))""",
        f"""CREATE TABLE IF NOT EXISTS board_party_unsettled (
            board TEXT NOT NULL, instrument TEXT NOT NULL, party TEXT NOT NULL,
            position {big_int} NOT NULL, PRIMARY KEY (board, instrument, party))""",
        # the state digest's sum over the rows above, kept by each batch (projections/sethash.py)
        "CREATE TABLE IF NOT EXISTS digest_sum (id INTEGER PRIMARY KEY, total TEXT NOT NULL)",
    ]


class StateView:
    """Dialect-neutral SQL for the state read model (placeholders written as `?`)."""

    dialect = ""
    datastore: Any
    #: the database it lives in (set by `open_view`)
    database_url = ""
    #: on a read-only streaming replica: what is built on the view creates no tables there
    read_only = False
    #: the ledger whose log it projects (set by the projector)
    ledger: Ledger | None = None
    #: names for summaries, as of the read-model position `_names_at` (see `names`)
    _names: Names | None = None
    _names_at = -1

    #: the version of the read model found, when it is not this code's (`create_model_tables`)
    outdated: int | None = None
    #: the parties' rows of the dashboards, and the read-model position they are as of (-1
    #: while a batch is under way; see `process_in`)
    _party_rows: PartyRows
    _party_rows_at = -1

    def create_model_tables(self, indexes: bool = True) -> None:
        """Create the tables; a rebuild adds the secondary indexes after the bulk load. A read
        model of another version is dropped and rebuilt from zero on SQLite; on PostgreSQL it
        keeps serving, marked `outdated`, until a rebuild beside it takes its place
        (projections/beside.py): only the tables it lacks are added, empty."""
        with self.transaction() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS read_model_schema (version INTEGER)")
            cursor.execute("SELECT version FROM read_model_schema")
            row = cursor.fetchone()
            self.outdated = None
            if row is not None and row["version"] != SCHEMA_VERSION and self.dialect == "postgres":
                self.outdated = row["version"]
                # not model_table_statements: its ALTER would rewrite the old changes table
                for statement in _tables("BIGINT"):
                    cursor.execute(statement)
                cursor.execute(REBUILDS)
                return
            if row is not None and row["version"] != SCHEMA_VERSION:
                self._drop(cursor)
            if row is None or row["version"] != SCHEMA_VERSION:
                cursor.execute("DELETE FROM read_model_schema")
                cursor.execute(self.sql("INSERT INTO read_model_schema (version) VALUES (?)"),
                               (SCHEMA_VERSION,))
            for statement in self.model_table_statements():
                cursor.execute(statement)
            cursor.execute(REBUILDS)
            if indexes:
                self.create_indexes(cursor)

    def create_indexes(self, cursor: Any) -> None:
        for statement in INDEXES + self.extra_indexes():
            cursor.execute(statement)

    def extra_indexes(self) -> list[str]:
        return []

    def finish_rebuild(self, cursor: Any) -> None:
        """After a bulk load from zero: the secondary indexes, the full-text index, and every
        party's rows as effective on each date."""
        self.create_indexes(cursor)
        self._reindex_text(cursor)
        cursor.execute("SELECT board, instrument, party FROM board_parties ORDER BY 1, 2, 3")
        for key in [(row["board"], row["instrument"], row["party"]) for row in cursor.fetchall()]:
            self._write_effective(cursor, key, self.effective_rows(cursor, key))
        cursor.execute("DELETE FROM board_party_unsettled")

    def _reindex_text(self, cursor: Any) -> None:
        """Index every change row's text at once (PostgreSQL computes it on insert)."""

    @abstractmethod
    def model_table_statements(self) -> list[str]:
        """CREATE statements of the tables, in this dialect."""

    def drop_model_tables(self) -> None:
        """Forget the read model and its position, for a rebuild from zero (the secondary
        indexes come back with `finish_rebuild` once the bulk load is done)."""
        with self.transaction() as cursor:
            self._drop(cursor)
        self.create_model_tables(indexes=False)

    def model_tables(self) -> tuple[str, ...]:
        """The tables of the state read model (its position is in the tracking table)."""
        return ("change_refs", "changes", "entities", "boards", "board_steps", "board_parties",
                "board_party_history", "board_party_effective", "board_party_unsettled",
                "digest_sum", *self.extra_tables())

    def _drop(self, cursor: Any) -> None:
        for table in self.model_tables():
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(self.sql(f"DELETE FROM {self.tracking_table()} WHERE application_name = ?"),
                       (NAME,))

    def extra_tables(self) -> tuple[str, ...]:
        return ()

    @abstractmethod
    def tracking_table(self) -> str:
        """The table eventsourcing keeps tracking positions in."""

    def sql(self, statement: str) -> str:
        return statement

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A cursor for a read of one statement, or of several that need not share a snapshot
        (on SQLite they share one all the same: see PostgresStateView for where they do not)."""
        with self.transaction(commit=False) as cursor:
            yield cursor

    def position(self) -> int:
        return self.max_tracking_id(NAME) or 0

    def reads_older_schema(self) -> bool:
        """Whether this view serves a read model of an older schema version (PostgreSQL, while
        a rebuild beside it is under way): asked of the store again while it does, until the
        new one is switched in."""
        if self.outdated is not None and schema_version(self) == SCHEMA_VERSION:
            self.outdated = None
        return self.outdated is not None

    # -- writing a batch ---------------------------------------------------------------------

    def process_in(self, cursor: Any, events: Sequence[Parsed], bulk: bool = False) -> None:
        """Project a batch of events and advance the position past it, within the caller's
        transaction (the projector commits every model's batch together). In `bulk` (a rebuild
        from zero) the full-text index is left to `finish_rebuild`."""
        if events:
            # a bulk load keeps the parties' rows from batch to batch, while its position is
            # the read model's (a batch rolled back, or another writer, makes them stale)
            if not bulk or self._party_rows_at != (self._max_tracking_id(NAME, cursor) or 0):
                self._party_rows = PartyRows()
            self._party_rows_at = -1
            self.write(cursor, self.project(cursor, events), bulk)
            self._insert_tracking(cursor, Tracking(NAME, events[-1][0].id))
            self._party_rows_at = events[-1][0].id

    def project(self, cursor: Any, events: Sequence[Parsed]) -> Projected:
        """The rows a batch of events adds or replaces; `cursor` reads the entities' states as
        they were before the batch."""
        changes = [Change.from_logged(logged, state) for logged, state in events
                   if state["entity"].partition("/")[0] not in NOT_PROJECTED]
        found = self._current_rows(cursor, {c.entity for c in changes})
        states = {path: orjson.loads(row[_STATE]) for path, row in found.items()}
        names = self.names(cursor)
        self._names_at = -1  # until the batch is projected whole
        touched: dict[str, int] = {}
        rows: list[tuple[Any, ...]] = []
        refs: list[tuple[str, int]] = []
        timelines = self._timelines(changes)
        steps: list[tuple[Any, ...]] = []
        counts: dict[Member, int] = {}
        moves: list[tuple[int, Member, int]] = []
        for change in changes:
            before = states.get(change.entity)
            if change.type in CORRECTIONS:
                after = fold(self._entity_history(change))
            else:
                after = apply(before, change)
            states[change.entity] = after
            touched[change.entity] = change.position
            if change.kind in NAMED and after is not None:
                names.learn(after)
            row, row_refs = change_row(change, before, after, names)
            rows.append(row)
            refs.extend((ref, change.position) for ref in row_refs)
            if change.entity in timelines:
                change_steps, now = timelines[change.entity].advance(change)
                steps += change_steps
                for member, n in now.items():
                    counts[member] = counts.get(member, 0) + n
                    if member[0] in PARTY_BOARDS:
                        moves.append((change.position, member, n))
        if events:
            self._names_at = events[-1][0].id
        return Projected(rows, refs, [entity_row(states[p], pos) for p, pos in touched.items()],
                         steps, [(*member, n) for member, n in counts.items() if n], moves,
                         [found[path] for path in touched if path in found])

    def _timelines(self, changes: list[Change]) -> dict[str, Timeline]:
        """The dashboard timeline of each entity of the batch that belongs to buckets, with
        its changes before the batch read from the log."""
        first: dict[str, Change] = {}
        for change in changes:
            if change.kind in BELONGING:
                first.setdefault(change.entity, change)
        older = sorted(path for path, change in first.items() if change.version > 1)
        history: dict[str, list[Change]] = {path: [] for path in first}
        if older:
            if self.ledger is None:
                raise RuntimeError("a state view that projects needs the ledger it reads")
            for logged in self.ledger.read_entities(older, changes[0].position):
                change = Change.from_logged(logged, orjson.loads(logged.state))
                history[change.entity].append(change)
        return {path: Timeline(found) for path, found in history.items()}

    def names(self, cursor: Any) -> Names:
        """Names of parties and instruments as of the read model's position in this
        transaction: kept from batch to batch, and loaded again from the entities when that
        position is not the one they were kept at (first use, a rebuild, a batch rolled back)."""
        position = self._max_tracking_id(NAME, cursor) or 0
        if self._names is None or self._names_at != position:
            self._names = Names()
            cursor.execute("SELECT state FROM entities WHERE kind IN ('parties', 'instruments')")
            for row in cursor.fetchall():
                self._names.learn(orjson.loads(row["state"]))
            self._names_at = position
        return self._names

    def write(self, cursor: Any, projected: Projected, bulk: bool = False) -> None:
        """Insert a batch's change rows and references, upsert its entities, and count its
        dashboard members, with the parties' rows they make."""
        if projected.changes:
            self.insert_rows(cursor, "changes", CHANGE_COLUMNS, projected.changes)
            if not bulk:
                self._index_text(cursor, projected.changes)
        if projected.refs:
            self.insert_rows(cursor, "change_refs", ("ref", "position"), projected.refs)
        if projected.entities:
            cursor.executemany(self._upsert_entity, projected.entities)
        if projected.steps:
            self.insert_rows(cursor, "board_steps", STEP_COLUMNS, projected.steps)
            self._unsettle(cursor, projected.steps, bulk)
        if projected.moves:  # before `boards` takes the batch's counts
            self._keep_party_rows(cursor, projected.moves)
        if projected.counts:
            key = ", ".join(MEMBER_COLUMNS)
            cursor.executemany(self.sql(
                f"INSERT INTO boards ({key}, n) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ({key}) "
                "DO UPDATE SET n = boards.n + excluded.n"), projected.counts)
            cursor.executemany(self.sql(
                f"DELETE FROM boards WHERE {' AND '.join(f'{c} = ?' for c in MEMBER_COLUMNS)} "
                "AND n = 0"), [row[:5] for row in projected.counts if row[5] < 0])
        self._keep_digest(cursor, projected)

    def _unsettle(self, cursor: Any, steps: list[tuple[Any, ...]], bulk: bool) -> None:
        """Mark the parties whose steps the batch changes as unsettled, with the last position
        that changed them (a bulk load settles every party at its end instead); and give each a
        row in `board_parties`, empty if it has no members now, so that a clock of dates finds
        every party that had any."""
        last: dict[PartyKey, int] = {}
        for row in steps:
            if row[0] in PARTY_BOARDS:
                last[PARTY_BOARDS[row[0]], row[1], row[3]] = row[5]
        if not bulk:
            cursor.executemany(self.sql(
                "INSERT INTO board_party_unsettled (board, instrument, party, position) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (board, instrument, party) "
                "DO UPDATE SET position = excluded.position"),
                [(*key, position) for key, position in sorted(last.items())])
        # a bulk load keeps its parties in memory: those have their row already
        cursor.executemany(self.sql(
            "INSERT INTO board_parties (board, instrument, party, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (board, instrument, party) DO NOTHING"),
            [(*key, empty_row(key[0])) for key in sorted(last)
             if not (bulk and key in self._party_rows)])

    def unsettled(self) -> dict[PartyKey, int]:
        """The parties marked unsettled, with the last position that changed their steps."""
        with self.reading() as cursor:
            cursor.execute("SELECT board, instrument, party, position FROM board_party_unsettled")
            return {(row["board"], row["instrument"], row["party"]): row["position"]
                    for row in cursor.fetchall()}

    def effective_rows(self, cursor: Any, key: PartyKey) -> set[tuple[str, str, str]]:
        """A party's rows (mode, effective from, body) as effective on each date, from its
        steps (projections/dashboards.py, `effective_rows`)."""
        boards = ROW_BOARDS[key[0]]
        cursor.execute(self.sql(
            "SELECT board, bucket, detail, effective, mode, delta FROM board_steps WHERE board IN "
            f"({', '.join('?' * len(boards))}) AND instrument = ? AND party = ?"),
            (*boards, *key[1:]))
        # in date order: each board's steps come in that order from the index, and sorting
        # merges the runs (cheaper than the database sorting them all)
        steps = sorted(((r["board"], r["bucket"], r["detail"], r["effective"], r["mode"],
                         r["delta"]) for r in cursor.fetchall()), key=lambda step: step[3])
        return set(effective_rows(key, steps))

    def settle(self, cursor: Any, marks: dict[PartyKey, int],
               found: dict[PartyKey, set[tuple[str, str, str]]]) -> int:
        """Write the rows `found` of each party marked at the position `marks` says, if its
        mark still says so: the rows were read before this transaction (outside the write
        lock), and a party whose steps changed since keeps its mark for the next settle. How
        many parties were settled."""
        settled = 0
        for key, position in sorted(marks.items()):
            cursor.execute(self.sql(
                "DELETE FROM board_party_unsettled WHERE board = ? AND instrument = ? AND "
                "party = ? AND position = ? RETURNING position"), (*key, position))
            if cursor.fetchone() is not None:
                self._write_effective(cursor, key, found[key])
                settled += 1
        return settled

    def _write_effective(self, cursor: Any, key: PartyKey,
                         wanted: set[tuple[str, str, str]]) -> None:
        """Make a party's rows of `board_party_effective` these: only the rows that differ
        from those stored are deleted or written."""
        where = "board = ? AND instrument = ? AND party = ?"
        cursor.execute(self.sql(f"SELECT mode, effective, body FROM board_party_effective "
                                f"WHERE {where}"), key)
        held = {(r["mode"], r["effective"], r["body"]) for r in cursor.fetchall()}
        if stale := sorted(held - wanted):
            cursor.executemany(self.sql(
                f"DELETE FROM board_party_effective WHERE {where} AND effective = ? AND mode = ?"),
                [(*key, effective, mode) for mode, effective, _ in stale])
        if new := sorted(wanted - held):
            self.insert_rows(cursor, "board_party_effective", (
                "board", "instrument", "party", "mode", "effective", "body"),
                [(*key, *row) for row in new])

    def _keep_party_rows(self, cursor: Any, moves: list[tuple[int, Member, int]]) -> None:
        """Advance the rows of the parties the batch moves: each new row goes to
        `board_party_history` at the position of its event, the last to `board_parties`. A
        party not yet kept is read from `boards` as it stood before the batch."""
        rows = self._party_rows
        keys = sorted({key for _, m, _ in moves
                       if (key := (PARTY_BOARDS[m[0]], m[1], m[3])) not in rows})
        for board, instrument, party in keys:
            boards = ROW_BOARDS[board]
            cursor.execute(self.sql(
                "SELECT board, bucket, detail, n FROM boards WHERE board IN "
                f"({', '.join('?' * len(boards))}) AND instrument = ? AND party = ?"),
                (*boards, instrument, party))
            rows.seed((board, instrument, party),
                      [(r["board"], r["bucket"], r["detail"], r["n"]) for r in cursor.fetchall()])
        found = rows.advance(moves)
        if found:
            self.insert_rows(cursor, "board_party_history", (
                "board", "instrument", "party", "position", "body"),
                [(*key, position, body) for key, position, body in found])
            latest: dict[PartyKey, str] = {key: body for key, _, body in found}
            cursor.executemany(self.sql(
                "INSERT INTO board_parties (board, instrument, party, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (board, instrument, party) DO UPDATE SET body = excluded.body"),
                [(*key, body) for key, body in latest.items()])

    def _keep_digest(self, cursor: Any, projected: Projected) -> None:
        """Add what the batch changes to the state digest's sum, in the batch's transaction."""
        event_ids = {row[0]: row[1] for row in projected.changes}
        change = total("changes", ([row[i] for i in _CHANGE_HASHED] for row in projected.changes))
        change += total("change_refs", ((ref, event_ids[p]) for ref, p in projected.refs))
        change += total("entities", ([row[i] for i in _ENTITY_HASHED] for row in projected.entities))
        change -= total("entities", projected.replaced)
        change += weighted("boards", projected.counts)
        change += total("board_steps", ((event_ids[row[5]], *row[:5], *row[6:])
                                        for row in projected.steps))
        cursor.execute("SELECT total FROM digest_sum WHERE id = 1")
        row = cursor.fetchone()
        kept = (int(row["total"], 16) + change) % MODULUS if row else change % MODULUS
        cursor.execute(self.sql(
            "INSERT INTO digest_sum (id, total) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET total = excluded.total"), (f"{kept:x}",))

    def _current_rows(self, cursor: Any, paths: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """The entities' rows as stored before the batch: their hashed columns."""
        paths = sorted(paths)
        rows: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(paths), 500):
            chunk = paths[start:start + 500]
            cursor.execute(self.sql(
                f"SELECT {', '.join(HASHED_ENTITY_COLUMNS)} FROM entities "
                f"WHERE path IN ({','.join('?' * len(chunk))})"), chunk)
            for row in cursor.fetchall():
                rows[row["path"]] = tuple(row[c] for c in HASHED_ENTITY_COLUMNS)
        return rows

    def _entity_history(self, change: Change) -> list[Change]:
        """The entity's events up to `change`, from the log (a correction refolds them all)."""
        if self.ledger is None:
            raise RuntimeError("a state view that projects needs the ledger it reads")
        return [Change.from_logged(logged, orjson.loads(logged.state))
                for logged in self.ledger.read_entity(change.entity, change.version)]

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Append rows to a read-model table."""
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            rows,
        )

    @cached_property
    def _upsert_entity(self) -> str:
        updates = ", ".join(f"{c} = excluded.{c}" for c in ENTITY_COLUMNS[1:])
        return self.sql(f"INSERT INTO entities ({', '.join(ENTITY_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(ENTITY_COLUMNS))}) "
                        f"ON CONFLICT (path) DO UPDATE SET {updates}")

    def _index_text(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        """Full-text index of change rows (SQLite keeps a separate FTS5 table)."""


class Projected(NamedTuple):
    """What one batch of events writes to the state read model."""

    changes: list[tuple[Any, ...]]
    refs: list[tuple[str, int]]
    entities: list[tuple[Any, ...]]
    #: dashboard steps, and what the batch adds to each member's count now
    steps: list[tuple[Any, ...]]
    counts: list[tuple[Any, ...]]
    #: (position, member, n): each event's change to the count of a member kept party by party
    moves: list[tuple[int, Member, int]]
    #: the rows of the batch's entities before it, as the digest hashes them
    replaced: list[tuple[Any, ...]]


def entity_row(state: State, position: int) -> tuple[Any, ...]:
    """An entity's row: its state, and the columns it is filtered by."""
    return (
        state["path"], state["kind"], entity_party(state), entity_instrument(state),
        state.get("status") or state.get("state"), state.get("due_on"), state["version"],
        position, state["recorded_at"], orjson.dumps(state).decode(),
    )


def change_row(
    change: Change, before: State | None, after: State | None, names: Names
) -> tuple[tuple[Any, ...], list[str]]:
    """The change-log row of one event, and the references it is filtered by."""
    state = after or before or {}
    parties, instruments, provisions = change_subjects(change, state)
    # an action plan's records count under its treaty too
    instruments = _distinct([i for code in instruments for i in names.lineage(code)])
    row = (
        change.position, change.event_id, change.type, change.entity, change.kind,
        change.version, parties[0] if parties else None, instruments[0] if instruments else None,
        " ".join(provisions), change.recorded_at, change.effective_on, change.effective_from,
        change.effective_to, change.recorded_by, orjson.dumps(change.sources).decode(),
        change.note, summarise(change, state, names), orjson.dumps(change.fields).decode(),
        orjson.dumps(diff(before, after)).decode(),
    )
    refs = [f"party:{p}" for p in parties] + [f"instrument:{i}" for i in instruments]
    refs += [f"provision:{p}" for p in provisions]
    if change.kind == "statements":  # what is stated, and how the party is described
        refs += [f"{key}:{state[key]}" for key in ("code", "described_as")
                 if isinstance(state.get(key), str)]
    return row, refs


def entity_party(state: State) -> str | None:
    if state["kind"] == "parties":
        return state.get("code")
    return (state.get("party") or state.get("against") or state.get("donor")
            or state.get("territory"))


def entity_instrument(state: State) -> str | None:
    if state["kind"] == "instruments":
        return state.get("code")
    if state.get("instrument"):
        return state["instrument"]
    provisions = state.get("provisions") if state["kind"] != "instruments" else None
    provision = state.get("provision") or (provisions[0] if provisions else None)
    return provision.split(":", 1)[0] if provision else None


def change_subjects(change: Change, state: State) -> tuple[list[str], list[str], list[str]]:
    """What a change is about, for filters: parties (`HRV`), instruments (`CCM`) and
    provisions (`VAP:14`), each without repeats and in order of relevance."""
    parties: list[str] = []
    provisions: list[str] = []
    instruments: list[str] = []
    kind = change.kind
    if kind == "parties":
        parties.append(state.get("code", ""))
        if change.type == "TreatyStatusChanged":
            instruments.append(change.fields["instrument"])
    elif kind == "instruments":
        instruments.append(state.get("code", ""))
        if state.get("parent"):
            instruments.append(state["parent"])
        if change.type == "ProvisionAdded":
            provisions.append(f"{state.get('code')}:{change.fields['number']}")
    else:
        for key in ("party", "against", "donor", "recipient", "territory"):
            if value := state.get(key):
                parties.append(value)
        provisions.extend(state.get("provisions") or ())
        provisions.extend(state.get("covers") or ())
        if provision := state.get("provision"):
            provisions.append(provision)
        if instrument := state.get("instrument"):
            instruments.append(instrument)
    instruments.extend(p.partition(":")[0] for p in provisions)
    return _distinct(parties), _distinct(instruments), _distinct(provisions)


def _distinct(values: list[str]) -> list[str]:
    """Values without repeats or blanks, in first-seen order."""
    return [v for v in dict.fromkeys(values) if v] if len(values) > 1 else [v for v in values if v]


def change_from_row(row: Any) -> Change:
    return Change(
        position=row["position"], event_id=row["event_id"], type=row["type"],
        entity=row["entity"], version=row["version"], recorded_at=row["recorded_at"],
        effective_on=row["effective_on"], recorded_by=row["recorded_by"],
        sources=orjson.loads(row["sources"]), note=row["note"], fields=orjson.loads(row["fields"]),
    )


class SQLiteStateView(StateView, SQLiteTrackingRecorder):
    dialect = "sqlite"

    def model_table_statements(self) -> list[str]:
        return [
            *_tables("INTEGER"),
            "CREATE VIRTUAL TABLE IF NOT EXISTS changes_fts USING fts5("
            "summary, note, sources, fields, content='changes', content_rowid='position')",
        ]

    def extra_tables(self) -> tuple[str, ...]:
        return ("changes_fts",)

    def tracking_table(self) -> str:
        return "tracking"

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        """A write transaction takes the write lock at BEGIN (a deferred one could find the log
        moved on under its read snapshot and fail). WAL with synchronous=NORMAL and rarer
        checkpoints: a power cut may drop the last batches, but with their tracking position,
        so they are projected again; nothing is doubled. Freed pages are not zeroed (Debian's
        SQLite zeroes them by default): the read models are derived public data, and zeroing
        made dropping a 1M-event read model take 10 s and write its whole size to the WAL."""
        with self.datastore.get_connection(commit=commit) as connection:
            raw = connection._sqlite_conn
            if commit:  # settings of writing: reads (every API query) need none of them
                raw.execute("PRAGMA synchronous=NORMAL")
                raw.execute("PRAGMA wal_autocheckpoint=20000")
                raw.execute("PRAGMA secure_delete=OFF")
            raw.execute("BEGIN IMMEDIATE" if commit else "BEGIN")
            try:
                yield SQLiteCursor(raw.cursor())
            except BaseException:
                raw.rollback()
                raise
            if commit:
                raw.commit()
            else:
                raw.rollback()

    def _reindex_text(self, cursor: Any) -> None:
        cursor.execute("INSERT INTO changes_fts (changes_fts) VALUES ('rebuild')")

    def _index_text(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        cursor.executemany(
            "INSERT INTO changes_fts (rowid, summary, note, sources, fields) VALUES (?, ?, ?, ?, ?)",
            [(row[0], row[16], row[15], row[14], row[17]) for row in rows],
        )

class PostgresStateView(StateView, FailFast, PostgresTrackingRecorder):
    dialect = "postgres"

    def model_table_statements(self) -> list[str]:
        return [
            *_tables("BIGINT"),
            "ALTER TABLE changes ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', summary || ' ' || coalesce(note, '') || ' ' || sources || ' ' "
            "|| fields)) STORED",
        ]

    def extra_indexes(self) -> list[str]:
        return ["CREATE INDEX IF NOT EXISTS changes_search ON changes USING GIN (search)"]

    def tracking_table(self) -> str:
        return self.tracking_table_name

    @property
    def schema(self) -> str:
        """The PostgreSQL schema its tables are in: `public`, or a rebuild's beside it."""
        return self.datastore.schema

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        """A transaction whose unqualified table names are the view's schema's (eventsourcing
        qualifies its own, the tracking table's)."""
        with self.datastore.transaction(commit=commit) as cursor:
            if self.schema != "public":
                cursor.execute(f'SET LOCAL search_path TO "{self.schema}"')
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """Outside a transaction block: under READ COMMITTED each statement takes its own
        snapshot either way, and a block costs a BEGIN and a ROLLBACK per read (two round trips,
        and most of an inclusion proof's time). A rebuild's schema is set per transaction."""
        if self.schema != "public":
            with self.transaction(commit=False) as cursor:
                yield cursor
            return
        with self.datastore.cursor() as cursor:
            yield cursor

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def insert_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """COPY is several times faster than row-by-row INSERTs here."""
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def schema_version(view: StateView) -> int | None:
    """The schema version of the state read model in the store (None before any)."""
    with view.transaction(commit=False) as cursor:
        cursor.execute("SELECT version FROM read_model_schema")
        row = cursor.fetchone()
    return None if row is None else row["version"]


def open_view(database_url: str, read_only: bool = False, schema: str = "") -> StateView:
    """The state read model in the same database as the events; `read_only` (a streaming
    replica) creates nothing: the primary's tables arrive by replication. On PostgreSQL,
    `schema` puts the read model in a schema of its own (a rebuild beside the serving one)."""
    env = persistence_env(database_url)
    if read_only:
        env["CREATE_TABLE"] = "false"
    if schema:
        env["POSTGRES_SCHEMA"] = schema
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    factory = InfrastructureFactory.construct(Environment(APP, env))
    view_class = SQLiteStateView if env["PERSISTENCE_MODULE"].endswith("sqlite") else PostgresStateView
    if read_only:  # no tables to create, so no lock to take: nothing connects yet
        view = factory.tracking_recorder(view_class)
    else:
        with schema_lock(database_url):
            view = factory.tracking_recorder(view_class)
            view.create_model_tables()
    view.database_url, view.read_only = database_url, read_only
    return view
