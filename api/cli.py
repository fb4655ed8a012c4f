"""The `ledger` command: serve the API, load demo data, import commands, export and restore."""

from __future__ import annotations

import getpass
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlencode

import httpx
import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli_errors import (
    STORE_ERRORS, cannot_open, fail, load_settings, reason, require_free_port, require_ledger,
    run, safe_url, writing,
)
from api.importer import ImportReport, import_lines
from api.settings import Settings
from api.tokens import SCOPES, TokenStore
from api.workers import Workers
from audit import signed_note
from audit.checkpoints import issue_checkpoint
from audit.proof import MalformedProof, parse_proof, verify_proof
from audit.verify import ExportFile, LedgerURL, VerificationFailed
from audit.verify import verify as run_verify
from ledger.commands import Ledger
from ledger.errors import LedgerError
from ledger.exchange import FORMATS, export_lines, read_export
from ledger.runtime import collect_seldom
from projections.digest import checked_digest, state_digest
from projections.runner import READ_MODELS, Projector, run_tick

T = TypeVar("T", Ledger, Projector)

app = typer.Typer(
    help="The Commitment Ledger: an event-sourced record of treaty commitments, reports and "
    "compliance allegations. The store is chosen by LEDGER_DATABASE_URL "
    "(default sqlite:///./var/ledger.db). Only demo, import, restore and serve create a store "
    "that does not exist yet; the other commands refuse one that holds no ledger. Errors are "
    "one line on stderr and a non-zero exit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _every_command(context: typer.Context) -> None:
    # commands work through many events at once, where Python's default collector costs a
    # fifth of the time; `ledger serve` answered requests faster with the default
    if context.invoked_subcommand != "serve":
        collect_seldom()


@contextmanager
def opened(kind: Callable[[str], T], settings: Settings | None, create: bool) -> Iterator[T]:
    """`Ledger` or `Projector` on the configured store, which only `create` may bring into
    being; refusals and a store that cannot be opened or fails become one line on stderr."""
    settings = settings or load_settings()
    if not create:
        require_ledger(settings.database_url)
    try:
        opened_ = kind(settings.database_url)
    except Exception as error:  # the store could not be opened: say so in one line
        raise cannot_open(settings.database_url, error) from None
    try:
        yield opened_
    except LedgerError as error:
        raise fail(str(error)) from None
    except STORE_ERRORS as error:
        raise fail(f"the store {safe_url(settings.database_url)} failed: {error}") from None
    finally:
        opened_.close()


def open_ledger(
    settings: Settings | None = None, create: bool = False
) -> AbstractContextManager[Ledger]:
    return opened(Ledger, settings, create)


def open_projector(settings: Settings | None = None) -> AbstractContextManager[Projector]:
    return opened(Projector, settings, create=False)


def progress(description: str) -> Progress:
    """A progress bar on a terminal, silence in pipes."""
    return Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        disable=not sys.stderr.isatty(), transient=True,
    )


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def run_import(ledger: Ledger, path: Path, recorded_by: str) -> ImportReport:
    total = count_lines(path)
    with progress(f"importing {path.name}") as bar, path.open("rb") as handle:
        task = bar.add_task("import", total=total)
        return import_lines(
            ledger, handle, recorded_by, on_line=lambda n: bar.update(task, completed=n)
        )


def print_report(report: ImportReport, label: str) -> None:
    for error in report.errors:
        typer.echo(f"{label}: {error}", err=True)
    typer.echo(f"{label}: {report.summary()}", err=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on [LEDGER_HOST]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="port to listen on [LEDGER_PORT]")
    ] = None,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="API worker processes sharing the port (above 1: PostgreSQL only); "
        "the projector, tick, checkpoints and witnesses still run once, in the parent process")
    ] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.server import log_json_lines, uvicorn_options

    settings = load_settings()
    host, port = host or settings.host, port or settings.port
    if workers > 1 and not settings.database_url.startswith("postgres"):
        raise fail("--workers above 1 needs PostgreSQL (LEDGER_DATABASE_URL=postgresql://...): "
                   "a SQLite store takes one writer at a time; serve it with one worker", 2)
    require_free_port(host, port)
    with open_ledger(settings, create=True):
        pass  # create the store, or say in one line why it cannot be opened
    log_json_lines()
    store = safe_url(settings.database_url)
    typer.echo(f"Commitment Ledger on http://{host}:{port} (store: {store}, workers: {workers})")
    options = {"host": host, "port": port, "log_config": None, "access_log": False,
               "log_level": "info", **uvicorn_options(settings, workers)}
    if workers == 1:
        from api.main import create_app

        uvicorn.run(create_app(settings), **options)
        return
    background = Workers(settings)  # once for all the worker processes
    background.start()
    try:
        uvicorn.run(**options)
    finally:
        background.stop()


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing (exit 0) when the store holds events")
    ] = False,
) -> None:
    """Load the demo data built from the seed documents into an empty store."""
    with open_ledger(create=True) as ledger:
        if not ledger.is_empty():
            if if_empty:
                typer.echo("demo: the store already holds events; nothing loaded", err=True)
                return
            raise fail("the store is not empty; demo data loads only into an empty store")
        files = sorted(
            (f for f in resources.files("ledger.demo").iterdir() if f.name.endswith(".ndjson")),
            key=lambda f: f.name,
        )
        failed = False
        for file in files:
            with resources.as_file(file) as path:
                report = run_import(ledger, path, recorded_by="demo")
            print_report(report, file.name)
            failed = failed or not report.ok
        if failed:
            raise typer.Exit(1)


