"""The `ledger` command as users run it: a real process, a real store, exit codes and messages."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from contextlib import closing
from pathlib import Path

import orjson
import psycopg
import pytest

from tests.factories import line
from tests.postgres import free_port

LEDGER = [sys.executable, "-m", "api.cli"]


def ledger(database_url: str, *args: str, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, **(env or {})}
    return subprocess.run([*LEDGER, *args], env=env, capture_output=True, timeout=300)


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


#: the commands that only read a store (`tick` and `checkpoint` append to an existing log)
READING = [
    ["export"], ["rebuild"], ["follow"], ["digest"], ["tick"], ["checkpoint"],
    ["get", "/v1/parties"], ["token", "create", "--name", "desk", "--scope", "record"],
    ["token", "list"], ["token", "revoke", "desk"],
]
UNREACHABLE = "postgresql://u:secret@127.0.0.1:1/x?connect_timeout=1"


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single line a failed command wrote to stderr (asserting it is one, and no more)."""
    assert result.returncode != 0, result.stdout
    assert result.stderr.startswith(b"error: ") and result.stderr.count(b"\n") == 1, result.stderr
    return result.stderr.decode()


def public_tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


def test_digest_recompute_finds_a_read_model_row_edited_behind_the_projectors_back(
        database_url, tmp_path):
    commands = tmp_path / "commands.ndjson"
    commands.write_bytes(line("register_party", code="LAO", name="Lao PDR", kind="state") + b"\n")
    assert ledger(database_url, "import", str(commands)).returncode == 0
    kept = ledger(database_url, "digest", "--recompute")
    assert kept.returncode == 0, kept.stderr
    position, hex_digest = kept.stdout.decode().split()
    assert ledger(database_url, "digest").stdout == kept.stdout
    edit = "UPDATE entities SET status = 'signatory' WHERE path = 'parties/LAO'"
    if database_url.startswith("sqlite"):
        with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn, conn:
            conn.execute(edit)
    else:
        with psycopg.connect(database_url) as conn:
            conn.execute(edit)
    assert ledger(database_url, "digest").stdout == kept.stdout  # the kept sum did not see it
    message = one_error_line(ledger(database_url, "digest", "--recompute"))
    assert message.startswith(f"error: the kept state digest {hex_digest} at position {position} "
                              "is not its rows' ")
    assert "ledger rebuild state" in message
    assert ledger(database_url, "rebuild", "state").returncode == 0
    assert ledger(database_url, "digest", "--recompute").stdout == kept.stdout


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory) -> dict[str, str]:
    """A real signer key, so that `checkpoint` goes on to open the store."""
    env = {"LEDGER_SIGNING_KEY_FILE": str(tmp_path_factory.mktemp("key") / "signing.key")}
    assert ledger("sqlite:///unused.db", "key", "generate", env=env).returncode == 0
    return env


@pytest.mark.parametrize("args", READING, ids=" ".join)
def test_a_command_that_reads_refuses_a_mistyped_sqlite_path_and_creates_nothing(
        tmp_path, signing_key, args):
    typo = tmp_path / "typo" / "ledger.db"
    message = one_error_line(ledger(f"sqlite:///{typo}", *args, env=signing_key))
    assert message.startswith(f"error: no ledger store: {typo} does not exist; ")
    assert "`ledger demo`, `ledger import FILE`, `ledger restore FILE` or `ledger serve`" in message
    assert not typo.parent.exists()


def test_reading_commands_refuse_an_empty_store_until_import_creates_the_ledger(
        database_url, tmp_path):
    sqlite = database_url.startswith("sqlite")
    refused = [ledger(database_url, "digest"),
               ledger(database_url, "token", "create", "--name", "desk", "--scope", "record")]
    for result in refused:
        message = one_error_line(result)
        assert message.startswith("error: no ledger store: ")
        assert ("does not exist" if sqlite else "has no ledger_events table") in message
        assert result.stdout == b""
    if sqlite:
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        assert public_tables(database_url) == []
    commands = tmp_path / "commands.ndjson"
    commands.write_bytes(line("register_party", code="LAO", name="Lao PDR", kind="state") + b"\n")
    assert ledger(database_url, "import", str(commands)).returncode == 0
    assert ledger(database_url, "digest").stdout.startswith(b"2 ")  # the command and its event
    token = ledger(database_url, "token", "create", "--name", "desk", "--scope", "record")
    assert token.returncode == 0 and token.stdout.count(b".") == 1


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> Iterator[dict[str, str]]:
    """What the bad inputs below name: a small ledger, files that are not what they should be,
    and a port something else listens on."""
    tmp = tmp_path_factory.mktemp("cli")
    commands = tmp / "commands.ndjson"
    commands.write_bytes(line("register_party", code="LAO", name="Lao PDR", kind="state"))
    store = f"sqlite:///{tmp}/ledger.db"
    assert ledger(store, "import", str(commands)).returncode == 0
    (tmp / "notes.txt").write_text("not a database\n")
    with closing(sqlite3.connect(tmp / "other.db")) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
    (tmp / "garbage.key").write_text("PRIVATE+KEY+nonsense\n")
    (tmp / "random.key").write_bytes(bytes(range(128, 256)))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield {"tmp": str(tmp), "store": store, "busy_port": str(busy.getsockname()[1]),
               "free_port": str(free_port())}


def case(args: list[str], message: str, id: str, **env: str) -> Any:
    return pytest.param(args, env, message, id=id)


