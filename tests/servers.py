"""A real `ledger serve` process on a free loopback port, for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    base: str
    process: subprocess.Popen
    stderr: bytes = b""


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a test server: the store, LEDGER_* settings, no background ticks."""
    return {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_TICK_INTERVAL": "0",
            "LEDGER_CHECKPOINT_INTERVAL": "0",
            **{f"LEDGER_{key.upper()}": value for key, value in settings.items()}}


def wait_until_answering(base: str, alive: Callable[[], None]) -> None:
    """Until the server at `base` answers; `alive` asserts between tries that it still runs."""
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/-/health")
            return
        except httpx.TransportError:
            alive()
            assert time.monotonic() < deadline, "the server did not start within 60 s"
            time.sleep(0.05)


@contextmanager
def serving(database_url: str, workers: int = 1, **settings: str) -> Iterator[Served]:
    """Start `ledger serve` (with `workers` API processes) on the store with LEDGER_* settings;
    wait until it answers; stop it at the end, keeping what it wrote to stderr (in a file: a
    pipe nobody reads would block a server that logs much)."""
    port = free_port()
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port),
                                "--workers", str(workers)],
                               env=server_env(database_url, **settings),
                               stdout=subprocess.DEVNULL, stderr=stderr)
    served = Served(f"http://127.0.0.1:{port}", process)

    def alive() -> None:
        assert process.poll() is None, _read(stderr).decode()

    try:
        wait_until_answering(served.base, alive)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=15)
        served.stderr = _read(stderr)
        stderr.close()


def _read(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()