@app.command(name="import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON command file")],
    recorded_by: Annotated[
        str, typer.Option(help="principal recorded on each event")
    ] = f"cli:{getpass.getuser()}",
) -> None:
    """Record each valid command line of FILE (docs/commands.md); skip lines already recorded.

    Bad lines are named with their reason and record nothing; the exit code is 1 if any line
    was bad.
    """
    with open_ledger(create=True) as ledger:
        report = run_import(ledger, file, recorded_by)
    print_report(report, file.name)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def export(
    format: Annotated[str, typer.Option(help=f"one of: {', '.join(FORMATS)}")] = "ndjson",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: stdout)")
    ] = None,
) -> None:
    """Write the whole event log in order, one event per line."""
    if format not in FORMATS:
        raise fail(f"unknown format {format!r}; use one of {', '.join(FORMATS)}", 2)
    with open_ledger() as ledger, writing(output) as sink:
        for line in export_lines(ledger.read_all(), format):
            sink.write(line)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="an export file")],
) -> None:
    """Append an export (either format) into an empty store, exactly as exported."""
    with file.open("rb") as handle:
        try:
            for _ in read_export(handle):
                pass  # check every line before writing any
        except LedgerError as error:
            raise fail(f"{file.name}: {error}; nothing restored") from None
    with open_ledger(create=True) as ledger:
        if not ledger.is_empty():
            raise fail("the store is not empty; restore appends only into an empty store")
        total = count_lines(file)
        with progress(f"restoring {file.name}") as bar, file.open("rb") as handle:
            task = bar.add_task("restore", total=total)

            def tracked() -> Iterator:
                for number, event in enumerate(read_export(handle), start=1):
                    bar.update(task, completed=number)
                    yield event

            count = ledger.restore(tracked())
    typer.echo(f"restored {count} events", err=True)


@app.command()
def rebuild(
    name: Annotated[
        str, typer.Argument(help=f"read model to rebuild; all of them if omitted ({', '.join(READ_MODELS)})")
    ] = "all",
) -> None:
    """Load a read model again from position zero, as a bulk load (indexes built at the end).
    On PostgreSQL it is built beside the serving one, which answers every read until one
    transaction switches the new one in; if cut off, the serving one is untouched and the next
    rebuild resumes. On SQLite it is dropped and loaded in place; if cut off, the next projector
    to start finishes it."""
    if name not in (*READ_MODELS, "all"):
        raise fail(f"unknown read model {name!r}; use one of {', '.join(READ_MODELS)}", 2)
    names = READ_MODELS if name == "all" else (name,)
    with open_projector() as projector:
        last = projector.ledger.recorder.max_notification_id() or 0
        with progress(f"rebuilding {', '.join(names)}") as bar:
            task = bar.add_task("rebuild", total=last)
            count = projector.rebuild(
                names, on_batch=lambda position: bar.update(task, completed=position))
    typer.echo(f"rebuilt {', '.join(names)}: {count} events projected", err=True)


