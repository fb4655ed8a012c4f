"""Full rebuild of the state read model against bare eventsourcing reading and decoding the same
log, side by side in one run, each in its own process so peak memory is its own.

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

from benchmarks.synthetic import generate
from ledger.commands import Ledger

DEFAULT_URL = "sqlite:///var/bench/rebuild.db"


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


def measure(kind: str, database_url: str) -> dict[str, float]:
    """Run one side in a child process; its peak RSS is the child's own."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.rebuild", "--child", kind, "--database-url",
         database_url], check=True, capture_output=True, text=True,
    ).stdout
    result = json.loads(output)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--child", choices=("bare", "rebuild"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = (bare if args.child == "bare" else rebuild)(args.database_url)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    total = prepare(args.database_url, args.events)
    base = measure("bare", args.database_url)
    ours = measure("rebuild", args.database_url)
    base_rate = base["events"] / base["seconds"]
    our_rate = ours["events"] / ours["seconds"]
    print(f"rebuild benchmark: {total} events in {args.database_url}")
    print(f"  bare eventsourcing read+decode: {base_rate:10.0f} events/s "
          f"({base['seconds']:.1f} s, peak RSS {base['peak_rss_mb']:.0f} MB)")
    print(f"  ledger rebuild (all models):    {our_rate:10.0f} events/s "
          f"({ours['seconds']:.1f} s, peak RSS {ours['peak_rss_mb']:.0f} MB)")
    print(f"  ratio rebuild/bare: {our_rate / base_rate:.2f} (target >= 0.5); "
          f"rebuild peak RSS {ours['peak_rss_mb']:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    main()
