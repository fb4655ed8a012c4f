"""Rebuilding read models beside the serving ones, on PostgreSQL.

The new tables are loaded from position zero in a schema of their own (`ledger_rebuild`), get
their indexes, catch up with the log, and then take the serving tables' place in one
transaction: readers see the old read model until it commits and the new one after, never a
partial one, and the projector that keeps the old one live goes on from the new position.
A rebuild cut off resumes where it got to when the next one asks for the same read models at
the same schema version, and is discarded otherwise; until the switch the serving tables are
never touched."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import psycopg

from projections.audit import AuditModel
from projections.store import NAME, SCHEMA_VERSION, StateView, open_view, refuse_newer

if TYPE_CHECKING:
    from projections.runner import Projector

#: the schema a rebuild loads its tables into
SCHEMA = "ledger_rebuild"
#: pg_advisory_lock key: one rebuild at a time in a database
REBUILD_LOCK = 0x6C656467_7262
#: events per transaction of the final catch-up, which readers wait for
FINAL_BATCH = 5000


def rebuild_beside(
    projector: Projector, names: Sequence[str], on_batch: Callable[[int], object] | None = None
) -> int:
    """Rebuild the read models `names` of `projector` beside the serving ones and switch to
    them; returns how many events were projected. A projector that found its read model
    outdated and waited here for another's rebuild finds it current, and rebuilds nothing."""
    url = projector.database_url
    with psycopg.connect(url, autocommit=True) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (REBUILD_LOCK,))
        if _current(lock) and list(names) == [NAME] and projector.view.outdated is not None:
            projector.view.outdated = None
            return 0
        shadow, chosen = _prepare(projector, names)
        try:
            if not _indexed(shadow):
                count = projector.project_into(shadow, chosen, on_batch, bulk=True)
                with shadow.transaction() as cursor:
                    for model in chosen:
                        model.finish_rebuild(cursor)
                    cursor.execute("DELETE FROM read_model_rebuilds")
            else:
                count = 0
            count += projector.project_into(shadow, chosen, on_batch)
            count += _switch(projector, shadow, names, chosen)
        finally:
            shadow.datastore.close()
        projector.view.outdated = None
    return count


def _current(conn: psycopg.Connection) -> bool:
    """Whether the serving state read model has this code's schema version (a newer one is
    refused: this version must not put its own in that one's place)."""
    row = conn.execute("SELECT version FROM read_model_schema").fetchone()
    if row is not None:
        refuse_newer(row[0])
    return row is not None and row[0] == SCHEMA_VERSION


def _prepare(projector: Projector, names: Sequence[str]) -> tuple[StateView, list[Any]]:
    """The rebuild's schema and its read models `names`: kept if a rebuild of the same read
    models at this schema version was cut off there, made anew otherwise."""
    url = projector.database_url
    with psycopg.connect(url, autocommit=True) as conn:
        resumable = False
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)).fetchone():
            try:
                version = conn.execute(f'SELECT version FROM "{SCHEMA}".read_model_schema').fetchone()
                building = {row[0] for row in conn.execute(f'SELECT name FROM "{SCHEMA}".rebuilding')}
                resumable = version is not None and version[0] == SCHEMA_VERSION \
                    and building == set(names)
            except psycopg.errors.UndefinedTable:
                pass
            if not resumable:
                conn.execute(f'DROP SCHEMA "{SCHEMA}" CASCADE')
    shadow = open_view(url, schema=SCHEMA)
    shadow.ledger = projector.ledger
    models = {NAME: shadow, AuditModel.name: AuditModel(shadow)}
    chosen = [models[name] for name in names]
    if not resumable:
        for model in chosen:
            model.drop_model_tables()  # no secondary indexes until the bulk load is done
        with shadow.transaction() as cursor:
            cursor.execute("CREATE TABLE rebuilding (name TEXT PRIMARY KEY)")
            cursor.executemany("INSERT INTO rebuilding (name) VALUES (%s)", [(n,) for n in names])
            cursor.execute("INSERT INTO read_model_rebuilds (name) VALUES ('bulk load')")
    return shadow, chosen


def _indexed(shadow: StateView) -> bool:
    """Whether the bulk load is over and the indexes are built."""
    with shadow.transaction(commit=False) as cursor:
        cursor.execute("SELECT COUNT(*) AS n FROM read_model_rebuilds")
        return cursor.fetchone()["n"] == 0


def _switch(
    projector: Projector, shadow: StateView, names: Sequence[str], chosen: Sequence[Any]
) -> int:
    """In one transaction: lock the serving tables (readers and the live projector wait), project
    what the log gained since, and put the new tables, their positions and the schema version
    in the old ones' place. Returns how many events that last step projected."""
    live = projector.view.schema
    tables = [table for model in chosen for table in model.model_tables()]
    tracking = projector.view.tracking_table()
    count = 0
    with shadow.transaction() as cursor:
        serving = ", ".join(f'"{live}".{table}' for table in tables)
        # read_model_schema first: a projection batch reads it before any read-model table
        # (schema_fence), so a batch under way is waited for whole and a new one waits holding
        # nothing. Taken in another order, the lock deadlocked with a live batch that held the
        # tables it had written and wanted the rest.
        cursor.execute(f'LOCK TABLE "{live}".read_model_schema, {serving} IN ACCESS EXCLUSIVE MODE')
        head = projector.ledger.recorder.max_notification_id() or 0
        while True:
            positions = [shadow._max_tracking_id(name, cursor) or 0 for name in names]
            if min(positions) >= head:
                break
            logged = [r for r in projector.ledger.read(min(positions), FINAL_BATCH) if r.id <= head]
            events = [(record, orjson.loads(record.state)) for record in logged]
            for model, position in zip(chosen, positions, strict=True):
                model.process_in(cursor, [e for e in events if e[0].id > position])
            count += len(events)
        for table in tables:
            cursor.execute(f'DROP TABLE "{live}".{table}')
            cursor.execute(f'ALTER TABLE {table} SET SCHEMA "{live}"')
        cursor.execute(f'DELETE FROM "{live}".{tracking} WHERE application_name = ANY(%s)',
                       (list(names),))
        cursor.execute(f'INSERT INTO "{live}".{tracking} SELECT * FROM "{SCHEMA}".{tracking} '
                       "WHERE application_name = ANY(%s)", (list(names),))
        if NAME in names:
            cursor.execute(f'UPDATE "{live}".read_model_schema SET version = %s',
                           (SCHEMA_VERSION,))
        cursor.execute(f'DROP SCHEMA "{SCHEMA}" CASCADE')
    return count