@app.command()
def project(
    names: Annotated[list[str] | None, typer.Argument(
        metavar="NAME", show_default=False,
        help=f"read models to keep up to date, of {', '.join(READ_MODELS)} (all if omitted)")
    ] = None,
) -> None:
    """Keep read models up to date until stopped (SIGTERM, Ctrl-C): a projection worker apart
    from `ledger serve` (run that with LEDGER_PROJECT_IN_PROCESS=false). On PostgreSQL, run two
    or more: each read model is written by the worker holding its lease, and a standby takes
    over within seconds when that one dies or stalls (docs/deploy.md). On SQLite there are no
    leases: run one."""
    chosen = list(dict.fromkeys(names or READ_MODELS))
    if unknown := [name for name in chosen if name not in READ_MODELS]:
        raise fail(f"unknown read model {unknown[0]!r}; use any of {', '.join(READ_MODELS)}", 2)
    settings = load_settings()
    with open_projector(settings):
        pass  # refuse a store that holds no ledger, or say why it cannot be opened
    from api.server import log_json_lines

    log_json_lines()
    workers = Workers(settings)
    signal.signal(signal.SIGTERM, lambda *_: workers.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: workers.stopping.set())
    leased = "under leases" if settings.database_url.startswith("postgres") else "no leases"
    typer.echo(f"projecting {', '.join(chosen)} ({leased}; store: "
               f"{safe_url(settings.database_url)})", err=True)
    workers.project(chosen)


@app.command()
def follow() -> None:
    """Keep every read model up to date until stopped: the same as `ledger project`."""
    project(None)


@app.command()
def digest(
    recompute: Annotated[bool, typer.Option(
        help="also read every row again and check that the kept digest is theirs (slow: "
        "minutes at a million events)")] = False,
) -> None:
    """Bring the read model up to date, then print its log position and state digest (the
    set hash that checkpoints sign, kept with every batch)."""
    with open_projector() as projector:
        projector.catch_up()
        if not recompute:
            result = state_digest(projector.view)
        else:
            result, rows = checked_digest(projector.view)
            if rows != result:
                raise fail(f"the kept state digest {result.sha256} at position {result.position} "
                           f"is not its rows' {rows.sha256}; rebuild the read model (`ledger "
                           "rebuild state`)")
    typer.echo(f"{result.position} {result.sha256}")


@app.command()
def tick(
    now: Annotated[
        datetime | None,
        typer.Option(help="the time to judge due dates by (default: now, UTC)", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    ] = None,
) -> None:
    """Record DeadlineLapsed for every due date passed unmet (commitments, obligations,
    reports). Idempotent: a second tick at the same time records nothing."""
    today = (now or datetime.now(timezone.utc)).date().isoformat()
    with open_projector() as projector:
        outcomes = run_tick(projector, today)
    recorded = [o for o in outcomes if o.events and not o.replayed]
    for outcome in recorded:
        typer.echo(f"lapsed: {outcome.result}")
    typer.echo(f"tick {today}: {len(recorded)} deadline(s) lapsed", err=True)


token_app = typer.Typer(help="Bearer tokens for recorders (stored hashed; shown once).",
                        no_args_is_help=True)
app.add_typer(token_app, name="token")


def open_tokens() -> TokenStore:
    """The token table of an existing ledger store (tokens never create a store)."""
    settings = load_settings()
    require_ledger(settings.database_url)
    try:
        return TokenStore(settings.database_url)
    except Exception as error:  # the store could not be opened: say so in one line
        raise cannot_open(settings.database_url, error) from None


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="the principal recorded on each event")],
    scope: Annotated[list[str], typer.Option(help=f"repeatable: {', '.join(SCOPES)}")],
) -> None:
    """Create a token and print it (the only time it is shown)."""
    try:
        typer.echo(open_tokens().create(name, scope))
    except LedgerError as error:
        raise fail(str(error)) from None


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")]) -> None:
    """Revoke a token: it stops working at once."""
    try:
        open_tokens().revoke(name)
    except LedgerError as error:
        raise fail(str(error)) from None
    typer.echo(f"revoked {name}", err=True)


@token_app.command("list")
def token_list() -> None:
    """Names, scopes and dates of every token (never the secrets)."""
    for row in open_tokens().list():
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        typer.echo(f"{row['name']}\t{row['scopes']}\t{row['created_at']}\t{state}")


key_app = typer.Typer(help="The Ed25519 key that signs checkpoints.", no_args_is_help=True)
app.add_typer(key_app, name="key")


