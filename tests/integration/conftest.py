"""Fixtures of the integration tests: a projector following the test's ledger."""

from __future__ import annotations

import pytest

from projections.runner import Projector


@pytest.fixture
def projector(ledger, database_url):
    with Projector(database_url) as projector:
        yield projector
