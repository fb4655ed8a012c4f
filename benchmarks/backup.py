"""Backup and restore of the benchmark log, as an operator runs them: `ledger export` to a file,
`ledger restore` of that file into a fresh PostgreSQL database, `ledger rebuild` of its read
models, and `ledger serve` until `/-/ready` shows them caught up. Restore, rebuild and serve
together are the recovery time from an export; then the restored store's audit tree root and
state digest are compared with the original's.

    python -m benchmarks.backup [--events 1000000] [--database-url sqlite:///var/bench/rebuild.db]
                                [--postgres-url postgresql://user@host:5432/postgres]

Without --postgres-url, a throwaway PostgreSQL server with its default settings (fsync and
synchronous commit on, as in production) is started in a temporary folder and removed at the
end; with it, a scratch database is created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from audit.checkpoints import TreeHead, tree_head
from benchmarks.feeds import ROOT, free_port, running_python
from benchmarks.rebuild import DEFAULT_URL, prepare
from projections.runner import Projector
from tests import postgres

SCRATCH = "ledger_restore_bench"


def env_for(database_url: str) -> dict[str, str]:
    return {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_TICK_INTERVAL": "0",
            "LEDGER_CHECKPOINT_INTERVAL": "0"}


@dataclass(frozen=True)
class Took:
    seconds: float
    #: CPU seconds of the `ledger` process (not of the PostgreSQL server): on a busy machine
    #: the wall time grows, this does not
    cpu: float

    def __add__(self, other: Took) -> Took:
        return Took(self.seconds + other.seconds, self.cpu + other.cpu)

    def __str__(self) -> str:
        return f"{self.seconds:7.1f} s (CPU {self.cpu:.1f} s)"


@contextmanager
def timing() -> Iterator[list[Took]]:
    """Wall and child-process CPU time of the block, appended to the list it yields."""
    took: list[Took] = []
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    yield took
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took.append(Took(time.perf_counter() - started,
                     after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime))


def ledger(database_url: str, *args: str) -> Took:
    """How long one `ledger` command takes on the store, start of the process included."""
    with timing() as took:
        subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, check=True,
                       env=env_for(database_url), stdout=subprocess.DEVNULL)
    return took[0]


def serve_until_ready(database_url: str, log: Path) -> Took:
    """From starting `ledger serve` until `/-/ready` is 200 with the read model at the end of
    the log."""
    port, started = free_port(), time.perf_counter()
    with timing() as took:
        with running_python(["-m", "api.cli", "serve", "--port", str(port)], port,
                            env_for(database_url), log) as base:
            while not ready(base):
                time.sleep(0.1)
            seconds = time.perf_counter() - started
    return Took(seconds, took[0].cpu)  # the CPU time includes stopping it


def ready(base: str) -> bool:
    answer = httpx.get(f"{base}/-/ready", timeout=30)
    body = answer.json()
    return answer.status_code == 200 and body["projected_position"] == body["log_position"]


@contextmanager
def scratch_database(admin_url: str | None) -> Iterator[str]:
    """An empty PostgreSQL database for the run, dropped at the end with the server if it was
    started here."""
    server = None
    if admin_url is None:
        server = postgres.start()
        server.halt("fast")
        server.settings = ""  # PostgreSQL's defaults: every commit durable
        server.resume()
        admin_url = server.admin_url
    try:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}"')
            conn.execute(f'CREATE DATABASE "{SCRATCH}"')
        yield f"{admin_url.split('?')[0].rpartition('/')[0]}/{SCRATCH}"
    finally:
        if server is not None:
            server.stop()
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}"')


def head(database_url: str) -> TreeHead:
    with Projector(database_url) as projector:
        return tree_head(projector)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--postgres-url", help="a server's admin URL (default: start one)")
    args = parser.parse_args(argv)
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    prepare(args.database_url, args.events)
    original = head(args.database_url)
    total = original.size
    print(f"backup benchmark: {total} events in {args.database_url}, restored into a fresh "
          f"PostgreSQL database", flush=True)
    with tempfile.TemporaryDirectory() as folder, scratch_database(args.postgres_url) as target:
        export = Path(folder) / "ledger.ndjson"
        took = ledger(args.database_url, "export", "-o", str(export))
        print(f"  ledger export:  {took}, {export.stat().st_size / 1e6:.0f} MB "
              f"({total / took.seconds:.0f} events/s)", flush=True)
        recovery = ledger(target, "restore", str(export))
        print(f"  ledger restore: {recovery} ({total / recovery.seconds:.0f} events/s)", flush=True)
        took = ledger(target, "rebuild")
        print(f"  ledger rebuild: {took} ({total / took.seconds:.0f} events/s)", flush=True)
        recovery += took
        took = serve_until_ready(target, Path(folder) / "serve.log")
        print(f"  ledger serve until /-/ready is caught up: {took}", flush=True)
        recovery += took
        print(f"  recovery time (restore + rebuild + serve): {recovery}", flush=True)
        restored = head(target)
    same = restored == original
    print(f"  same tree size, root and state digest: {'yes' if same else 'NO'} "
          f"(tree size {restored.size})")
    if not same:
        raise SystemExit(f"the restored store differs: {restored} != {original}")


if __name__ == "__main__":
    main()
