"""Security: each token's writes are rate limited, slow clients are cut off (raw sockets against
a real `ledger serve`), tokens are hashed at rest, revocable at once and never logged."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.tokens import Principal, TokenStore
from ledger.commands import Ledger
from tests.factories import log, random_ref
from tests.servers import serving

README = Path(__file__).resolve().parents[2] / "README.md"


def organisation() -> dict[str, str]:
    return {"code": random_ref("ORG").upper(), "name": "Monitor", "kind": "organisation"}


def test_a_token_that_writes_too_often_gets_429_and_reads_are_never_limited(database_url):
    store = TokenStore(database_url)
    busy, other = store.create("busy", ["record"]), store.create("other", ["record"])
    settings = Settings(database_url=database_url, write_rate=20, write_burst=3,
                        tick_interval=0, poll_interval=0.05)
    with TestClient(create_app(settings)) as client:
        def write(token: str) -> httpx.Response:
            return client.post("/v1/parties", json=organisation(),
                               headers={"Authorization": f"Bearer {token}"})

        assert [write(busy).status_code for _ in range(3)] == [201, 201, 201]
        before = log(client.app.state.ledger)
        refused = write(busy)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] in ("2", "3")  # 20 a minute: one each 3 s
        assert refused.json()["type"] == "/-/problems#too-many-requests"
        assert log(client.app.state.ledger) == before  # nothing recorded
        assert {client.get("/v1/parties").status_code for _ in range(50)} == {200}
        assert write(other).status_code == 201  # each token has its own allowance
        forged = client.post("/v1/parties", json={}, headers={"Authorization": "Bearer a.b"})
        assert forged.status_code == 401  # authentication first: no allowance for a bad token
        time.sleep(float(refused.headers["retry-after"]))
        assert write(busy).status_code == 201


def test_write_rate_zero_turns_the_limit_off_and_the_api_documents_429_and_408(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    token = TokenStore(url).create("bulk", ["record"])
    settings = Settings(database_url=url, write_rate=0, write_burst=1, tick_interval=0)
    with TestClient(create_app(settings)) as client:
        statuses = {client.post("/v1/parties", json=organisation(),
                                headers={"Authorization": f"Bearer {token}"}).status_code
                    for _ in range(20)}
        spec = client.get("/openapi.json").json()
    assert statuses == {201}
    posts = [item["post"] for item in spec["paths"].values() if "post" in item]
    assert len(posts) >= 31 and all({"408", "429"} <= set(op["responses"]) for op in posts)


def test_the_readme_documents_each_security_setting_with_its_default():
    table = README.read_text(encoding="utf-8")
    defaults = Settings.model_fields
    for name in ("write_rate", "write_burst", "header_timeout", "body_timeout",
                 "keep_alive_timeout"):
        default = defaults[name].default
        row = re.search(rf"^\| `LEDGER_{name.upper()}` \| `([^`]*)` \|", table, re.MULTILINE)
        assert row is not None, name
        assert float(row.group(1)) == default, name


# -- slow and idle clients, over raw sockets against `ledger serve` ---------------------------

TIMEOUTS = {"header_timeout": "1", "body_timeout": "2", "keep_alive_timeout": "1"}


def trickle(base: str, head: bytes, seconds: float = 8) -> tuple[bytes, float]:
    """Send `head`, then one byte every 0.2 s until the server closes the connection (or
    `seconds` pass); returns what it answered and when it closed."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    answer = b""
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head)
        sock.settimeout(0.2)
        while time.monotonic() - started < seconds:
            try:
                sock.sendall(b" ")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # reset: the server closed while bytes were still arriving
                break
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - started


def test_slow_headers_and_slow_bodies_are_cut_off_while_others_are_served(database_url):
    token = TokenStore(database_url).create("desk", ["record"])
    write_head = (f"POST /v1/parties HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer {token}"
                  "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{").encode()
    cases = {
        "slow headers": b"GET /v1/parties HTTP/1.1\r\nHost: ledger\r\nX-Slow: ",
        "slow body of a write": write_head,
        "slow body no one reads (401)": b"POST /v1/parties HTTP/1.1\r\nHost: ledger\r\n"
                                        b"Content-Length: 500\r\n\r\n{",
        "slow body of a read": b"GET /-/health HTTP/1.1\r\nHost: ledger\r\n"
                               b"Content-Length: 500\r\n\r\n",
    }
    with serving(database_url, **TIMEOUTS) as server:
        ledger_log = httpx.get(f"{server.base}/v1/events").content
        results: dict[str, list[tuple[bytes, float]]] = {name: [] for name in cases}
        threads = [threading.Thread(target=lambda n=n, h=h: results[n].append(
            trickle(server.base, h))) for n, h in cases.items() for _ in range(5)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # 20 slow connections are open: a normal client is still served
        started = time.monotonic()
        assert httpx.get(f"{server.base}/-/health").status_code == 200
        assert time.monotonic() - started < 1
        for thread in threads:
            thread.join()
        assert httpx.get(f"{server.base}/v1/events").content == ledger_log  # nothing recorded
    status = {name: {answer[:13] for answer, _ in outcomes} for name, outcomes in results.items()}
    assert status == {"slow headers": {b"HTTP/1.1 408 "}, "slow body of a write": {b"HTTP/1.1 408 "},
                      "slow body no one reads (401)": {b"HTTP/1.1 401 "},
                      "slow body of a read": {b"HTTP/1.1 200 "}}
    assert all(b"application/problem+json" in answer for answer, _ in results["slow headers"])
    assert all(b'"title":"Request Timeout"' in answer and b"x-request-id" in answer
               for answer, _ in results["slow body of a write"])
    closed = {name: [round(after, 1) for _, after in outcomes] for name, outcomes in results.items()}
    assert all(1 <= after < 3 for after in closed["slow headers"]), closed
    assert all(2 <= after < 4 for after in closed["slow body of a write"]), closed
    assert all(after < 4 for outcomes in closed.values() for after in outcomes), closed


def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(tmp_path):
    with serving(f"sqlite:///{tmp_path}/ledger.db", **TIMEOUTS) as server:
        host, port = server.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"GET /-/health HTTP/1.1\r\nHost: ledger\r\n\r\n")
            sock.settimeout(5)
            answer = b""
            while not answer.endswith(b'{"status":"ok"}'):
                answer += sock.recv(65536)
            answered = time.monotonic()
            assert sock.recv(65536) == b""  # closed by the server, not by our timeout
            idle = time.monotonic() - answered
    assert answer.startswith(b"HTTP/1.1 200 ") and 0.5 <= idle < 3


