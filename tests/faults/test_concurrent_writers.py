"""Many writers at once over real HTTP, on one entity and on many: every accepted command is in
the log exactly once, every refused one got 409 or 412 and left nothing behind."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from api.tokens import TokenStore
from ledger.commands import Ledger
from tests.factories import run, setup_ccm
from tests.faults.checks import (
    assert_versions_are_gapless,
    caught_up_digest,
    event_ids,
    log_content,
    rebuilt_digest,
    wait_until_projected,
)
from tests.servers import serving

SIZES = [(16, 5), pytest.param(64, 20, marks=pytest.mark.soak)]


def together(writers: int, rounds: int, write: Callable[[httpx.Client, int, int], httpx.Response],
             base: str) -> list[tuple[int, int, httpx.Response]]:
    """Each writer's calls of `write(client, writer, round)`, every round started by all the
    writers at once; (writer, round, response) of every call."""
    barrier, results = threading.Barrier(writers), []

    def writer(w: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for r in range(rounds):
                barrier.wait()
                results.append((w, r, write(client, w, r)))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == writers * rounds
    return results


def recorded_exactly_once(database_url: str, results: list[tuple[int, int, httpx.Response]]
                          ) -> list[str]:
    """Check that the events of every accepted command are in the log once; their ids."""
    accepted = [event for *_, response in results if response.status_code == 201
                for event in response.json()["events"]]
    logged = Counter(event_ids(database_url))
    assert all(logged[event] == 1 for event in accepted)
    return accepted


@pytest.mark.parametrize(("writers", "rounds"), SIZES)
def test_writers_racing_on_one_entity_each_get_a_record_or_a_409_or_412(
        database_url, writers, rounds):
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    run(ledger, "pledge_commitment", id="race", party="HRV", provisions=["VAP:14"],
        text="Destroy the stockpile", due_on="2030-01-01")
    ledger.close()
    token = TokenStore(database_url).create("desk", ["record"])
    auth = {"Authorization": f"Bearer {token}"}

    def progress(client: httpx.Client, w: int, r: int, if_match: bool) -> httpx.Response:
        headers = {**auth, "Idempotency-Key": f"{if_match}-{w}-{r}"}
        if if_match:  # the version this writer has just seen
            headers["If-Match"] = client.get("/v1/commitments/race").headers["etag"]
        return client.post("/v1/commitments/race/progress", headers=headers,
                           json={"status": "in_progress", "summary": f"{if_match} {w} {r}"})

    with serving(database_url, write_rate="0", poll_interval="0.05") as server:
        wait_until_projected(server.base)
        checked = together(writers, rounds, lambda c, w, r: progress(c, w, r, True), server.base)
        blind = together(writers, rounds, lambda c, w, r: progress(c, w, r, False), server.base)
    assert {response.status_code for *_, response in checked} <= {201, 412}
    assert {response.status_code for *_, response in blind} <= {201, 409}
    # in the first round every writer saw the current version: one of them got through (later,
    # the read model may lag behind the log, and every ETag seen be stale)
    assert any(response.status_code == 201 for _, r, response in checked if r == 0)
    accepted = recorded_exactly_once(database_url, checked + blind)
    content = log_content(database_url)
    reported = [state["summary"] for kind, _, _, state in content if kind == "ProgressReported"]
    assert len(reported) == len(accepted) == len(set(reported))  # refused ones left nothing
    assert sorted(reported) == sorted(
        f"{results is checked} {w} {r}" for results in (checked, blind)
        for w, r, response in results if response.status_code == 201)
    assert_versions_are_gapless(content)
    assert caught_up_digest(database_url) == rebuilt_digest(database_url)
    print(f"{writers} writers x {rounds} rounds on one entity: with If-Match "
          f"{dict(Counter(r.status_code for *_, r in checked))}, without "
          f"{dict(Counter(r.status_code for *_, r in blind))}")


def pledge_and_report(token: str) -> Callable[[httpx.Client, int, int], httpx.Response]:
    """A writer's round: pledge a commitment of its own, then report progress on it."""
    auth = {"Authorization": f"Bearer {token}"}

    def write(client: httpx.Client, w: int, r: int) -> httpx.Response:
        pledged = client.post("/v1/commitments", headers={**auth, "Idempotency-Key": f"p{w}-{r}"},
                              json={"id": f"c-{w}-{r}", "party": "HRV", "provisions": ["VAP:14"],
                                    "text": f"Pledge {w} {r}", "due_on": "2030-01-01"})
        assert pledged.status_code == 201, pledged.text
        return client.post(f"/v1/commitments/c-{w}-{r}/progress", headers=auth,
                           json={"status": "in_progress"})

    return write


@pytest.mark.parametrize(("writers", "rounds"), SIZES)
def test_writers_on_many_entities_at_once_all_get_recorded_once(database_url, writers, rounds):
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    ledger.close()
    token = TokenStore(database_url).create("desk", ["record"])
    with serving(database_url, write_rate="0") as server:
        results = together(writers, rounds, pledge_and_report(token), server.base)
    assert {response.status_code for *_, response in results} == {201}
    recorded_exactly_once(database_url, results)
    content = log_content(database_url)
    assert_versions_are_gapless(content)
    assert Counter(kind for kind, *_ in content)["ProgressReported"] == writers * rounds
    assert caught_up_digest(database_url) == rebuilt_digest(database_url)
