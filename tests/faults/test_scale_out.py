"""Scaling out on one PostgreSQL server, as real processes: sixteen writers through four API
workers are recorded and projected exactly once by two `ledger project` workers; a killed
projection worker's leases pass to the standby within seconds; a stopped one loses them and
writes nothing once it resumes. Each time the read models equal a rebuild."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import psycopg
import pytest

from api.tokens import TokenStore
from ledger.commands import Ledger
from projections.digest import state_digest
from projections.leases import TTL, holders
from projections.runner import READ_MODELS, Projector
from tests.factories import run, setup_ccm
from tests.faults.checks import (
    assert_versions_are_gapless,
    event_ids,
    log_content,
    rebuilt_digest,
)
from tests.faults.test_concurrent_writers import (
    pledge_and_report,
    recorded_exactly_once,
    together,
)
from tests.servers import server_env, serving

#: every batch committed to a read model, noted by the database in commit order (the lease row
#: lock orders a model's writers): the writing process (its PGAPPNAME), the model, the position
WRITES = """
CREATE TABLE test_writes (n SERIAL, writer TEXT, model TEXT, position BIGINT);
CREATE FUNCTION test_note_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO public.test_writes (writer, model, position)
    VALUES (current_setting('application_name'), NEW.application_name, NEW.notification_id);
    RETURN NEW; END $$;
CREATE TRIGGER test_note_write AFTER INSERT OR UPDATE ON ledger_tracking
    FOR EACH ROW EXECUTE FUNCTION test_note_write();
"""


@pytest.fixture
def store(postgres_server) -> str:
    """A PostgreSQL store with the CCM recorded and its read models created, each batch noted."""
    url = postgres_server.create_database(f"s_{uuid.uuid4().hex[:12]}")
    ledger = Ledger(url)
    setup_ccm(ledger)
    ledger.close()
    Projector(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(WRITES)
    return url


class Workers:
    """`ledger project` processes on one store, each named by its PGAPPNAME, which the database
    sees on its every connection; all are stopped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.started: dict[str, tuple[subprocess.Popen, IO[bytes]]] = {}

    def start(self, name: str) -> subprocess.Popen:
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen([sys.executable, "-m", "api.cli", "project"],
                                   env={**server_env(self.url), "PGAPPNAME": name},
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        self.started[name] = (process, stderr)
        return process

    def log(self, name: str) -> str:
        stderr = self.started[name][1]
        stderr.seek(0)
        return stderr.read().decode()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_: object) -> None:
        for process, _ in self.started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
                process.wait(timeout=15)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds until `condition()` holds."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what} within {timeout} s"
        time.sleep(0.02)
    return time.monotonic() - started


def holds_every_lease(view, pid: int) -> bool:
    held = holders(view)
    return set(held) == set(READ_MODELS) and {h.pid for h in held.values()} == {pid}


@contextmanager
def writing(url: str) -> Iterator[None]:
    """A writer recording a pledge every few milliseconds until the block ends."""
    stop = threading.Event()

    def write() -> None:
        ledger = Ledger(url)
        try:
            n = 0
            while not stop.wait(0.005):
                run(ledger, "pledge_commitment", id=f"w-{n}", party="HRV",
                    provisions=["VAP:14"], text=f"Pledge {n}", due_on="2030-01-01")
                n += 1
        finally:
            ledger.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def writes(url: str) -> list[tuple[str, str, int]]:
    """(writer, read model, position) of every batch committed, in order."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT writer, model, position FROM test_writes ORDER BY n").fetchall()


def handed_over(url: str, first: str, then: str) -> None:
    """Each read model was written by `first`, then by `then` alone, its position rising."""
    for model in READ_MODELS:
        batches = [(writer, position) for writer, name, position in writes(url) if name == model]
        writers = [writer for writer, _ in batches]
        assert writers == sorted(writers, key=[first, then].index) and set(writers) == {first, then}
        positions = [position for _, position in batches]
        assert positions == sorted(set(positions))  # no batch written twice


def projected_everything(observer: Projector) -> bool:
    return observer.position == (observer.ledger.recorder.max_notification_id() or 0)


def live_equals_rebuild(url: str, observer: Projector) -> None:
    """The read models the workers left (the observer only reads them) equal a rebuild: the
    state digest, and the audit tree's size (one leaf per event) and root."""
    size = observer.audit.size()
    assert size == len(event_ids(url))
    live = state_digest(observer.view), observer.audit.root(size)
    assert rebuilt_digest(url) == live[0]
    assert observer.audit.root(size) == live[1]  # as the rebuild left it


