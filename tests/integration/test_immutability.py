"""The database itself refuses to change or remove a stored event."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from tests.factories import log, setup_ccm


def test_update_and_delete_on_the_event_table_are_refused(ledger, database_url):
    setup_ccm(ledger)
    before = log(ledger)
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        statements = ["UPDATE stored_events SET topic = 'x'", "DELETE FROM stored_events"]
        with sqlite3.connect(path) as conn:
            for statement in statements:
                with pytest.raises(sqlite3.IntegrityError, match="ledger events are immutable"):
                    conn.execute(statement)
    else:
        statements = ["UPDATE ledger_events SET topic = 'x'", "DELETE FROM ledger_events",
                      "TRUNCATE ledger_events"]
        for statement in statements:
            with psycopg.connect(database_url) as conn:
                with pytest.raises(psycopg.errors.RaiseException, match="immutable"):
                    conn.execute(statement)
    assert log(ledger) == before
