"""Rebuilds beside the serving read models on PostgreSQL (projections/beside.py): cut off, they
leave the serving ones as they were and resume; a read model of an older schema version serves
until the rebuild beside it takes over, which one projector makes and the others wait for."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from benchmarks.synthetic import generate
from ledger.commands import Ledger
from projections.beside import SCHEMA
from projections.digest import state_digest
from projections.queries import (
    ChangeFilter,
    Clock,
    count_changes,
    entity,
    instrument_summary,
    progress_matrix,
)
from projections.runner import BULK_BATCH, Projector
from projections.store import SCHEMA_VERSION, NewerReadModel, open_view
from tests.factories import run, setup_ccm
from tests.faults.checks import mark_party_names
from tests.integration.test_projection_consistency import killed_at


def schema_exists(url: str, schema: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() \
            is not None


def test_a_rebuild_killed_midway_on_postgres_leaves_the_serving_read_models_and_resumes(
        postgres_server):
    """PostgreSQL rebuilds beside the serving read models: a rebuild killed midway has not
    touched them, and the next one goes on from the batches the first one kept."""
    database_url = postgres_server.create_database(f"b_{uuid.uuid4().hex[:12]}")
    ledger = Ledger(database_url)
    generate(ledger, 12_000, seed=5)
    last = ledger.recorder.max_notification_id()
    ledger.close()
    with Projector(database_url) as projector:
        projector.catch_up()
        expected = state_digest(projector.view)
    killed_at(database_url, "projecting", 2 * BULK_BATCH + 1234, "rebuild")
    with Projector(database_url) as projector:
        assert state_digest(projector.view) == expected  # untouched
        assert count_changes(projector.view, ChangeFilter(q="synthetic")) > 11_000
        assert projector.rebuild() == last - 2 * BULK_BATCH  # the two bulk batches kept
        assert state_digest(projector.view) == expected
        assert count_changes(projector.view, ChangeFilter(q="synthetic")) > 11_000
    assert not schema_exists(database_url, SCHEMA)  # nothing left beside


def test_an_outdated_read_model_serves_until_one_rebuild_beside_it_takes_over(postgres_server):
    url = postgres_server.create_database(f"b_{uuid.uuid4().hex[:12]}")
    ledger = Ledger(url)
    generate(ledger, 3_000, seed=9)
    ledger.close()
    clocks = [Clock(), Clock(known_at_position=1500), Clock(effective_on="2015-06-30")]
    with Projector(url) as projector:
        projector.catch_up()
        expected = state_digest(projector.view)
        summaries = [instrument_summary(projector.view, "CCM", "2016-01-01", c) for c in clocks]
        matrices = [progress_matrix(projector.view, "VAP", c) for c in clocks]
    with psycopg.connect(url, autocommit=True) as conn:  # as an older version left it
        conn.execute("UPDATE read_model_schema SET version = %s", (SCHEMA_VERSION - 1,))
        mark_party_names(conn, "old ")
        # without the dashboards' party rows, which older schemas lack
        for table in ("board_parties", "board_party_history", "board_party_effective"):
            conn.execute(f"DELETE FROM {table}")
    view = open_view(url)  # an API worker of the new version: reads the old read model
    first, second = Projector(url), Projector(url)
    with TestClient(create_app(Settings(database_url=url, project_in_process=False,
                                    tick_interval=0, checkpoint_interval=0))) as api:
        assert view.outdated == second.view.outdated == SCHEMA_VERSION - 1
        assert entity(view, "parties/AFG")["name"].startswith("old ")
        assert api.get("/v1/parties/AFG").json()["name"].startswith("old ")
        # dashboards are summed from the steps while the party rows may be missing
        assert [instrument_summary(view, "CCM", "2016-01-01", c) for c in clocks] == summaries
        assert [progress_matrix(view, "VAP", c) for c in clocks] == matrices
        not_ready = api.get("/-/ready")  # load balancers keep traffic on the old workers
        assert not_ready.status_code == 503 and "schema version" in not_ready.json()["detail"]
        assert api.get("/-/status.json").json()["schema_version"] == SCHEMA_VERSION - 1
        assert "being built beside them" in api.get("/-/status").text
        first.catch_up()  # rebuilds beside, then switches
        assert first.view.outdated is None
        assert state_digest(first.view) == expected
        assert not entity(view, "parties/AFG")["name"].startswith("old ")
        assert api.get("/-/ready").status_code == 200
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT version FROM read_model_schema").fetchone() == (
                SCHEMA_VERSION,)
            mark_party_names(conn, "kept ")
        second.catch_up()  # finds the read model current now: rebuilds nothing
        assert second.view.outdated is None
        assert entity(view, "parties/AFG")["name"].startswith("kept ")
    first.close()
    second.close()
    view.datastore.close()


def test_a_read_model_of_a_newer_version_is_never_written_or_replaced(postgres_server):
    """Once a newer version's rebuild has switched its read model in, an older worker's next
    batch is refused, and neither it nor an older `ledger rebuild` puts its own back."""
    url = postgres_server.create_database(f"b_{uuid.uuid4().hex[:12]}")
    ledger = Ledger(url)
    setup_ccm(ledger)
    with Projector(url) as running:
        running.catch_up()
        with psycopg.connect(url, autocommit=True) as conn:  # a newer version switched in
            conn.execute("UPDATE read_model_schema SET version = %s", (SCHEMA_VERSION + 1,))
        position = running.view.position()
        run(ledger, "register_party", code="SRB", name="Serbia", kind="state")
        with pytest.raises(NewerReadModel, match="newer than this version"):
            running.catch_up()  # the running worker's next batch
        with pytest.raises(NewerReadModel):
            running.rebuild()
        assert running.view.position() == position
    with Projector(url) as starting, pytest.raises(NewerReadModel):
        starting.catch_up()  # a worker of this version started now
    ledger.close()
    assert not schema_exists(url, SCHEMA)