def api_processes(parent: int) -> int:
    """How many uvicorn worker processes `parent` runs (spawned interpreters)."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        count += ppid == parent and b"spawn_main" in cmdline
    return count


@pytest.fixture
def pair(store) -> Iterator[tuple[Workers, Projector, subprocess.Popen, subprocess.Popen]]:
    """worker-a, which took every lease, and worker-b, which stands by; an observer that only
    reads the read models."""
    with Workers(store) as workers, Projector(store) as observer:
        a = workers.start("worker-a")
        wait_until(lambda: holds_every_lease(observer.view, a.pid), 30, "worker-a holds")
        b = workers.start("worker-b")
        wait_until(lambda: "standing by" in workers.log("worker-b"), 30, "worker-b waits")
        yield workers, observer, a, b


def test_sixteen_writers_through_four_api_workers_are_recorded_and_projected_exactly_once(store):
    token = TokenStore(store).create("desk", ["record"])

    def lagging(base: str) -> bool:
        return any(model["lag"] for model in httpx.get(f"{base}/-/ready").json()["read_models"])

    with Projector(store) as observer:
        with Workers(store) as workers:
            a, b = workers.start("worker-a"), workers.start("worker-b")
            with serving(store, workers=4, write_rate="0", project_in_process="false") as server:
                assert api_processes(server.process.pid) == 4
                results = together(16, 5, pledge_and_report(token), server.base)
                wait_until(lambda: not lagging(server.base), 30, "projected everything")
                status = httpx.get(f"{server.base}/-/status.json").json()
        assert {m["holder"]["pid"] for m in status["read_models"]} <= {a.pid, b.pid}
        assert {response.status_code for *_, response in results} == {201}
        recorded_exactly_once(store, results)
        content = log_content(store)
        assert_versions_are_gapless(content)
        kinds = Counter(kind for kind, *_ in content)
        assert kinds["CommitmentPledged"] == kinds["ProgressReported"] == 16 * 5
        assert {writer for writer, *_ in writes(store)} <= {"worker-a", "worker-b"}
        live_equals_rebuild(store, observer)


def taken_over(pair: tuple, sig: signal.Signals, within: float) -> float:
    """Send worker-a `sig` once it has projected writes for a while; seconds until worker-b
    holds every lease."""
    _, observer, a, b = pair
    time.sleep(0.5)
    a.send_signal(sig)
    return wait_until(lambda: holds_every_lease(observer.view, b.pid), within, "taken over")


def handed_over_whole(store: str, pair: tuple) -> None:
    """Once worker-b has projected every event: each read model was written by worker-a, then
    by worker-b alone, and equals a rebuild once the workers have stopped."""
    _, observer, *processes = pair
    wait_until(lambda: projected_everything(observer), 30, "worker-b caught up")
    handed_over(store, "worker-a", "worker-b")
    for process in processes:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=15)
    live_equals_rebuild(store, observer)


def test_a_killed_projection_worker_hands_its_leases_to_the_standby_within_ten_seconds(
        store, pair):
    with writing(store):
        took = taken_over(pair, signal.SIGKILL, 10)
        time.sleep(0.5)  # worker-b projects the writes
    print(f"SIGKILL: worker-b held every lease {took:.2f} s after worker-a was killed")
    handed_over_whole(store, pair)


def test_a_stopped_projection_worker_loses_its_leases_and_writes_nothing_once_resumed(
        store, pair):
    workers, _, a, _ = pair
    with writing(store):
        # 5 s; 10 s if worker-a stopped while sending a statement, which the standby ends
        took = taken_over(pair, signal.SIGSTOP, 2 * TTL + 5)
        before = [w for w in writes(store) if w[0] == "worker-a"]
        a.send_signal(signal.SIGCONT)  # it resumes amid new events, and meets the fence
        wait_until(lambda: "standing by" in workers.log("worker-a"), 10, "worker-a waits")
        time.sleep(0.5)  # more events, which worker-a must leave to worker-b
    assert [w for w in writes(store) if w[0] == "worker-a"] == before
    assert a.poll() is None  # alive, standing by
    print(f"SIGSTOP: worker-b held every lease {took:.2f} s after worker-a was stopped; "
          f"worker-a then logged: {workers.log('worker-a').splitlines()[-3:]}")
    handed_over_whole(store, pair)
