"""Ingest: `ledger import` of an NDJSON command file, and commands over HTTP from 8 clients at
once, each beside bare eventsourcing saving the same events into a fresh store of the same
kind: in batches of 100 events per save (beside the import), and one event per save (beside
the HTTP writes). Each side writes into its own empty store.

    python -m benchmarks.ingest [--commands 20000] [--database-url sqlite:///var/bench/rebuild.db]

The command file is the demo's instruments, provisions and parties, then pledges on the
Vientiane Action Plan's actions by random parties and a progress report on each. The
`--database-url` only says which kind of store (and which PostgreSQL server) to use.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import httpx
import orjson
import psycopg
from eventsourcing.application import Application

from api.tokens import TokenStore
from benchmarks.feeds import ROOT, ledger_serving
from benchmarks.pages import figures
from benchmarks.rebuild import DEFAULT_URL, _drop_scratch
from benchmarks.results import Figure, figure
from ledger.commands import Ledger
from ledger.runtime import collect_seldom

#: HTTP clients writing at once
CLIENTS = 8
#: ratios to bare eventsourcing, at least; HTTP p95, at most (ms)
IMPORT_RATIO, HTTP_RATIO, HTTP_P95_MS = 0.5, 0.5, 50


def base_lines() -> list[bytes]:
    """The demo's instruments, provisions and parties."""
    demo = resources.files("ledger.demo")
    return [line for name in ("010_instruments.ndjson", "020_parties.ndjson")
            for line in demo.joinpath(name).read_bytes().splitlines() if line.strip()]


def workload(commands: int, rng: random.Random) -> tuple[list[bytes], list[dict]]:
    """The base lines, and `commands` more as (path, body) pairs for HTTP: half pledges, half
    progress reports on them."""
    base = base_lines()
    parties = [orjson.loads(line)["data"]["code"] for line in base
               if orjson.loads(line)["command"] == "register_party"]
    actions = [f"VAP:{orjson.loads(line)['data']['number']}" for line in base
               if orjson.loads(line)["command"] == "add_provision"
               and orjson.loads(line)["data"]["instrument"] == "VAP"]
    source = [{"title": "Ingest benchmark", "document": "synthetic", "paragraph": "1"}]
    writes = []
    for number in range(commands // 2):
        day = f"{2011 + number % 10}-{1 + number % 12:02d}-{1 + number % 28:02d}"
        writes.append({"command": "pledge_commitment", "key": f"bench/{number}", "data": {
            "id": f"bench-{number}", "party": rng.choice(parties), "provisions": [rng.choice(actions)],
            "text": "Synthetic pledge", "target": "target", "due_on": "2030-12-31"},
            "effective_on": day, "sources": source})
    for number in range(commands // 2):
        writes.append({"command": "report_progress", "key": f"bench/{number}/progress", "data": {
            "commitment": f"bench-{number}", "status": "in_progress",
            "summary": "Synthetic progress"}, "effective_on": "2031-01-01", "sources": source})
    return base, writes


@contextmanager
def fresh_store(database_url: str, name: str) -> Iterator[str]:
    """An empty store of the kind of `database_url` (a file, or a database on the same
    server), dropped afterwards."""
    if database_url.startswith("postgres"):
        url = f"{database_url.split('?')[0]}_{name}"
        _drop_scratch(url, database_url)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{url.rpartition("/")[2]}"')
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='ledger-ingest-')}/{name}.db"
    try:
        yield url
    finally:
        _drop_scratch(url, database_url)


def run_import(url: str, lines: list[bytes]) -> float:
    """Seconds of `ledger import FILE` (the process as an operator runs it)."""
    with tempfile.NamedTemporaryFile(suffix=".ndjson") as file:
        file.write(b"\n".join(lines) + b"\n")
        file.flush()
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "api.cli", "import", file.name], cwd=ROOT,
                       env={**os.environ, "LEDGER_DATABASE_URL": url}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started


def logged_events(url: str) -> list[object]:
    """Every event of a store's log, as domain events."""
    ledger = Ledger(url)
    try:
        return [ledger.domain_event(record) for record in ledger.read_all()]
    finally:
        ledger.close()


