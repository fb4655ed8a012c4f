"""`ledger rebuild` on PostgreSQL while `ledger serve` answers readers and records writes: the new
read models are built beside the serving ones, so every read answers 200 from the old read model
until the switch and from the new one after it, never 5xx and never empty; what was written
meanwhile is projected exactly once (the read models equal a rebuild)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import psycopg
import pytest

from api.tokens import TokenStore
from benchmarks.synthetic import generate
from ledger.commands import Ledger
from projections.runner import Projector
from tests.faults.checks import (
    Threads,
    caught_up_digest,
    mark_party_names,
    rebuilt_digest,
    wait_until_projected,
)
from tests.servers import server_env, serving

#: marks the serving read model before the rebuild: what a reader sees tells old from new
MARK = "old: "


def party_age(response: httpx.Response) -> str:
    return "old" if response.json()["name"].startswith(MARK) else "new"


def changes_age(response: httpx.Response) -> str:
    items = response.json()["changes"]
    assert items, "an empty page of changes"
    marked = {item["summary"].startswith(MARK) for item in items}
    assert len(marked) == 1, "old and new rows in one answer"
    return "old" if marked == {True} else "new"


#: what each reader asks, and how it tells the old read model's answers from the new one's
READS: dict[str, Callable[[httpx.Response], str]] = {
    "/v1/parties/AFG": party_age,
    "/v1/parties/ALB": party_age,
    "/v1/changes?party=AFG&limit=20": changes_age,
    "/v1/changes?instrument=CCM&limit=50": changes_age,
}


class Readers(Threads):
    """A thread per read, asking it again and again; every answer is kept, in order."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        #: (when asked, when answered, status, "old" or "new") of each read, by path
        self.answers: dict[str, list[tuple[float, float, int, str]]] = {path: [] for path in READS}
        self.threads += [threading.Thread(target=self._read, args=(path,)) for path in READS]

    def _read(self, path: str) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.stopping.is_set():
                asked = time.monotonic()
                response = client.get(path)
                answered = time.monotonic()
                age = READS[path](response) if response.status_code == 200 else ""
                self.answers[path].append((asked, answered, response.status_code, age))


def write_pledges(base: str, token: str, stopping: threading.Event) -> list[int]:
    """Pledges sent one after the other until `stopping`; the positions they were recorded at."""
    positions = []
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stopping.is_set():
            n = len(positions)
            response = client.post("/v1/commitments", json={
                "id": f"during-rebuild-{n}", "party": "AGO", "provisions": ["VAP:3"],
                "text": f"Pledge {n} made during a rebuild", "due_on": "2030-01-01"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"r{n}"})
            assert response.status_code == 201, response.text
            positions.append(int(response.headers["ledger-position"]))
            time.sleep(0.05)
    return positions


@pytest.mark.parametrize("events", [10_000, pytest.param(100_000, marks=pytest.mark.soak)])
def test_a_rebuild_under_load_serves_the_old_read_model_until_one_switch(postgres_server, events):
    url = postgres_server.create_database(f"r_{uuid.uuid4().hex[:12]}")
    ledger = Ledger(url)
    generate(ledger, events, seed=3)
    ledger.close()
    with Projector(url) as projector:
        projector.catch_up()
    with psycopg.connect(url, autocommit=True) as conn:
        mark_party_names(conn, MARK)
        conn.execute("UPDATE changes SET summary = %s || summary", (MARK,))
    token = TokenStore(url).create("desk", ["record"])
    stopping = threading.Event()
    written: list[int] = []
    with serving(url, poll_interval="0.1", write_rate="0") as server, Readers(server.base) as readers:
        writer = threading.Thread(target=lambda: written.extend(
            write_pledges(server.base, token, stopping)))
        writer.start()
        time.sleep(1)
        started = time.monotonic()
        rebuild = subprocess.run([sys.executable, "-m", "api.cli", "rebuild"], env=server_env(url),
                                 capture_output=True, timeout=600)
        ended = time.monotonic()
        time.sleep(1)
        stopping.set()
        writer.join()
        wait_until_projected(server.base)
    assert rebuild.returncode == 0, rebuild.stderr.decode()
    for path, answers in readers.answers.items():
        assert {status for *_, status, _ in answers} == {200}, path
        ages = [age for *_, age in answers]
        switch = ages.index("new")
        assert set(ages[:switch]) == {"old"} and set(ages[switch:]) == {"new"}, path  # one switch
        # made by the rebuild, at its end; the old read model answered while it ran
        assert started < answers[switch][1] and answers[switch - 1][0] < ended, path
        assert sum(started < asked for asked, *_, age in answers if age == "old") >= 3, path
    assert len(written) > 10
    # the pledges written meanwhile are projected once each, across the switch
    assert caught_up_digest(url) == rebuilt_digest(url)
    with Projector(url) as projector:
        assert projector.view.position() == max(written)
