"""What every fault test checks afterwards: the log holds exactly what was accepted, once, and
the read model that lived through the fault equals one rebuilt from the log."""

from __future__ import annotations

import threading
import time
from typing import Any, Self

import httpx
import orjson

from ledger.commands import Ledger
from projections.digest import Digest, checked_digest
from projections.runner import Projector
from projections.store import StateView

#: what differs between two stores that recorded the same commands: ids and clocks
UNREPEATABLE = ("event_id", "timestamp")


def event_ids(database_url: str) -> list[str]:
    """The id of every event in the log, in order."""
    ledger = Ledger(database_url)
    try:
        return [orjson.loads(record.state)["event_id"] for record in ledger.read_all()]
    finally:
        ledger.close()


def log_content(database_url: str) -> list[tuple[str, str, int, Any]]:
    """The log in order as (type, entity, version, state), with every event id replaced by the
    event's index in the log and the recording time left out: equal for two stores that
    recorded the same commands in the same order."""
    ledger = Ledger(database_url)
    try:
        logged = list(ledger.read_all())
    finally:
        ledger.close()
    states = [orjson.loads(record.state) for record in logged]
    index = {state["event_id"]: n for n, state in enumerate(states)}

    def stable(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: stable(v) for k, v in value.items() if k not in UNREPEATABLE}
        if isinstance(value, list):
            return [stable(v) for v in value]
        return index.get(value, value) if isinstance(value, str) else value

    return [(record.topic.rpartition(".")[2], state["entity"], record.originator_version,
             stable(state)) for record, state in zip(logged, states, strict=True)]


def assert_versions_are_gapless(content: list[tuple[str, str, int, Any]]) -> None:
    """Every entity's events are numbered 1, 2, 3 ... in log order: none lost, none twice."""
    versions: dict[str, int] = {}
    for _, entity, version, _ in content:
        assert version == versions.get(entity, 0) + 1, (entity, version)
        versions[entity] = version


def checked(view: StateView) -> Digest:
    """The state digest the projector kept, which must be the set hash of the rows it wrote."""
    kept, rows = checked_digest(view)
    assert kept == rows, "the kept digest is not the rows' own"
    return kept


def rebuilt_digest(database_url: str) -> Digest:
    with Projector(database_url) as projector:
        projector.rebuild()
        return checked(projector.view)


def caught_up_digest(database_url: str) -> Digest:
    """The read model as the workers left it, brought up to date by a new projector."""
    with Projector(database_url) as projector:
        projector.catch_up()
        return checked(projector.view)


def wait_until_projected(base: str, timeout: float = 60) -> None:
    """Until the server at `base` has projected everything in its log."""
    deadline = time.monotonic() + timeout
    while (ready := httpx.get(f"{base}/-/ready").json())["projected_position"] < \
            ready["log_position"]:
        assert time.monotonic() < deadline, ready
        time.sleep(0.05)


class Threads:
    """Threads that start on entering the context and stop on leaving it: `stopping` is set,
    and each is joined."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)


def mark_party_names(conn: Any, mark: str) -> None:
    """Prefix every party's name in the serving read model with `mark`: what a reader then sees
    tells that read model's answers from those of one rebuilt from the log."""
    conn.execute("UPDATE entities SET state = replace(state, '\"name\":\"', %s) "
                 "WHERE kind = 'parties'", (f'"name":"{mark}',))
