"""`ledger serve` starts a real HTTP server on the configured store and serves the log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import orjson

from tests.factories import line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_health_and_the_raw_log(database_url, tmp_path):
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url}
    commands = tmp_path / "c.ndjson"
    commands.write_bytes(
        line("register_party", key="k1", code="LAO", name="Lao PDR", kind="state") + b"\n"
    )
    subprocess.run([sys.executable, "-m", "api.cli", "import", str(commands)], env=env, check=True,
                   capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/-/health")
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}

        log = httpx.get(f"{base}/v1/events", params={"after": 0, "limit": 10})
        assert log.status_code == 200
        assert log.headers["content-type"].startswith("application/x-ndjson")
        records = [orjson.loads(raw) for raw in log.content.splitlines()]
        assert [r["type"] for r in records] == ["PartyRegistered", "CommandAccepted"]
        assert records[0]["state"]["code"] == "LAO"
        assert records[0]["position"] < records[1]["position"]

        after = httpx.get(f"{base}/v1/events", params={"after": records[0]["position"]})
        assert [orjson.loads(raw)["type"] for raw in after.content.splitlines()] == [
            "CommandAccepted"
        ]
        assert httpx.get(f"{base}/v1/events", params={"limit": 0}).status_code == 422
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_logs_one_json_line_per_request_with_its_id_and_never_a_token(database_url):
    from api.tokens import TokenStore

    token = TokenStore(database_url).create("desk", ["record"])
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_TICK_INTERVAL": "0"}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/-/health")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        written = httpx.post(f"{base}/v1/parties", json={"code": "LAO", "name": "Lao PDR",
                                                        "kind": "state"},
                             headers={"Authorization": f"Bearer {token}", "X-Request-ID": "abc-1"})
        assert written.status_code == 201 and written.headers["x-request-id"] == "abc-1"
        refused = httpx.post(f"{base}/v1/parties", json={},
                             headers={"Authorization": f"Bearer {token}x"})
        assert refused.status_code == 401
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=10)
    assert token.encode() not in stderr and token.split(".")[1].encode() not in stderr
    requests = [json.loads(line) for line in stderr.splitlines() if line.startswith(b"{")]
    logged = [r for r in requests if r.get("message") == "request"]
    assert {"request_id": "abc-1", "method": "POST", "path": "/v1/parties", "status": 201,
            "principal": "desk"}.items() <= next(r for r in logged if r["request_id"] == "abc-1").items()
    assert any(r["status"] == 401 and r["principal"] is None for r in logged)