@key_app.command("generate")
def key_generate(
    name: Annotated[str, typer.Option(help="key name, usually the log's origin")] = "",
    if_missing: Annotated[bool, typer.Option("--if-missing", help="keep an existing key")] = False,
    force: Annotated[bool, typer.Option(help="replace an existing key (rotation)")] = False,
) -> None:
    """Write a new signer key to LEDGER_SIGNING_KEY_FILE (mode 600) and print its verifier key.
    Rotating keeps the old verifier keys published: they stay in the checkpoints they signed."""
    settings = load_settings()
    path = settings.signing_key_file
    if path.exists() and not force:
        if if_missing:
            verifier = signed_note.parse_signer_key(read_signer_key(path)).verifier
            typer.echo(verifier.key_string())
            return
        raise fail(f"{path} exists; --force replaces it (rotation)")
    try:
        signer, verifier = signed_note.generate_key(name or settings.origin)
    except signed_note.NoteError as error:
        raise fail(f"cannot name a key {name or settings.origin!r}: {error}") from None
    _write_secret(path, signer)
    typer.echo(verifier)


def _write_secret(path: Path, signer: str) -> None:
    """A signer key in a file only its owner can read."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(signer + "\n")
    except OSError as error:
        raise fail(f"cannot write the signing key to {path}: {reason(error)}") from None


def read_signer_key(path: Path) -> str:
    """The signer key kept in PATH, checked, or one line saying why it cannot be used."""
    try:
        text = path.read_text().strip()
        signed_note.parse_signer_key(text)
        return text
    except OSError as error:
        raise fail(f"cannot read the signing key: {reason(error)}") from None
    except (UnicodeDecodeError, signed_note.NoteError) as error:
        raise fail(f"{path} holds no valid signer key: {error}") from None


witness_app = typer.Typer(help="A C2SP tlog-witness that cosigns the checkpoints of the logs it "
                          "knows (docs/audit.md).", no_args_is_help=True)
app.add_typer(witness_app, name="witness")
witness_key_app = typer.Typer(help="The witness's cosignature/v1 Ed25519 key.",
                              no_args_is_help=True)
witness_app.add_typer(witness_key_app, name="key")


@witness_key_app.command("generate")
def witness_key_generate(
    name: Annotated[str, typer.Option(help="the witness's name, e.g. witness.example/w1")],
    output: Annotated[Path, typer.Option("--output", "-o", help="file for the secret key")],
) -> None:
    """Write a new witness key to OUTPUT (mode 600) and print its verifier key, which logs
    list in LEDGER_WITNESSES and auditors pass to `ledger verify --witness-key`."""
    if output.exists():
        raise fail(f"{output} exists; a witness keeps its key")
    try:
        signer, verifier = signed_note.generate_key(name, signed_note.COSIGNATURE_V1)
    except signed_note.NoteError as error:
        raise fail(f"cannot name a key {name!r}: {error}") from None
    _write_secret(output, signer)
    typer.echo(verifier)


@witness_app.command("serve")
def witness_serve(
    key: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="the witness key file")],
    state: Annotated[Path, typer.Option(help="SQLite file of the last checkpoint per log")],
    log_key: Annotated[list[str], typer.Option(
        help="a log's verifier key (or a file of one per line); its name is the log's origin")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 7380,
) -> None:
    """Answer add-checkpoint requests (POST /add-checkpoint) until stopped: cosign each
    checkpoint that a consistency proof shows extends the last one cosigned for its log."""
    from api.server import log_json_lines
    from audit.witness import Witness, WitnessState, serve

    try:
        cosigner = signed_note.parse_signer_key(key.read_text().strip(),
                                                signed_note.COSIGNATURE_V1)
        logs: dict[str, list[signed_note.Verifier]] = {}
        for text in _keys(log_key):
            verifier = signed_note.parse_verifier_key(text)
            logs.setdefault(verifier.name, []).append(verifier)
        witness_state = WitnessState(state)
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot start the witness: {reason(error)}") from None
    except (signed_note.NoteError, sqlite3.Error) as error:
        raise fail(f"cannot start the witness: {error}") from None
    require_free_port(host, port)
    log_json_lines()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo(f"witness {cosigner.name} on http://{host}:{port} for {', '.join(logs)} "
               f"(state: {state})")
    serve(Witness(cosigner, logs, witness_state), host, port, stop)


@app.command()
def checkpoint() -> None:
    """Sign the audit tree's current size and root with the state digest, and record it."""
    settings = load_settings()
    if not settings.signing_key_file.exists():
        raise fail(f"no signing key at {settings.signing_key_file}: run `ledger key generate`")
    signer_key = read_signer_key(settings.signing_key_file)
    with open_projector(settings) as projector:
        try:
            note, _ = issue_checkpoint(projector, signer_key, settings.origin)
        except signed_note.NoteError as error:  # an origin that cannot name a checkpoint
            raise fail(f"cannot sign a checkpoint for {settings.origin!r}: {error}") from None
    typer.echo(note, nl=False)


