"""The HTTP app on each store, with tokens of each scope and the projector following the log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.tokens import TokenStore


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    def headers(self, scope: str = "record", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}", **extra}

    def post(self, path: str, body: dict, scope: str = "record", **headers: str):
        return self.client.post(path, json=body, headers=self.headers(scope, **headers))

    def settle(self, timeout: float = 30) -> None:
        """Wait until the read model has projected everything recorded so far."""
        deadline = time.monotonic() + timeout
        while True:
            ready = self.client.get("/-/ready").json()
            if ready["projected_position"] >= ready["log_position"]:
                return
            assert time.monotonic() < deadline, ready
            time.sleep(0.05)


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    store = TokenStore(database_url)
    tokens = {scope: store.create(f"{scope}-desk", [scope])
              for scope in ("record", "adjudicate", "admin")}
    settings = Settings(database_url=database_url, poll_interval=0.05, tick_interval=0)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, tokens)
