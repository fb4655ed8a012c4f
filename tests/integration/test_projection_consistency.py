"""Live following, restarts after SIGKILL and a rebuild from zero all give the same read model."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib import resources

import orjson
import pytest

from api.importer import import_lines
from benchmarks.synthetic import generate
from ledger.commands import Ledger
from projections import digest
from projections.digest import (
    ORDERED_QUERIES,
    Digest,
    ordered_digest,
    recomputed_digest,
    state_digest,
)
from projections.queries import ChangeFilter, count_changes
from projections.runner import BATCH, BULK_BATCH, Projector
from projections.store import StateView, open_view
from tests.faults.checks import checked, rebuilt_digest


def follow_while(database_url: str, write: Callable[[Ledger], object]) -> tuple[Digest, int]:
    """Digest of a projector that followed the log in a thread while `write` appended to it,
    once it has caught up; and the last log position."""
    ledger = Ledger(database_url)
    stop = threading.Event()
    with Projector(database_url) as live:
        follower = threading.Thread(target=live.follow, args=(stop, 0.02))
        follower.start()
        try:
            write(ledger)
        finally:
            last = ledger.recorder.max_notification_id()
            deadline = time.monotonic() + 600
            while live.position < last and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            follower.join()
        followed = checked(live.view)
    ledger.close()
    return followed, last


# 10,000 events in `make test`; 100,000 in `make soak` (about 60 s a store)
@pytest.mark.parametrize("batches", [1, pytest.param(10, marks=pytest.mark.soak)])
def test_live_following_a_growing_log_equals_a_rebuild(database_url, batches):
    def write(ledger: Ledger) -> None:
        written = sum(generate(ledger, 10_000, seed=seed) for seed in range(batches))
        assert written >= 10_000 * batches

    followed, last = follow_while(database_url, write)
    assert followed.position == last
    assert rebuilt_digest(database_url) == followed


def load_demo(ledger: Ledger) -> None:
    for file in sorted(resources.files("ledger.demo").iterdir(), key=lambda f: f.name):
        if file.name.endswith(".ndjson"):
            report = import_lines(ledger, file.read_bytes().splitlines(), "demo")
            assert report.ok, report.errors


def test_live_following_the_demo_data_being_loaded_equals_a_rebuild(database_url):
    followed, last = follow_while(database_url, load_demo)
    assert followed.position == last > 1000
    assert rebuilt_digest(database_url) == followed


def set_hash_by_hand(view: StateView) -> str:
    """The set digest as docs/audit.md defines it, from whole tables read as dicts: each row's
    2048-bit SHAKE-256 number summed modulo 2^2048 (a board row `n` times), SHA-256 of the sum."""
    total = 0
    with view.transaction(commit=False) as cursor:
        for table, query in digest.SET_QUERIES:
            cursor.execute(query)
            for row in cursor.fetchall():
                values = [row[c] for c in row.keys()]
                times = values.pop() if table == "boards" else 1
                data = table.encode() + b"\n" + orjson.dumps(values)
                total += times * int.from_bytes(hashlib.shake_256(data).digest(256), "little")
    return hashlib.sha256((total % 2 ** 2048).to_bytes(256, "little")).hexdigest()


def ordered_by_hand(view: StateView) -> str:
    """The ordered digest of checkpoints before the set hash: each query read whole."""
    sha256 = hashlib.sha256()
    with view.transaction(commit=False) as cursor:
        for query in ORDERED_QUERIES:
            cursor.execute(query)
            for row in cursor.fetchall():
                sha256.update(orjson.dumps([row[c] for c in row.keys()]) + b"\n")
    return sha256.hexdigest()


@pytest.mark.parametrize("log", ["demo", "synthetic"])
def test_the_kept_digest_is_the_set_hash_of_the_rows(database_url, log, monkeypatch):
    """The sum kept batch by batch (entities replaced, board counts up and down, corrections)
    is the rows' set hash, read whole or in batches that cut every table; and the ordered
    digest that older checkpoints carry is still computed as it was."""
    ledger = Ledger(database_url)
    if log == "demo":
        load_demo(ledger)
    else:
        generate(ledger, 3000, seed=5)
    ledger.close()
    with Projector(database_url) as projector:
        projector.catch_up()
        expected = set_hash_by_hand(projector.view)
        ordered = ordered_by_hand(projector.view)
        assert state_digest(projector.view).sha256 == expected
        monkeypatch.setattr(digest, "BATCH", 7)
        assert recomputed_digest(projector.view).sha256 == expected
        assert ordered_digest(projector.view).sha256 == ordered != expected
    assert rebuilt_digest(database_url).sha256 == expected


def killed_at(database_url: str, moment: str, position: int, *command: str) -> None:
    """Run `ledger COMMAND` until it kills itself at `position` (see tests.faults.crash)."""
    died = subprocess.run([sys.executable, "-m", "tests.faults.crash", moment, str(position),
                           *command], env={**os.environ, "LEDGER_DATABASE_URL": database_url},
                          stderr=subprocess.DEVNULL, timeout=600)
    assert died.returncode == -signal.SIGKILL, f"{command} did not reach position {position}"


@pytest.mark.parametrize(("events", "kills"), [
    (6_000, 5), pytest.param(100_000, 50, marks=pytest.mark.soak)])
def test_a_projector_killed_at_random_points_resumes_without_missing_or_doubling(
        database_url, events, kills):
    ledger = Ledger(database_url)
    generate(ledger, events, seed=7)
    last = ledger.recorder.max_notification_id()
    ledger.close()
    with Projector(database_url) as observer:
        positions = []
        for stop in sorted(random.Random(11).sample(range(1, last), kills)):
            killed_at(database_url, "projecting", stop, "follow")
            # the batch holding `stop` died with the worker, every batch before it was kept
            positions.append(observer.position)
            assert positions[-1] < stop <= positions[-1] + BATCH
        assert positions == sorted(positions) and positions[-1] > 0
        observer.catch_up()
        survived = checked(observer.view)
    assert survived.position == last
    assert rebuilt_digest(database_url) == survived


def test_a_rebuild_killed_midway_on_sqlite_is_finished_by_the_next_projector(tmp_path):
    """SQLite rebuilds in place: the rows and positions of the batches kept are exact, and the
    next projector builds the indexes the bulk load had left for the end."""
    database_url = f"sqlite:///{tmp_path}/ledger.db"
    ledger = Ledger(database_url)
    generate(ledger, 12_000, seed=5)
    ledger.close()
    expected = rebuilt_digest(database_url)
    killed_at(database_url, "projecting", 2 * BULK_BATCH + 1234, "rebuild")
    view = open_view(database_url)  # looks without finishing anything itself
    try:
        assert view.position() == 2 * BULK_BATCH  # two bulk batches kept, the third lost
    finally:
        view.datastore.close()
    with Projector(database_url) as projector:
        projector.catch_up()
        assert checked(projector.view) == expected
        # rows projected before the kill are found by full-text search too
        everything = count_changes(projector.view)
        assert count_changes(projector.view, ChangeFilter(q="synthetic")) == everything > 11_000


