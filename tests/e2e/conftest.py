"""The HTTP app on each store, with tokens of each scope and the projector following the log."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from api.tokens import TokenStore
from projections.runner import Projector


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


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store of each kind holding the demo data (`ledger demo`), its read model caught up."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/ledger.db"
    else:
        url = request.getfixturevalue("postgres_server").create_database(
            f"demo_{uuid.uuid4().hex[:8]}")
    subprocess.run([sys.executable, "-m", "api.cli", "demo"], check=True, capture_output=True,
                   env={"LEDGER_DATABASE_URL": url, "PATH": ""})
    with Projector(url) as projector:
        projector.catch_up()
    return url


@pytest.fixture(scope="module")
def demo(demo_url: str) -> Iterator[TestClient]:
    """The HTTP app reading the demo store (its read model is already caught up)."""
    settings = Settings(database_url=demo_url, project_in_process=False, tick_interval=0)
    with TestClient(create_app(settings)) as client:
        yield client