def bare_save(url: str, events: list[object], per_save: int) -> float:
    """Seconds for eventsourcing's own `Application.save` to store the events, `per_save` at a
    time, with the ledger's mapper (no command checks, no idempotency keys), and the garbage
    collector set as `ledger import` sets it."""
    collect_seldom()
    ledger = Ledger(url)
    try:
        started = time.perf_counter()
        for start in range(0, len(events), per_save):
            Application.save(ledger, *events[start:start + per_save])
        return time.perf_counter() - started
    finally:
        ledger.close()


def http_writes(url: str, base: list[bytes], writes: list[dict]) -> tuple[float, list[float]]:
    """Seconds for CLIENTS clients to send `writes` (pledges first, then progress) to `ledger
    serve`, and each request's latency."""
    run_import(url, base)
    token = TokenStore(url).create("ingest benchmark", ["record"])
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder, ledger_serving(
            url, Path(folder) / "serve.log", project_in_process="true",
            write_rate="0") as (served, _):
        started = time.perf_counter()
        for half in (writes[:len(writes) // 2], writes[len(writes) // 2:]):
            threads = [threading.Thread(target=_client, args=(
                served, token, half[number::CLIENTS], latencies)) for number in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return time.perf_counter() - started, latencies


def _client(base: str, token: str, writes: list[dict], latencies: list[float]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for write in writes:
            if write["command"] == "pledge_commitment":
                path, body = "/v1/commitments", write["data"]
            else:
                body = {k: v for k, v in write["data"].items() if k != "commitment"}
                path = f"/v1/commitments/{write['data']['commitment']}/progress"
            started = time.perf_counter()
            response = client.post(path, json={**body, "effective_on": write["effective_on"],
                                                "sources": write["sources"]},
                                   headers={"Idempotency-Key": write["key"]})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 201:
                raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")


def measure(database_url: str, commands: int) -> list[Figure]:
    base, writes = workload(commands, random.Random(5))
    lines = base + [orjson.dumps(w) for w in writes]
    with fresh_store(database_url, "ingest_import") as url:
        imported = run_import(url, lines)
        events = logged_events(url)
    with fresh_store(database_url, "ingest_bare100") as url:
        batched = bare_save(url, events, 100)
    with fresh_store(database_url, "ingest_bare1") as url:
        single = bare_save(url, events, 1)
    with fresh_store(database_url, "ingest_http") as url:
        sent, latencies = http_writes(url, base, writes)
    http_events = len(events) - len(base)
    rates = {"import": len(events) / imported, "bare100": len(events) / batched,
             "bare1": len(events) / single, "http": http_events / sent}
    p50, p95 = figures(latencies)
    print(f"ingest benchmark: {len(lines)} commands, {len(events)} events")
    print(f"  ledger import:                 {rates['import']:8.0f} events/s "
          f"({imported:.1f} s)")
    print(f"  bare eventsourcing, 100/save:  {rates['bare100']:8.0f} events/s "
          f"({batched:.1f} s): ratio import/bare {rates['import'] / rates['bare100']:.2f}")
    print(f"  HTTP writes, {CLIENTS} clients:        {rates['http']:8.0f} events/s "
          f"({sent:.1f} s), p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"  bare eventsourcing, 1/save:    {rates['bare1']:8.0f} events/s "
          f"({single:.1f} s): ratio HTTP/bare {rates['http'] / rates['bare1']:.2f}")
    return [
        figure("ledger import events/s", rates["import"], "events/s"),
        figure("ledger import / bare eventsourcing 100 per save", rates["import"] / rates["bare100"],
               "ratio", at_least=IMPORT_RATIO),
        figure(f"HTTP writes ({CLIENTS} clients) events/s", rates["http"], "events/s"),
        figure(f"HTTP writes ({CLIENTS} clients) / bare eventsourcing 1 per save",
               rates["http"] / rates["bare1"], "ratio", at_least=HTTP_RATIO),
        figure(f"HTTP write p95 ({CLIENTS} clients)", p95, "ms", at_most=HTTP_P95_MS),
    ]


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    return measure(args.database_url, args.commands)


if __name__ == "__main__":
    main()
