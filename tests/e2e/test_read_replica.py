"""Reads say which log position they answer from (`Ledger-Position`), and a read sent with a
write's position (`Ledger-Min-Position`) never answers from older data: it waits, falls back to
the primary, or answers 503. With a PostgreSQL streaming replica, reads go to the replica."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.main import create_app
from api.settings import Settings
from api.tokens import TokenStore
from ledger.commands import Ledger
from projections.runner import Projector
from projections.store import open_view
from tests import postgres
from tests.conftest import require
from tests.factories import setup_ccm
from tests.servers import serving

PLEDGE = {"party": "HRV", "provisions": ["VAP:14"], "text": "Destroy the stockpile",
          "due_on": "2030-01-01"}
SECOND = "Clear the Sava riverbanks"


def position(response: httpx.Response) -> int:
    return int(response.headers["ledger-position"])


def test_a_read_asking_for_a_written_position_answers_with_that_write(api):
    setup_ccm(api.client.app.state.ledger)
    before = api.client.get("/v1/commitments/asked")
    assert before.status_code == 404 and before.headers["ledger-read-from"] == "primary"
    written = api.post("/v1/commitments", {"id": "asked", **PLEDGE})
    assert written.status_code == 201
    asked = {"Ledger-Min-Position": written.headers["ledger-position"]}
    for path in ("/v1/commitments/asked", "/v1/changes?entity=commitments/asked",
                 "/feeds/commitments/asked.atom", "/commitments/asked"):
        read = api.client.get(path, headers=asked)
        assert read.status_code == 200, read.text
        assert position(read) >= position(written) > position(before)


def test_a_position_not_reached_in_time_is_a_503_never_older_data(database_url):
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    token = TokenStore(database_url).create("desk", ["record"])
    settings = Settings(database_url=database_url, project_in_process=False, tick_interval=0,
                        read_wait=0.5)
    with TestClient(create_app(settings)) as client:
        written = client.post("/v1/commitments", json={"id": "late", **PLEDGE},
                              headers={"Authorization": f"Bearer {token}"})
        asked = {"Ledger-Min-Position": written.headers["ledger-position"]}
        plain = client.get("/v1/commitments/late")  # no projector: the read model is behind
        assert plain.status_code == 404 and position(plain) < position(written)
        started = time.monotonic()
        late = client.get("/v1/commitments/late", headers=asked)
        assert time.monotonic() - started >= 0.5
        assert late.status_code == 503 and late.headers["retry-after"] == "1"
        assert late.headers["content-type"] == "application/problem+json"
        assert late.json()["errors"] == [{"field": "header.Ledger-Min-Position",
                                          "reason": f"the read model is at position "
                                                    f"{position(plain)}"}]
        beyond = client.get("/v1/commitments/late",
                            headers={"Ledger-Min-Position": str(position(written) + 1)})
        assert beyond.status_code == 422  # at once: no write was given that position
        assert beyond.json()["errors"][0]["field"] == "header.Ledger-Min-Position"
        with Projector(database_url) as projector:
            projector.catch_up()
        caught_up = client.get("/v1/commitments/late", headers=asked)
        assert caught_up.status_code == 200 and position(caught_up) >= position(written)
    ledger.close()


def test_a_read_replica_must_be_postgresql_serve_says_so_in_one_line(tmp_path):
    env = {**os.environ, "LEDGER_DATABASE_URL": "postgresql://u:secret@h/db",
           "LEDGER_READ_DATABASE_URL": "sqlite:///replica.db"}
    served = subprocess.run([sys.executable, "-m", "api.cli", "serve"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert served.returncode == 1 and served.stdout == ""
    assert served.stderr == ("error: invalid settings: LEDGER_READ_DATABASE_URL must be a "
                             "postgresql:// URL: a read replica is a PostgreSQL streaming "
                             "replica of a PostgreSQL primary\n")
    with pytest.raises(ValidationError, match="LEDGER_DATABASE_URL must be a postgresql://"):
        Settings(database_url="sqlite:///x.db", read_database_url="postgresql://u@h/db")


def test_an_unreachable_replica_makes_reads_503_and_leaves_writes_to_the_primary(postgres_server):
    url = postgres_server.create_database("unreplicated")
    token = TokenStore(url).create("desk", ["record"])
    nowhere = f"postgresql://ledger@127.0.0.1:{postgres.free_port()}/unreplicated?connect_timeout=1"
    settings = Settings(database_url=url, read_database_url=nowhere, tick_interval=0)
    with TestClient(create_app(settings)) as client:  # starts: the replica may come up later
        read = client.get("/v1/parties")
        assert read.status_code == 503 and read.headers["retry-after"]
        assert read.headers["content-type"] == "application/problem+json"
        written = client.post("/v1/parties", json={"code": "HRV", "name": "Croatia",
                                                   "kind": "state"},
                              headers={"Authorization": f"Bearer {token}"})
        assert written.status_code == 201


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[postgres.Server, postgres.Server]]:
    """A PostgreSQL primary and a hot standby streaming from it (pg_basebackup -R)."""
    try:
        require((postgres.find_bindir() / "pg_basebackup").exists(),
                "pg_basebackup is missing: install Debian's postgresql package")
        primary = postgres.start()
    except RuntimeError as error:
        require(False, f"cannot start a throwaway PostgreSQL server: {error}")
    try:
        replica = postgres.start_replica(primary)
    except Exception:
        primary.stop()
        raise
    yield primary, replica
    replica.stop()
    primary.stop()


def replay(replica: postgres.Server, action: str) -> None:
    """Pause or resume the replica's replay of the primary's WAL (it keeps receiving it)."""
    with psycopg.connect(replica.admin_url, autocommit=True) as conn:
        conn.execute(f"SELECT pg_wal_replay_{action}()")
        deadline = time.monotonic() + 5
        while action == "pause" and time.monotonic() < deadline and conn.execute(
                "SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
            time.sleep(0.02)


def until(read: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 30) -> Any:
    """What `read` returns once `done` holds for it (within `seconds`)."""
    deadline = time.monotonic() + seconds
    while not done(found := read()):
        assert time.monotonic() < deadline, getattr(found, "headers", found)
        time.sleep(0.05)
    return found


def test_a_replica_serves_reads_and_a_read_it_cannot_answer_yet_falls_back_to_the_primary(
        replicated):
    primary, replica = replicated
    url = primary.create_database("replicated")
    ledger = Ledger(url)
    setup_ccm(ledger)
    ledger.close()
    token = {"Authorization": f"Bearer {TokenStore(url).create('desk', ['record'])}"}
    primary_view = open_view(url)  # to see the primary's own read model
    with serving(url, read_database_url=replica.url("replicated"), read_wait="0.5",
                 poll_interval="0.1") as server, \
            httpx.Client(base_url=server.base, timeout=30) as client:
        # the replica follows: a write is soon read back from it
        first = client.post("/v1/commitments", json={"id": "first", **PLEDGE}, headers=token)
        read = until(lambda: client.get("/v1/commitments/first"), lambda r: r.status_code == 200)
        assert read.headers["ledger-read-from"] == "replica"
        assert position(read) >= position(first)

        # replay paused: the replica stays behind, and every read from it says how far
        replay(replica, "pause")
        frozen = position(client.get("/v1/changes"))
        second = client.post("/v1/commitments", json={**PLEDGE, "id": "second", "text": SECOND},
                             headers=token)
        until(primary_view.position, lambda at: at >= position(second))  # primary projected
        for path in ("/v1/commitments/second", "/v1/changes?entity=commitments/second",
                     "/feeds/changes.atom"):
            plain = client.get(path)
            assert plain.headers["ledger-read-from"] == "replica"
            assert position(plain) == frozen < position(second)
            assert SECOND not in plain.text
        asked = {"Ledger-Min-Position": second.headers["ledger-position"]}
        for path in ("/v1/commitments/second", "/v1/changes?entity=commitments/second",
                     "/feeds/changes.atom"):
            started = time.monotonic()
            fallback = client.get(path, headers=asked)
            assert time.monotonic() - started >= 0.5  # waited for the replica, in vain
            assert fallback.status_code == 200 and SECOND in fallback.text
            assert fallback.headers["ledger-read-from"] == "primary"
            assert position(fallback) >= position(second)

        # replay resumed: the replica catches up and answers again
        replay(replica, "resume")
        caught_up = until(lambda: client.get("/v1/commitments/second"),
                          lambda r: r.status_code == 200)
        assert caught_up.headers["ledger-read-from"] == "replica"
        assert position(caught_up) >= position(second)
        read = client.get("/v1/commitments/second", headers=asked)
        assert read.status_code == 200 and read.headers["ledger-read-from"] == "replica"
    primary_view.datastore.close()
