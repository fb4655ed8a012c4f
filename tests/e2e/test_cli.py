"""The `ledger` command as users run it: a real process, a real store, exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.factories import line

LEDGER = [sys.executable, "-m", "api.cli"]


def ledger(database_url: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url}
    return subprocess.run([*LEDGER, *args], env=env, capture_output=True, input=stdin, timeout=300)


def events_in(export: Path) -> list[dict]:
    return [orjson.loads(raw) for raw in export.read_bytes().splitlines()]


def test_demo_export_restore_export_is_byte_identical(database_url, postgres_server, tmp_path):
    loaded = ledger(database_url, "demo")
    assert loaded.returncode == 0, loaded.stderr.decode()
    first, second = tmp_path / "first.ndjson", tmp_path / "second.ndjson"
    assert ledger(database_url, "export", "-o", str(first)).returncode == 0
    empty = postgres_server.create_database("restored_" + os.urandom(4).hex()) \
        if database_url.startswith("postgresql") else f"sqlite:///{tmp_path}/restored.db"
    restored = ledger(empty, "restore", str(first))
    assert restored.returncode == 0, restored.stderr.decode()
    assert ledger(empty, "export", "-o", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    domain_events = [e for e in events_in(first) if e["type"] != "CommandAccepted"]
    assert len(domain_events) >= 300
    assert all(e["state"]["sources"] and e["state"]["recorded_by"] == "demo" for e in domain_events)


def test_demo_refuses_a_store_that_is_not_empty_unless_asked_to_skip(database_url):
    assert ledger(database_url, "demo").returncode == 0
    again = ledger(database_url, "demo")
    assert again.returncode == 1
    assert b"not empty" in again.stderr
    assert ledger(database_url, "demo", "--if-empty").returncode == 0


def test_import_twice_then_a_bad_line(database_url, tmp_path):
    commands = tmp_path / "commands.ndjson"
    commands.write_bytes(b"\n".join([
        line("register_instrument", key="k1", code="CCM", title="Convention on Cluster Munitions",
             kind="treaty"),
        line("register_party", key="k2", code="LAO", name="Lao PDR", kind="state"),
    ]) + b"\n")
    first = ledger(database_url, "import", str(commands), "--recorded-by", "alice")
    assert first.returncode == 0, first.stderr.decode()
    assert b"2 recorded, 0 already recorded, 0 refused" in first.stderr
    second = ledger(database_url, "import", str(commands))
    assert second.returncode == 0
    assert b"0 recorded, 2 already recorded, 0 refused" in second.stderr

    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"\n".join([
        line("register_party", key="k3", code="PER", name="Peru", kind="state"),
        line("change_treaty_status", key="k4", party="PER", instrument="CCM", status="ratified",
             on="2012-05-26"),
        line("submit_report", key="k5", party="ZZZ", instrument="CCM", kind="initial",
             period="2010", received_on="2011-01-01"),
    ]))
    third = ledger(database_url, "import", str(bad))
    assert third.returncode == 1
    assert b"line 3 (party): parties/ZZZ is not in the ledger" in third.stderr
    assert b"2 recorded, 0 already recorded, 1 refused" in third.stderr
    exported = tmp_path / "log.ndjson"
    assert ledger(database_url, "export", "-o", str(exported)).returncode == 0
    types = [e["type"] for e in events_in(exported) if e["type"] != "CommandAccepted"]
    assert types == ["InstrumentRegistered", "PartyRegistered", "PartyRegistered",
                     "TreatyStatusChanged"]
    assert events_in(exported)[0]["state"]["recorded_by"] == "alice"


@pytest.mark.parametrize(("args", "message"), [
    (["export", "--format", "xml"], b"unknown format 'xml'"),
    (["import", "/no/such/file.ndjson"], b"does not exist"),
])
def test_cli_mistakes_get_one_clear_line_and_a_non_zero_exit(database_url, args, message):
    result = ledger(database_url, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert b"Traceback" not in result.stderr


def test_an_unreachable_store_is_one_clear_line():
    result = ledger("postgresql://nobody:x@127.0.0.1:9/none", "export")
    assert result.returncode == 1
    assert result.stderr.startswith(b"error: cannot open the store")
    assert b"Traceback" not in result.stderr
