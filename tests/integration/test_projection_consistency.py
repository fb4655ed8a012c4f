"""Live following, restarts after SIGKILL and a rebuild from zero all give the same read model."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from importlib import resources

from api.importer import import_lines
from benchmarks.synthetic import generate
from ledger.commands import Ledger
from projections.digest import Digest, state_digest
from projections.queries import ChangeFilter, count_changes
from projections.runner import Projector
from projections.store import open_view


def rebuilt_digest(database_url: str):
    with Projector(database_url) as projector:
        projector.rebuild()
        return state_digest(projector.view)


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
        followed = state_digest(live.view)
    ledger.close()
    return followed, last


def test_live_following_a_growing_log_equals_a_rebuild_at_100k_events(database_url):
    def write(ledger: Ledger) -> None:
        assert sum(generate(ledger, 10_000, seed=seed) for seed in range(10)) >= 100_000

    followed, last = follow_while(database_url, write)
    assert followed.position == last
    assert rebuilt_digest(database_url) == followed


def test_live_following_the_demo_data_being_loaded_equals_a_rebuild(database_url):
    def write(ledger: Ledger) -> None:
        for file in sorted(resources.files("ledger.demo").iterdir(), key=lambda f: f.name):
            if file.name.endswith(".ndjson"):
                report = import_lines(ledger, file.read_bytes().splitlines(), "demo")
                assert report.ok, report.errors

    followed, last = follow_while(database_url, write)
    assert followed.position == last > 1000
    assert rebuilt_digest(database_url) == followed


def test_a_projector_killed_at_random_points_resumes_without_missing_or_doubling(database_url):
    ledger = Ledger(database_url)
    generate(ledger, 30_000, seed=7)
    last = ledger.recorder.max_notification_id()
    ledger.close()
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_POLL_INTERVAL": "0.05"}
    command = [sys.executable, "-m", "api.cli", "follow"]
    rng = random.Random(11)
    with Projector(database_url) as observer:
        killed_midway = []
        for _ in range(10):
            worker = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.8, 1.8))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            killed_midway.append(observer.position)
        assert killed_midway == sorted(killed_midway)
        assert sum(0 < p < last for p in killed_midway) >= 5, killed_midway
        worker = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 600
        while observer.position < last and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        survived = state_digest(observer.view)
    assert survived.position == last
    assert rebuilt_digest(database_url) == survived


def test_a_rebuild_killed_midway_is_finished_by_the_next_projector(database_url):
    ledger = Ledger(database_url)
    generate(ledger, 30_000, seed=5)
    last = ledger.recorder.max_notification_id()
    ledger.close()
    expected = rebuilt_digest(database_url)
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url}
    rebuilding = subprocess.Popen([sys.executable, "-m", "api.cli", "rebuild"], env=env,
                                  stderr=subprocess.DEVNULL)
    view = open_view(database_url)  # watches without finishing anything itself
    try:
        deadline = time.monotonic() + 120
        while not 0 < view.position() < last and time.monotonic() < deadline:
            time.sleep(0.02)
        rebuilding.send_signal(signal.SIGKILL)
        rebuilding.wait()
        killed_at = view.position()
    finally:
        view.datastore.close()
    assert 0 < killed_at < last, "the kill landed outside the bulk load"
    with Projector(database_url) as projector:
        projector.catch_up()
        assert state_digest(projector.view) == expected
        # rows projected before the kill are found by full-text search too
        everything = count_changes(projector.view)
        assert count_changes(projector.view, ChangeFilter(q="synthetic")) == everything > 29_000