@app.command()
def verify(
    key: Annotated[list[str], typer.Option(help="verifier key (or a file holding one per line)")],
    export_file: Annotated[
        Path | None, typer.Option("--export", exists=True, dir_okay=False, help="an export file")
    ] = None,
    url: Annotated[str | None, typer.Option(help="a ledger's base URL")] = None,
    checkpoint_file: Annotated[Path | None, typer.Option(
        "--checkpoint", exists=True, dir_okay=False,
        help="with --export: verify against this signed checkpoint (e.g. /checkpoint, with its "
        "cosignatures) instead of the export's newest")] = None,
    witness: Annotated[
        Path, typer.Option(help="where the last checkpoint seen is kept, as a witness keeps it")
    ] = Path("var/witness.json"),
    witness_key: Annotated[list[str], typer.Option(
        help="a witness's cosignature/v1 verifier key (or a file of one per line)")] = [],
    quorum: Annotated[int | None, typer.Option(
        min=0, help="valid witness cosignatures required (default: every --witness-key)")] = None,
) -> None:
    """Check a log offline: recompute the Merkle tree, check the checkpoint's signature (and a
    quorum of witness cosignatures) and its consistency with the last checkpoint seen, replay
    the events and compare the state digest. On failure, name the first bad leaf (from a URL)
    and exit 1."""
    if (export_file is None) == (url is None):
        raise fail("give exactly one of --export FILE and --url URL", 2)
    keys, witness_keys = _keys(key), _keys(witness_key)
    quorum = len(witness_keys) if quorum is None else quorum
    if quorum > len(witness_keys):
        raise fail(f"a quorum of {quorum} needs at least {quorum} --witness-key", 2)
    for witness_vkey in witness_keys:
        try:
            signed_note.parse_witness_key(witness_vkey)
        except signed_note.NoteError as error:
            raise fail(f"not a witness verifier key: {error}", 2) from None
    if checkpoint_file is not None and export_file is None:
        raise fail("--checkpoint goes with --export", 2)
    try:
        note = checkpoint_file.read_text() if checkpoint_file else None
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {checkpoint_file}: {reason(error)}") from None
    try:
        client = httpx.Client(base_url=url, timeout=60) if url else None
    except httpx.InvalidURL as error:
        raise fail(f"not a URL: {url!r} ({error})", 2) from None
    source = LedgerURL(client) if client else ExportFile(export_file, note)
    try:
        with progress("verifying leaves") as bar:
            task = bar.add_task("verify", total=None)
            result = run_verify(source, keys, witness,
                                on_leaf=lambda n: bar.update(task, completed=n),
                                witness_keys=witness_keys, quorum=quorum)
    except VerificationFailed as error:
        raise fail(f"verification failed: {error}") from None
    except httpx.HTTPError as error:
        raise fail(f"cannot read {url}: {error}") from None
    except OSError as error:  # the export or the witness file
        raise fail(f"cannot verify: {reason(error)}") from None
    except ValueError as error:  # JSON that is not: a checkpoint line, the witness, a proof
        raise fail(f"cannot verify: {error}") from None
    finally:
        if client:
            client.close()
    for line in result.checked:
        typer.echo(f"ok: {line}")
    typer.echo(f"verified {result.origin} at tree size {result.tree_size}")


@app.command("verify-proof")
def verify_proof_file(
    file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, help="a bundle from GET /v1/audit/proofs/ID.tlog-proof")],
    key: Annotated[list[str], typer.Option(help="verifier key (or a file holding one per line)")],
) -> None:
    """Check one event's proof bundle offline: the checkpoint's signature, and that the event's
    leaf bytes it carries are included in the signed tree. Exit 1 if not."""
    keys = _keys(key)
    try:
        proof = parse_proof(file.read_text())
        if proof.extra is None:
            raise MalformedProof("the bundle carries no leaf bytes (its extra line)")
        checkpoint = verify_proof(proof, proof.extra, keys)
        event = next(read_export([proof.extra]))
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {file}: {reason(error)}") from None
    except (MalformedProof, signed_note.NoteError, LedgerError) as error:
        raise fail(f"verification failed: {error}") from None
    state = orjson.loads(event.state)
    typer.echo(f"ok: signature of {checkpoint.origin} checkpoint at tree size {checkpoint.size}")
    typer.echo(f"ok: leaf {proof.index} is included: event {state['event_id']}, "
               f"{event.topic.rsplit('.', 1)[-1]} of {state['entity']}")


