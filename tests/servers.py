"""A real `ledger serve` process on a free loopback port, for tests that need real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

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


@contextmanager
def serving(database_url: str, **settings: str) -> Iterator[Served]:
    """Start `ledger serve` on the store with LEDGER_* settings; wait until it answers; stop it
    at the end, keeping what it wrote to stderr."""
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_TICK_INTERVAL": "0",
           "LEDGER_CHECKPOINT_INTERVAL": "0",
           **{f"LEDGER_{key.upper()}": value for key, value in settings.items()}}
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served = Served(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{served.base}/-/health")
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        _, served.stderr = process.communicate(timeout=15)
