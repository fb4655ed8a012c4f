"""`ledger serve` killed (SIGKILL) again and again during a bulk HTTP import; the client starts it
again and sends the same file, whose lines carry idempotency keys: in the end the log holds
exactly the file's events, each once, in the order a clean import records them."""

from __future__ import annotations

import random
import signal
import time
from importlib import resources

import httpx
import pytest

from api.tokens import TokenStore
from ledger.commands import Ledger
from tests.factories import line
from tests.faults.checks import (
    assert_versions_are_gapless,
    caught_up_digest,
    log_content,
    rebuilt_digest,
)
from tests.faults.forks import ForkServer
from tests.servers import serving


def commands(pledges: int) -> bytes:
    """The demo data as one file (1321 lines, 2672 events), and more pledges after it."""
    demo = resources.files("ledger.demo")
    names = sorted(file.name for file in demo.iterdir() if file.name.endswith(".ndjson"))
    more = [line("pledge_commitment", key=f"more/{n}", id=f"more-{n}", party="HRV",
                 provisions=["CCM:1"], text=f"Pledge {n}", due_on="2030-01-01") + b"\n"
            for n in range(pledges)]
    return b"".join([*(demo.joinpath(name).read_bytes() for name in names), *more])


def send(base: str, token: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{base}/v1/import", content=body, timeout=120, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})


def log_size(database_url: str) -> tuple[int, int]:
    """How many events the log holds, and its last position (PostgreSQL skips the positions
    of a transaction that died, so the two can differ)."""
    ledger = Ledger(database_url)
    try:
        return sum(1 for _ in ledger.read_all()), ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def kill_point(rng: random.Random, database_url: str, lines: int, events: int) -> tuple[str, int]:
    """A seeded point of the import to die at: as the server starts on a line of the file, or
    as it records (before or after the commit) a log position the import will reach."""
    recorded, last = log_size(database_url)
    moments = ["executing", "recording", "answering"] if recorded < events else ["executing"]
    moment = rng.choice(moments)
    if moment == "executing":
        return moment, rng.randint(1, lines)
    return moment, last + rng.randint(1, events - recorded)


@pytest.mark.parametrize(("kills", "pledges"), [
    (10, 0), pytest.param(100, 3000, marks=pytest.mark.soak)])
def test_serve_killed_during_a_bulk_import_and_sent_the_file_again_records_it_exactly_once(
        database_url, fresh_url, kills, pledges):
    body = commands(pledges)
    token = TokenStore(fresh_url).create("desk", ["record"])
    with serving(fresh_url) as server:
        assert send(server.base, token, body).status_code == 200
    expected = log_content(fresh_url)
    token = TokenStore(database_url).create("desk", ["record"])
    rng, points, restarts = random.Random(kills), [], []
    with ForkServer(database_url) as forks:
        for _ in range(kills):
            moment, n = kill_point(rng, database_url, len(body.splitlines()), len(expected))
            points.append(f"{moment} {n}")
            started = time.monotonic()
            with forks.serving(moment, n) as server:
                restarts.append(time.monotonic() - started)
                with pytest.raises(httpx.TransportError):
                    send(server.base, token, body)
                assert server.ended() == -signal.SIGKILL, points[-1]
    with serving(database_url) as server:  # a new `ledger serve` process finishes the import
        finished = send(server.base, token, body)
    assert finished.status_code == 200, finished.text
    content = log_content(database_url)
    assert content == expected, points  # nothing lost, nothing twice, nothing out of order
    assert_versions_are_gapless(content)
    assert caught_up_digest(database_url) == rebuilt_digest(database_url)
    print(f"killed at {', '.join(points)}; `ledger serve` answered again "
          f"{min(restarts):.1f}-{max(restarts):.1f} s after each start")
