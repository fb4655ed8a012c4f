"""The disk under a SQLite store fills up: writes are refused with 507 and record nothing, the
database stays whole, reads go on, and writes resume once space is freed."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.tokens import TokenStore
from ledger.commands import Ledger
from tests.conftest import require
from tests.factories import setup_ccm
from tests.faults.checks import (
    assert_versions_are_gapless,
    caught_up_digest,
    event_ids,
    log_content,
    rebuilt_digest,
    wait_until_projected,
)
from tests.servers import serving


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A file system of 16 MB of its own (tmpfs), to fill up."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "ledger-disk",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:  # CI runs the tests as root
        require(False, f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill(path: Path) -> None:
    """Write a file until the file system has no byte left."""
    with path.open("wb", buffering=0) as ballast:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    ballast.write(b"\0" * size)
            except OSError:  # ENOSPC: on to smaller pieces
                pass


def integrity(database: Path) -> str:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_full_disk_refuses_writes_with_507_keeps_the_store_whole_and_writes_resume(small_disk):
    database = small_disk / "ledger.db"
    url = f"sqlite:///{database}"
    ledger = Ledger(url)
    setup_ccm(ledger)
    ledger.close()
    token = TokenStore(url).create("desk", ["record"])

    with serving(url, poll_interval="0.1", write_rate="0") as server:
        def pledge(n: int) -> httpx.Response:
            return httpx.post(f"{server.base}/v1/commitments", timeout=30, json={
                "id": f"full-{n}", "party": "HRV", "provisions": ["VAP:14"],
                "text": "Destroy the stockpile " * 20, "due_on": "2030-01-01"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"k{n}"})

        accepted = [pledge(n) for n in range(5)]
        assert [r.status_code for r in accepted] == [201] * 5
        fill(small_disk / "ballast")
        for refused in (pledge(n) for n in range(5, 15)):
            assert refused.status_code == 507, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["type"] == "/-/problems#store-full"
            assert refused.headers["retry-after"]
        assert httpx.get(f"{server.base}/v1/parties/HRV").status_code == 200  # reads go on
        assert integrity(database) == "ok"
        (small_disk / "ballast").unlink()
        resent = [pledge(n) for n in range(5, 15)]  # the same keys, once space is back
        assert [r.status_code for r in resent] == [201] * 10
        wait_until_projected(server.base)
    assert b'"status":500' not in server.stderr and b"Traceback" not in server.stderr
    assert integrity(database) == "ok"
    recorded = [event for r in accepted + resent for event in r.json()["events"]]
    assert set(recorded) <= set(event_ids(url))
    content = log_content(url)
    assert_versions_are_gapless(content)
    pledged = [entity for kind, entity, *_ in content if kind == "CommitmentPledged"]
    assert pledged == [f"commitments/full-{n}" for n in range(15)]
    assert caught_up_digest(url) == rebuilt_digest(url)
