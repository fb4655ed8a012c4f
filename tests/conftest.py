"""Fixtures: every store-backed test runs against a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from ledger.commands import Ledger
from tests import postgres

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(found: object, message: str) -> None:
    """Something a test needs from the machine: a failure in CI (`make test` installs it), a
    skip elsewhere."""
    if not found:
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    try:
        server = postgres.start()
    except Exception as error:  # no server: a failure in CI, a skip on a laptop without one
        require(False, f"cannot start a throwaway PostgreSQL server: {error}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    server: postgres.Server = request.getfixturevalue("postgres_server")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    app = Ledger(database_url)
    yield app
    app.close()
