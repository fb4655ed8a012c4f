"""`ledger serve` starts a real HTTP server on the configured store and serves the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import orjson

from api.tokens import TokenStore
from tests.factories import line
from tests.servers import serving


def test_serve_answers_health_and_the_raw_log(database_url, tmp_path):
    commands = tmp_path / "c.ndjson"
    commands.write_bytes(
        line("register_party", key="k1", code="LAO", name="Lao PDR", kind="state") + b"\n"
    )
    subprocess.run([sys.executable, "-m", "api.cli", "import", str(commands)], check=True,
                   capture_output=True, env={**os.environ, "LEDGER_DATABASE_URL": database_url})
    with serving(database_url) as server:
        health = httpx.get(f"{server.base}/-/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}

        log = httpx.get(f"{server.base}/v1/events", params={"after": 0, "limit": 10})
        assert log.status_code == 200
        assert log.headers["content-type"].startswith("application/x-ndjson")
        records = [orjson.loads(raw) for raw in log.content.splitlines()]
        assert [r["type"] for r in records] == ["PartyRegistered", "CommandAccepted"]
        assert records[0]["state"]["code"] == "LAO"
        assert records[0]["position"] < records[1]["position"]

        after = httpx.get(f"{server.base}/v1/events", params={"after": records[0]["position"]})
        assert [orjson.loads(raw)["type"] for raw in after.content.splitlines()] == [
            "CommandAccepted"
        ]
        assert httpx.get(f"{server.base}/v1/events", params={"limit": 0}).status_code == 422


def test_serve_logs_one_json_line_per_request_with_its_id_and_never_a_token(database_url):
    token = TokenStore(database_url).create("desk", ["record"])
    with serving(database_url) as server:
        written = httpx.post(f"{server.base}/v1/parties",
                             json={"code": "LAO", "name": "Lao PDR", "kind": "state"},
                             headers={"Authorization": f"Bearer {token}", "X-Request-ID": "abc-1"})
        assert written.status_code == 201 and written.headers["x-request-id"] == "abc-1"
        refused = httpx.post(f"{server.base}/v1/parties", json={},
                             headers={"Authorization": f"Bearer {token}x"})
        assert refused.status_code == 401
    stderr = server.stderr
    assert token.encode() not in stderr and token.split(".")[1].encode() not in stderr
    requests = [json.loads(raw) for raw in stderr.splitlines() if raw.startswith(b"{")]
    logged = [r for r in requests if r.get("message") == "request"]
    first = next(r for r in logged if r["request_id"] == "abc-1")
    assert {"method": "POST", "path": "/v1/parties", "status": 201,
            "principal": "desk"}.items() <= first.items()
    assert any(r["status"] == 401 and r["principal"] is None for r in logged)
