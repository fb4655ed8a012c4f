"""How the `ledger` command fails: one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import errno
import socket
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError

from api.settings import Settings, get_settings
from ledger.errors import LedgerError
from ledger.storage import missing_ledger

#: the commands that may create a store; every other one refuses a store that holds no ledger
CREATING = "`ledger demo`, `ledger import FILE`, `ledger restore FILE` or `ledger serve`"
#: what a store raises when it fails under a command (unreachable, full, locked, not a database)
STORE_ERRORS = (PersistenceError, psycopg.Error, sqlite3.Error)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(code)


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    try:
        parts = urlsplit(url)
        parts.port  # raises on a port that is not a number, as opening would
    except ValueError:  # not a URL one can read: show none of what may be a password
        return f"{url.partition('://')[0]}://..."
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def load_settings() -> Settings:
    """The settings, or one line naming each LEDGER_ variable that is wrong and why."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(_setting_problem(e) for e in error.errors())
        raise fail(f"invalid settings: {problems}") from None


def _setting_problem(error: Any) -> str:
    why = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # a rule across settings, which names them itself
        return why
    return f"LEDGER_{'_'.join(map(str, error['loc'])).upper()}={error['input']!r}: {why}"


def cannot_open(database_url: str, error: Exception) -> typer.Exit:
    if isinstance(error, LedgerError):  # the URL itself is wrong
        return fail(str(error))
    shown = safe_url(database_url)
    return fail(f"cannot open the store {shown}: {str(error).replace(database_url, shown)}")


def require_ledger(database_url: str) -> None:
    """Refuse a store that holds no ledger: opening it would create one, and a mistyped path
    would silently become a new, empty store."""
    try:
        why = missing_ledger(database_url)
    except (LedgerError, ValueError, *STORE_ERRORS) as error:  # ValueError: not a URL
        raise cannot_open(database_url, error) from None
    if why:
        raise fail(f"no ledger store: {why}; check LEDGER_DATABASE_URL, or create one with "
                   f"{CREATING}")


def reason(error: OSError, path: Path | None = None) -> str:
    """An OS error in words, naming the file it concerns unless that is PATH."""
    if error.filename and str(error.filename) != str(path):
        return f"{error.filename}: {error.strerror}"
    return str(error.strerror or error)


@contextmanager
def writing(path: Path | None) -> Iterator[BinaryIO]:
    """PATH opened for writing, or stdout; output that cannot be written is one line."""
    try:
        if path is None:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        else:
            with path.open("wb") as sink:
                yield sink
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise  # the reader has gone (`| head`): Typer exits 1 quietly, as pipes expect
        raise fail(f"cannot write {path or 'to stdout'}: {reason(error, path)}") from None


def require_free_port(host: str, port: int) -> None:
    """Say in one line that `serve` cannot listen, before the server starts logging."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def run(app: typer.Typer) -> int:
    """Run the command line and return its exit code; usage mistakes and anything unforeseen
    become one line on stderr instead of a usage box or a traceback."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:  # a usage mistake found while parsing
        if type(error).__name__ == "NoArgsIsHelpError":  # the help is already printed
            return error.exit_code
        ctx = getattr(error, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        typer.echo(f"error: {one_line(error.format_message())}{hint}", err=True)
        return error.exit_code
    except Exception as error:
        typer.echo(f"error: {one_line(f'{type(error).__name__}: {error}')}", err=True)
        return 1
    return code if isinstance(code, int) else 0