@pytest.mark.parametrize(("args", "env", "message"), [
    case(["serve"], "invalid settings: LEDGER_PORT='abc': Input should be a valid integer",
         "serve: a setting that is not a number", LEDGER_PORT="abc"),
    case(["serve", "--port", "{busy_port}"], "cannot listen on 127.0.0.1:{busy_port}: Address "
         "already in use", "serve: a port in use"),
    case(["serve", "--port", "{free_port}"], "cannot open the store postgresql://u:***@127.0.0.1:1/x",
         "serve: an unreachable PostgreSQL", LEDGER_DATABASE_URL=UNREACHABLE),
    case(["demo"], "cannot open the store sqlite:///{tmp}/notes.txt: file is not a database",
         "demo: a store that is not a database", LEDGER_DATABASE_URL="sqlite:///{tmp}/notes.txt"),
    case(["demo"], "cannot open the store postgresql://u:***@127.0.0.1:1/x?connect_timeout=1: "
         "connection failed", "demo: an unreachable PostgreSQL", LEDGER_DATABASE_URL=UNREACHABLE),
    case(["import", "/no/such/file.ndjson"], "'/no/such/file.ndjson' does not exist",
         "import: a missing file"),
    case(["import", "{tmp}"], "is a directory. (see `python -m api.cli import --help`)",
         "import: a directory"),
    case(["export", "--format", "xml"], "unknown format 'xml'", "export: an unknown format"),
    case(["export", "-o", "/missing/dir/x"], "cannot write /missing/dir/x: No such file or "
         "directory", "export: a missing folder"),
    case(["export", "-o", "/dev/full"], "No space left on device", "export: a full disk"),
    case(["export"], "no ledger store: {tmp}/other.db has no stored_events table",
         "export: another application's database", LEDGER_DATABASE_URL="sqlite:///{tmp}/other.db"),
    case(["export"], "invalid settings: LEDGER_ENVIRONMENT='prod': Input should be 'development' "
         "or 'production'", "export: a setting out of its choices", LEDGER_ENVIRONMENT="prod"),
    case(["restore", "{tmp}/notes.txt"], "notes.txt: export line 1:", "restore: not an export"),
    case(["rebuild", "views"], "unknown read model 'views'", "rebuild: an unknown read model"),
    case(["follow"], "LEDGER_POLL_INTERVAL='-1': Input should be greater than 0",
         "follow: a negative setting", LEDGER_POLL_INTERVAL="-1"),
    case(["digest"], "no ledger store: {tmp}/notes.txt is not a SQLite database",
         "digest: a store that is not a database", LEDGER_DATABASE_URL="sqlite:///{tmp}/notes.txt"),
    case(["digest"], "cannot open the store postgresql://u:***@127.0.0.1:1/x",
         "digest: an unreachable PostgreSQL", LEDGER_DATABASE_URL=UNREACHABLE),
    case(["digest"], "unsupported database URL scheme 'mysql'", "digest: another database",
         LEDGER_DATABASE_URL="mysql://u@host/x"),
    case(["digest"], "cannot open the store postgresql://...: Invalid IPv6 URL",
         "digest: a URL that is not one", LEDGER_DATABASE_URL="postgresql://u:secret@[::1/x"),
    case(["tick", "--now", "yesterday"], "Invalid value for '--now'", "tick: a date that is not"),
    case(["checkpoint"], "{tmp}/garbage.key holds no valid signer key",
         "checkpoint: a key file that holds no key", LEDGER_SIGNING_KEY_FILE="{tmp}/garbage.key"),
    case(["key", "generate"], "cannot write the signing key to {tmp}/notes.txt/signing.key: "
         "{tmp}/notes.txt: File exists",
         "key generate: a folder that is a file",
         LEDGER_SIGNING_KEY_FILE="{tmp}/notes.txt/signing.key"),
    case(["verify", "--key", "k", "--url", "http://[::1"], "not a URL: 'http://[::1'",
         "verify: a URL that is not one"),
    case(["verify", "--key", "k", "--url", "http://127.0.0.1:1"], "cannot read "
         "http://127.0.0.1:1: [Errno 111] Connection refused", "verify: an unreachable URL"),
    case(["verify", "--key", "{tmp}/random.key", "--export", "{tmp}/notes.txt"],
         "cannot read the key file {tmp}/random.key", "verify: a key file that is not text"),
    case(["get", "http://[::1"], "not a URL path: 'http://[::1'", "get: a URL that is not one"),
    case(["token", "create", "--name", "desk", "--scope", "root"], "scopes must be among record, "
         "adjudicate, admin", "token create: an unknown scope"),
    case(["token", "revoke", "nobody"], "no active token named 'nobody'",
         "token revoke: an unknown name"),
    case(["token", "list"], "cannot open the store postgresql://u:***@127.0.0.1:1/x",
         "token list: an unreachable PostgreSQL", LEDGER_DATABASE_URL=UNREACHABLE),
    case(["tally"], "No such command 'tally'. (see `python -m api.cli --help`)",
         "an unknown command"),
])
def test_every_mistake_is_one_line_on_stderr_and_a_non_zero_exit(places, args, env, message):
    result = ledger(places["store"], *[a.format(**places) for a in args],
                    env={name: value.format(**places) for name, value in env.items()})
    assert message.format(**places) in one_error_line(result)
    assert result.stdout == b""
    assert b"secret" not in result.stderr


def test_the_installed_script_reports_mistakes_in_one_line_too(places):
    script = Path(sys.executable).with_name("ledger")
    env = {**os.environ, "LEDGER_DATABASE_URL": places["store"]}
    result = subprocess.run([str(script), "export", "-o", "/missing/dir/x"], env=env,
                            capture_output=True, timeout=300)
    assert one_error_line(result).startswith("error: cannot write /missing/dir/x")
