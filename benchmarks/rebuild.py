"""Full rebuild of the read models against bare eventsourcing reading and decoding the same log,
side by side in one run, each in its own process so peak memory is its own.

A third side, the write floor, inserts the rows the rebuild produced into an empty copy of the
read models (same store kind, same indexes and full-text index) with no projection work at all:
what the store alone needs to take the read models' rows, a bound on any rebuild's speed.

    python -m benchmarks.rebuild [--events 1000000] [--database-url sqlite:///var/bench/log.db]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from benchmarks.synthetic import generate
from benchmarks.results import Figure, figure
from ledger.commands import Ledger
from ledger.runtime import collect_seldom

DEFAULT_URL = "sqlite:///var/bench/rebuild.db"
#: the rebuild against the write floor, at least; its peak RSS (MB), at most
FLOOR_RATIO, RSS_MB = 0.5, 300


def prepare(database_url: str, events: int) -> int:
    """A log of at least `events` events (reused when a previous run made it)."""
    ledger = Ledger(database_url)
    try:
        have = ledger.recorder.max_notification_id() or 0
        if have < events:
            started = time.perf_counter()
            generate(ledger, events - have, seed=have + 1)
            print(f"generated {events - have} events in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def bare(database_url: str) -> dict[str, float]:
    """eventsourcing alone: select every notification and map it to a domain event."""
    ledger = Ledger(database_url)
    started, count, after = time.perf_counter(), 0, 0
    while notifications := ledger.recorder.select_notifications(
        start=after, limit=500, inclusive_of_start=False
    ):
        for notification in notifications:
            ledger.mapper.to_domain_event(notification)
        count += len(notifications)
        after = notifications[-1].id
    seconds = time.perf_counter() - started
    ledger.close()
    return {"events": count, "seconds": seconds}


def rebuild(database_url: str) -> dict[str, float]:
    """The ledger's own path: `ledger rebuild` without the progress bar."""
    from projections.runner import Projector

    with Projector(database_url) as projector:
        started = time.perf_counter()
        count = projector.rebuild()
        seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds}


#: the read models' tables, copied in this order
FLOOR_TABLES = ("changes", "change_refs", "entities", "boards", "board_steps", "board_parties",
                "digest_sum", "audit_leaves", "audit_nodes")


def floor(database_url: str) -> dict[str, float]:
    """Copy the rebuilt read models' rows into empty tables in a scratch store of the same kind:
    only the inserts, commits, indexes and full-text index are timed."""
    from projections.runner import BULK_BATCH, Projector

    scratch_url = _scratch_url(database_url)
    with Projector(database_url) as source, Projector(scratch_url) as target:
        for model in target.models.values():
            model.drop_model_tables()
        seconds = 0.0
        for table in FLOOR_TABLES:
            with source.view.transaction(commit=False) as read:
                read.execute(f"SELECT * FROM {table}")
                rows_of = getattr(read, "sqlite_cursor", read)  # eventsourcing's wrapper has no fetchmany
                columns = None
                while rows := rows_of.fetchmany(BULK_BATCH):
                    # PostgreSQL computes the full-text column itself
                    columns = columns or [c for c in rows[0].keys() if c != "search"]
                    values = [tuple(row[c] for c in columns) for row in rows]
                    started = time.perf_counter()
                    with target.view.transaction() as write:
                        target.view.insert_rows(write, table, columns, values)
                    seconds += time.perf_counter() - started
        started = time.perf_counter()
        with target.view.transaction() as write:
            for model in target.models.values():
                model.finish_rebuild(write)
        seconds += time.perf_counter() - started
        events = source.position
    _drop_scratch(scratch_url, database_url)
    return {"events": events, "seconds": seconds}


def _scratch_url(database_url: str) -> str:
    """An empty store beside the benchmark log (a file, or a database on the same server)."""
    scratch = database_url.split("?")[0] + "_floor"
    _drop_scratch(scratch, database_url)
    if scratch.startswith("postgres"):
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch.rpartition("/")[2]}"')
    return scratch


def _drop_scratch(scratch_url: str, database_url: str) -> None:
    if scratch_url.startswith("sqlite:///"):
        path = Path(scratch_url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch_url.rpartition("/")[2]}"')


def measure(kind: str, database_url: str) -> dict[str, float]:
    """Run one side in a child process; its peak RSS is the child's own."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.rebuild", "--child", kind, "--database-url",
         database_url], check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    result = json.loads(output)
    return result


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        collect_seldom()  # as the `ledger` CLI does, on every side alike
        result = SIDES[args.child](args.database_url)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return []
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    total = prepare(args.database_url, args.events)
    base = measure("bare", args.database_url)
    ours = measure("rebuild", args.database_url)
    bound = measure("floor", args.database_url)
    base_rate = base["events"] / base["seconds"]
    our_rate = ours["events"] / ours["seconds"]
    floor_rate = bound["events"] / bound["seconds"]
    print(f"rebuild benchmark: {total} events in {args.database_url}")
    print(f"  bare eventsourcing read+decode: {base_rate:10.0f} events/s "
          f"({base['seconds']:.1f} s, peak RSS {base['peak_rss_mb']:.0f} MB)")
    print(f"  ledger rebuild (all models):    {our_rate:10.0f} events/s "
          f"({ours['seconds']:.1f} s, peak RSS {ours['peak_rss_mb']:.0f} MB)")
    print(f"  write floor (rows only):        {floor_rate:10.0f} events/s "
          f"({bound['seconds']:.1f} s of inserts, indexes and full-text index)")
    print(f"  ratio rebuild/bare: {our_rate / base_rate:.2f}; "
          f"rebuild peak RSS {ours['peak_rss_mb']:.0f} MB (target < {RSS_MB} MB)")
    print(f"  ratio floor/bare:   {floor_rate / base_rate:.2f} (no rebuild can beat this); "
          f"rebuild/floor: {our_rate / floor_rate:.2f} (target >= {FLOOR_RATIO})")
    return [figure("rebuild events/s", our_rate, "events/s"),
            figure("bare eventsourcing read+decode events/s", base_rate, "events/s"),
            figure("write floor events/s", floor_rate, "events/s"),
            figure("rebuild / write floor", our_rate / floor_rate, "ratio", at_least=FLOOR_RATIO),
            figure("rebuild peak RSS", ours["peak_rss_mb"], "MB", at_most=RSS_MB)]


SIDES = {"bare": bare, "rebuild": rebuild, "floor": floor}

if __name__ == "__main__":
    main()
