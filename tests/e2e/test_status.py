"""`/-/ready` and the `/-/status` page: each read model's position, its lag behind the log and
who holds its lease, as JSON and as HTML; `/-/health` as it was."""

from __future__ import annotations

import os
import socket
import time

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from ledger.commands import Ledger
from projections.runner import READ_MODELS
from tests.factories import setup_ccm


def recorded(database_url: str) -> int:
    """Record the CCM and its provisions; the log's last position."""
    ledger = Ledger(database_url)
    try:
        setup_ccm(ledger)
        return ledger.recorder.max_notification_id()
    finally:
        ledger.close()


def client(database_url: str, project: bool) -> TestClient:
    return TestClient(create_app(Settings(
        database_url=database_url, project_in_process=project, poll_interval=0.05,
        tick_interval=0, checkpoint_interval=0)))


def test_status_shows_each_read_model_caught_up_and_the_process_holding_its_lease(database_url):
    head = recorded(database_url)
    with client(database_url, project=True) as api:
        deadline = time.monotonic() + 30
        while any(m["lag"] for m in api.get("/-/status.json").json()["read_models"]):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ready, status, page = api.get("/-/ready"), api.get("/-/status.json"), api.get("/-/status")
        assert api.get("/-/health").json() == {"status": "ok"}
    models = status.json()["read_models"]
    assert [(m["name"], m["position"], m["lag"]) for m in models] == [
        (name, head, 0) for name in READ_MODELS]
    assert ready.json()["status"] == "ready"
    assert ready.json()["log_position"] == ready.json()["projected_position"] == head
    assert [m["name"] for m in ready.json()["read_models"]] == list(READ_MODELS)
    assert page.headers["content-type"].startswith("text/html")
    assert f"{head:,}" in page.text
    if database_url.startswith("postgresql"):  # the in-process projector took the leases
        assert {(m["holder"]["host"], m["holder"]["pid"]) for m in models} == {
            (socket.gethostname(), os.getpid())}
        assert f"process {os.getpid()} on {socket.gethostname()}" in page.text
    else:  # SQLite: one projector, no lease
        assert {m["holder"] for m in models} == {None}


def test_with_no_projector_running_the_status_shows_the_whole_log_as_lag(database_url):
    head = recorded(database_url)
    with client(database_url, project=False) as api:
        models = api.get("/-/ready").json()["read_models"]
        page = api.get("/-/status").text
    assert [(m["name"], m["position"], m["lag"], m["holder"]) for m in models] == [
        (name, 0, head, None) for name in READ_MODELS]
    assert page.count('<td class="muted">none</td>') == len(READ_MODELS)
