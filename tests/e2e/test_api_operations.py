"""Operations: readiness, an unreachable store, concurrent writers on one version, `ledger get`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.tokens import TokenStore
from ledger.commands import Ledger
from tests import postgres
from tests.factories import log, setup_ccm
from tests.servers import serving


def test_an_unreachable_store_gives_503_and_not_ready(postgres_server):
    server = postgres.start()
    try:
        url = server.create_database("vanishing") + "?connect_timeout=1"
        token = TokenStore(url).create("desk", ["record"])
        settings = Settings(database_url=url, project_in_process=False, tick_interval=0)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            assert client.get("/-/ready").status_code == 200
            server.stop()
            for response in (
                client.get("/-/ready"),
                client.get("/v1/parties"),
                client.post("/v1/instruments", json={"code": "CCM", "title": "CCM",
                                                     "kind": "treaty"},
                            headers={"Authorization": f"Bearer {token}"}),
            ):
                assert response.status_code in (401, 503), response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert "Traceback" not in response.text
            assert client.get("/-/ready").status_code == 503
            assert client.get("/-/health").status_code == 200
    finally:
        server.stop()


def test_two_concurrent_writers_on_one_version_give_one_success_and_one_412(database_url):
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    from tests.factories import run

    run(ledger, "pledge_commitment", id="c1", party="HRV", provisions=["VAP:14"], text="t",
        due_on="2013-01-01")
    token = TokenStore(database_url).create("desk", ["record"])
    with serving(database_url) as server:
        base = server.base
        before = len(log(ledger))
        for round_ in range(5):
            version = 1 + round_
            barrier = threading.Barrier(2)
            statuses = []

            def write(status: str) -> None:
                barrier.wait()
                response = httpx.post(
                    f"{base}/v1/commitments/c1/progress", json={"status": status},
                    headers={"Authorization": f"Bearer {token}", "If-Match": f'"v{version}"'},
                    timeout=30)
                statuses.append(response.status_code)

            writers = [threading.Thread(target=write, args=(s,)) for s in ("in_progress", "stalled")]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            assert sorted(statuses) == [201, 412], statuses
        # exactly one progress event per round: no lost update, no double write
        assert len(log(ledger)) == before + 5
    ledger.close()


@pytest.mark.parametrize(("path", "code", "text"), [
    ("/v1/parties/HRV", 0, b'"code":"HRV"'),
    ("/v1/parties/NOPE", 1, b'"status":404'),
])
def test_ledger_get_runs_one_request_in_process(database_url, path, code, text):
    """The body of a success goes to stdout; a problem goes to stderr, on one line."""
    ledger = Ledger(database_url)
    setup_ccm(ledger)
    ledger.close()
    result = subprocess.run([sys.executable, "-m", "api.cli", "get", path], capture_output=True,
                            env={**os.environ, "LEDGER_DATABASE_URL": database_url}, timeout=120)
    assert result.returncode == code
    body, other = (result.stdout, result.stderr) if code == 0 else (result.stderr, result.stdout)
    assert text in body and body.count(b"\n") == 1
    assert other == b""
