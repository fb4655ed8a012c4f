"""A throwaway PostgreSQL server on loopback for the test session (initdb into a temp folder)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass
class Server:
    folder: Path
    port: int
    bindir: Path
    as_postgres: bool
    #: server settings; the default trades durability for speed (a crash may lose commits)
    settings: str = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"

    @property
    def admin_url(self) -> str:
        return f"postgresql://ledger@127.0.0.1:{self.port}/postgres"

    def url(self, dbname: str) -> str:
        return f"postgresql://ledger:ledger@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, dbname: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True)

    def halt(self, mode: str = "immediate") -> None:
        """Stop the server and keep its data, as an outage would (`resume` starts it again)."""
        self._run("pg_ctl", "stop", "-D", str(self.folder / "data"), "-m", mode)

    def resume(self) -> None:
        """Start the server again on the same port and wait until it answers."""
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} {self.settings} " \
                  "-c max_connections=200"
        self._run("pg_ctl", "start", "-D", str(self.folder / "data"), "-w",
                  "-l", str(self.folder / "log"), "-o", options)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.admin_url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server and remove its folder (a second call does nothing)."""
        if not self.folder.exists():
            return
        try:
            with contextlib.suppress(subprocess.CalledProcessError):  # already halted
                self.halt()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def find_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        "PostgreSQL's initdb was not found: install Debian's postgresql package (make test does)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(durable: bool = False) -> Server:
    """A new server; `durable` keeps every acknowledged commit through a crash of the server
    (synchronous commit, as in production), for tests that stop it with `halt`."""
    bindir = find_bindir()
    as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root
    server = Server(folder=_folder("ledger-pg-", as_postgres), port=free_port(), bindir=bindir,
                    as_postgres=as_postgres)
    if durable:
        server.settings = "-c fsync=off -c full_page_writes=off"  # the OS does not crash here
    data = server.folder / "data"
    server._run("initdb", "-D", str(data), "-U", "ledger", "-A", "trust", "-E", "UTF8",
                "--no-sync", "--no-instructions")
    try:
        server.resume()
    except Exception:
        server.stop()
        raise
    return server


def start_replica(primary: Server) -> Server:
    """A hot standby streaming from `primary`, on its own port: `pg_basebackup -R` copies the
    primary and writes its connection and standby.signal. initdb's defaults allow it
    (wal_level=replica, `host replication all 127.0.0.1/32` in pg_hba.conf)."""
    replica = Server(folder=_folder("ledger-pg-replica-", primary.as_postgres),
                     port=free_port(), bindir=primary.bindir, as_postgres=primary.as_postgres)
    try:
        replica._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "ledger",
                     "-D", str(replica.folder / "data"), "-R", "-X", "stream", "--no-sync")
        replica.resume()
    except Exception:
        replica.stop()
        raise
    return replica


def _folder(prefix: str, as_postgres: bool) -> Path:
    """A new temporary folder the server's user owns."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(folder, 0o755)
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    return folder