def _keys(values: list[str]) -> list[str]:
    """Verifier keys given inline or as files of one key a line."""
    return [line.strip() for value in values for line in _key_lines(value) if line.strip()]


def _key_lines(value: str) -> list[str]:
    path = Path(value)
    try:
        return path.read_text().splitlines() if path.is_file() else [value]
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read the key file {path}: {error}") from None


@app.command()
def get(
    path: Annotated[str, typer.Argument(help="a URL path with its query, e.g. /v1/parties/HRV")],
) -> None:
    """Run one GET request in-process and print the body; on an error status, print the
    problem to stderr and exit 1."""
    response = _request(path)
    failed = response.status_code >= 400
    sink = sys.stderr.buffer if failed else sys.stdout.buffer
    sink.write(response.content)
    if response.content and not response.content.endswith(b"\n"):
        sink.write(b"\n")
    if failed:
        raise typer.Exit(1)


def _request(path: str, base_url: str = "http://ledger") -> httpx.Response:
    """One GET request to the app in-process, its read model caught up first."""
    import asyncio

    settings = load_settings().model_copy(update={"tick_interval": 0, "project_in_process": False})
    with open_projector(settings) as projector:
        projector.catch_up()

    from api.main import create_app

    app_ = create_app(settings)

    async def fetch() -> httpx.Response:
        async with app_.router.lifespan_context(app_):
            transport = httpx.ASGITransport(app=app_)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
                return await client.get(path)

    try:
        return asyncio.run(fetch())
    except httpx.InvalidURL as error:
        raise fail(f"not a URL path: {path!r} ({error})", 2) from None


@app.command()
def report(
    instrument: Annotated[str, typer.Option(help="the treaty, e.g. CCM")],
    plan: Annotated[str | None, typer.Option(help="the action plan whose action numbers "
                                             "figures give (default: the treaty's first)")] = None,
    as_known_at: Annotated[str | None, typer.Option(
        help="what the ledger knew at this time (RFC 3339, or a date: its end)")] = None,
    effective_on: Annotated[str | None, typer.Option(
        help="the world as it stood on this date (YYYY-MM-DD)")] = None,
    possible: Annotated[bool, typer.Option(
        "--include-possible", help="with --effective-on: count what was possibly true")] = False,
    against_effective_on: Annotated[str | None, typer.Option(
        help="add what moved since the world as it stood on this date")] = None,
    against_as_known_at: Annotated[str | None, typer.Option(
        help="add what moved since the ledger knew this time")] = None,
    format: Annotated[str, typer.Option(help="md, html, pdf or json")] = "md",
    base_url: Annotated[str | None, typer.Option(
        help="where the ledger is served, for the links of md and pdf (default: "
        "LEDGER_PUBLIC_URL, else http://127.0.0.1:8000)")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="the file to write (default: stdout)")] = None,
) -> None:
    """Write the progress report of a treaty: sections per area of its action plan, every
    number linked to the change-log query of the events it counts (the page
    /instruments/{code}/report as a file)."""
    suffixes = {"md": ".md", "html": "", "pdf": ".pdf", "json": ".json"}
    if format not in suffixes:
        raise fail(f"--format must be one of {', '.join(suffixes)}, not {format!r}", 2)
    query = {"plan": plan, "as_known_at": as_known_at, "effective_on": effective_on,
             "include": "possible" if possible else None,
             "against_effective_on": against_effective_on,
             "against_as_known_at": against_as_known_at}
    kept = {key: value for key, value in query.items() if value is not None}
    path = f"/instruments/{instrument}/report{suffixes[format]}"
    site = base_url or load_settings().public_url or "http://127.0.0.1:8000"
    response = _request(path + (f"?{urlencode(kept)}" if kept else ""), site)
    if response.status_code >= 400:
        raise fail(f"{path}: {reason_of(response)}")
    if output is None:
        sys.stdout.buffer.write(response.content)
    else:
        output.write_bytes(response.content)


def reason_of(response: httpx.Response) -> str:
    """An error answer's one-line reason (a problem's detail, else its status)."""
    try:
        return str(response.json().get("detail") or response.status_code)
    except ValueError:
        return str(response.status_code)


def main() -> None:
    """The console script: every failure ends as one line on stderr and a non-zero exit."""
    sys.exit(run(app))


if __name__ == "__main__":
    main()
