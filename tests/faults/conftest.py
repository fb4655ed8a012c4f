"""Fixtures of the fault tests: a second empty store of the same kind, for comparisons."""

from __future__ import annotations

import uuid

import pytest

from tests import postgres


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, database_url: str, tmp_path) -> str:
    """Another empty store of the kind `database_url` is."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/fresh.db"
    server: postgres.Server = request.getfixturevalue("postgres_server")
    return server.create_database(f"f_{uuid.uuid4().hex[:12]}")