# -- tokens ------------------------------------------------------------------------------------


def test_tokens_are_kept_as_hashes_and_a_revoked_token_is_refused_at_once(database_url):
    Ledger(database_url).close()  # `ledger token` needs a ledger store, as serve or import make
    store = TokenStore(database_url)
    token = store.create("desk", ["record"])
    token_id, _, secret = token.partition(".")
    with store._cursor() as cursor:
        cursor.execute("SELECT name, token_id, secret_hash, scopes, created_at FROM api_tokens")
        rows = [tuple(row) for row in cursor.fetchall()]
    assert rows[0][:4] == ("desk", token_id, hashlib.sha256(secret.encode()).hexdigest(), "record")
    assert not any(secret in str(value) for row in rows for value in row)
    if database_url.startswith("sqlite:"):  # nowhere in the database file either
        files = Path(database_url.removeprefix("sqlite:///")).parent.glob("ledger.db*")
        assert not any(secret.encode() in file.read_bytes() for file in files)
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url}
    listed = subprocess.run([sys.executable, "-m", "api.cli", "token", "list"], env=env,
                            capture_output=True, check=True)
    assert b"desk" in listed.stdout and secret.encode() not in listed.stdout + listed.stderr

    settings = Settings(database_url=database_url, tick_interval=0)
    with TestClient(create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.post("/v1/parties", json=organisation(), headers=auth).status_code == 201
        subprocess.run([sys.executable, "-m", "api.cli", "token", "revoke", "desk"], env=env,
                       capture_output=True, check=True)
        before = log(client.app.state.ledger)
        refused = client.post("/v1/parties", json=organisation(), headers=auth)
        assert refused.status_code == 401 and log(client.app.state.ledger) == before
    assert store.list()[0]["revoked_at"] is not None


def test_no_log_line_of_any_write_outcome_contains_the_token(database_url):
    store = TokenStore(database_url)
    token, reader = store.create("desk", ["record"]), store.create("reader", ["record"])
    store.revoke("reader")
    secrets = [token, token.split(".")[1], reader, reader.split(".")[1]]
    with serving(database_url, write_rate="6", write_burst="3", **TIMEOUTS) as server:
        auth = {"Authorization": f"Bearer {token}"}
        answers = [
            httpx.post(f"{server.base}/v1/parties", json=organisation(), headers=auth),
            httpx.post(f"{server.base}/v1/parties", json={"code": "?"}, headers=auth),
            httpx.post(f"{server.base}/v1/allegations/x/findings", json={}, headers=auth),
            httpx.post(f"{server.base}/v1/parties", json=organisation(), headers=auth),
            httpx.post(f"{server.base}/v1/parties", json=organisation(),
                       headers={"Authorization": f"Bearer {reader}"}),
        ]
        slow, _ = trickle(server.base, (
            f"POST /v1/parties HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer {reader}\r\n"
            "Content-Length: 100\r\n\r\n").encode())
    assert [a.status_code for a in answers] == [201, 422, 403, 429, 401]
    assert slow.startswith(b"HTTP/1.1 401 ")
    stderr = server.stderr
    assert not any(secret.encode() in stderr for secret in secrets)
    logged = [json.loads(raw) for raw in stderr.splitlines() if raw.startswith(b"{")]
    statuses = [r["status"] for r in logged if r.get("message") == "request"]
    assert {201, 422, 403, 429, 401} <= set(statuses)


def test_the_servers_token_store_checks_every_write_on_one_kept_connection(database_url):
    """`ledger serve` checks a token on every write: on a connection it keeps, not on a new
    one each time (a PostgreSQL connection costs milliseconds to open)."""
    Ledger(database_url).close()
    store = TokenStore(database_url, kept=True)
    try:
        token = store.create("desk", ["record"])
        sessions = set()
        for _ in range(5):
            assert store.authenticate(token) == Principal("desk", frozenset({"record"}))
            with store._cursor() as cursor:
                if database_url.startswith("sqlite:"):
                    sessions.add(id(cursor.connection))
                else:
                    cursor.execute("SELECT pg_backend_pid()")
                    sessions.add(cursor.fetchone()[0])
        assert len(sessions) == 1
    finally:
        store.close()
