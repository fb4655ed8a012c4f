"""`ledger serve` started again and again, quickly: forked from a process that imported the
ledger once, so that a restart costs the app's start-up and not the seconds a new interpreter
spends importing it. Each fork is a new process with its own connections, and may be set to
die at a chosen point (tests.faults.crash).

    python -m tests.faults.forks   # reads `MOMENT N PORT`; answers `started PID`, `ended CODE`
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.servers import free_port, server_env, wait_until_answering


@dataclass
class Forked:
    base: str
    pid: int
    parent: subprocess.Popen
    code: int | None = None

    def ended(self) -> int:
        """Wait for the server to end; its exit code (-9 when killed by SIGKILL)."""
        if self.code is None:
            answer = self.parent.stdout.readline().split()
            assert answer[:1] == [b"ended"], answer
            self.code = int(answer[1])
        return self.code


class ForkServer:
    """The forking parent, on one store with LEDGER_* settings."""

    def __init__(self, database_url: str, **settings: str) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.parent = subprocess.Popen([sys.executable, "-m", "tests.faults.forks"],
                                       env=server_env(database_url, **settings),
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=self.stderr)

    def close(self) -> None:
        self.parent.stdin.close()
        self.parent.wait(timeout=30)
        self.stderr.close()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def serving(self, moment: str = "never", n: int = 0) -> Iterator[Forked]:
        """A new server, answering once it is up; stopped at the end unless it died."""
        port = free_port()
        self.parent.stdin.write(f"{moment} {n} {port}\n".encode())
        self.parent.stdin.flush()
        answer = self.parent.stdout.readline().split()
        assert answer[:1] == [b"started"], answer
        server = Forked(f"http://127.0.0.1:{port}", int(answer[1]), self.parent)
        try:
            wait_until_answering(server.base, lambda: None)
            yield server
        finally:
            if server.code is None:
                os.kill(server.pid, 15)
                server.ended()


def serve_forks() -> None:
    """Fork a server for each request line, one at a time, and report its end."""
    import uvicorn  # noqa: F401 - `ledger serve` imports these: once, here, before any fork

    import api.main  # noqa: F401
    from api.cli import app
    from tests.faults.crash import install

    for request in iter(sys.stdin.readline, ""):
        moment, n, port = request.split()
        pid = os.fork()
        if pid == 0:
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)  # stdout is the protocol's
                if moment != "never":
                    install(moment, int(n))
                sys.argv = ["ledger", "serve", "--port", port]
                app()
            finally:
                os._exit(0)
        print(f"started {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"ended {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve_forks()
