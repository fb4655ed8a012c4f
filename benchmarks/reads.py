"""Read latency (p50/p95) of every JSON view a reader or a script asks for, over HTTP to a
`ledger serve` process with one keep-alive client sending requests one after another: entity
state on both clocks and its history, the change log by every filter and deep pages, summaries,
the progress matrix and overdue on both clocks; then the whole change log as CSV, rows per
second and the server's peak RSS.

    python -m benchmarks.reads [--events 1000000] [--database-url sqlite:///var/bench/rebuild.db]
                               [--requests 200] [--warm-up 20]

Entities are picked at random (fixed seed) for every request; clocks are the middle of the log
(position and recording time) and a day in the middle of the synthetic log's dates; the recorded
range is the 1,000 events from the middle on.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.feeds import ledger_serving
from benchmarks.pages import _rows, figures, http_arguments, latencies
from benchmarks.rebuild import prepare
from benchmarks.results import Figure, figure
from projections.runner import Projector
from projections.store import StateView

#: p95 target of every view, in milliseconds
TARGET_MS = 20
#: whole-log CSV: rows per second at least, and the server's peak RSS at most (MB)
CSV_ROWS_PER_S, CSV_RSS_MB = 25_000, 300
DAY = "2015-06-30"
#: seconds of timed requests per figure at most (slow views get fewer than --requests)
BUDGET_S = 60


def cases(view: StateView, requests: int, rng: random.Random) -> dict[str, list[str]]:
    """Each figure's label and the paths its requests cycle through."""
    last = view.position()
    middle, later = (_rows(view, "SELECT recorded_at FROM changes WHERE position >= ? ORDER BY "
                                 "position LIMIT 1", (at,))[0]["recorded_at"].replace("+00:00", "Z")
                     for at in (last // 2, last // 2 + 1000))
    # entities on record by the middle of the log, in effect by DAY: found on every clock
    sample = rng.sample([row["entity"] for row in _rows(
        view, "SELECT entity FROM changes WHERE version = 1 AND position <= ? AND effective_to "
              "<= ? AND kind IN ('commitments', 'obligations', 'reports') ORDER BY position",
        (last // 2, DAY))], requests)
    busiest = _rows(view, "SELECT r.ref, COUNT(*) AS n FROM change_refs r JOIN entities e ON "
                          "e.path = 'parties/' || substr(r.ref, 7) WHERE r.ref LIKE ? GROUP BY "
                          "r.ref ORDER BY n DESC LIMIT 1", ("party:%",))[0]["ref"][6:]
    at = f"at_position={last // 2}"
    known = f"as_known_at={middle}"
    found = {
        "entity state": [f"/v1/{path}" for path in sample],
        "entity as known at": [f"/v1/{path}?{at}" for path in sample],
        "entity as effective on": [f"/v1/{path}?effective_on={DAY}" for path in sample],
        "entity history": [f"/v1/{path}/history" for path in sample],
    }
    for label, query in (
        ("party", f"party={busiest}"), ("instrument", "instrument=CCM"),
        ("action", "action=VAP:14"), ("kind", "kind=allegations"),
        ("event type", "kind=EntryCorrected"), ("text, rare word", "q=investigating"),
        ("text, common word", "q=synthetic"),
        ("recorded range", f"recorded_from={middle}&recorded_to={later}"),
        ("effective range", "effective_from=2015-01-01&effective_to=2015-01-31"),
    ):
        found[f"changes by {label}"] = [f"/v1/changes?{query}&limit=50"]
    for label, clock in (("now", []), ("as known at", [known]),
                         ("as effective on", [f"effective_on={DAY}"])):
        found[f"summary {label}"] = [_url("/v1/summary/CCM", *clock)]
        found[f"matrix {label}"] = [_url("/v1/matrix/VAP", *clock)]
        found[f"overdue page {label}"] = [_url("/v1/overdue", *clock, "limit=100")]
    return found


def _url(path: str, *query: str) -> str:
    return f"{path}?{'&'.join(query)}" if query else path


def timed(client: httpx.Client, paths: list[str], requests: int, warm_up: int,
          budget: float = BUDGET_S) -> list[float]:
    """Seconds per request after `warm_up` untimed ones: `requests` of them, or as many as
    fit in `budget` seconds (at least 20) when each takes long."""
    for path in paths[:warm_up]:
        latencies(client, [path], 1, 0)
    durations: list[float] = []
    deadline = time.monotonic() + budget
    while len(durations) < requests and (len(durations) < 20 or time.monotonic() < deadline):
        durations += latencies(client, [paths[len(durations) % len(paths)]], 1, 0)
    return durations


def fiftieth_page(client: httpx.Client, path: str) -> str:
    """The 50th page of a listing, reached by following `next` links."""
    for _ in range(49):
        path = client.get(path).json()["next"]
    return path


def whole_csv(client: httpx.Client, pid: int) -> tuple[float, float]:
    """Rows per second of the whole change log as CSV, and the server's peak RSS (MB)."""
    rows, started = 0, time.perf_counter()
    with client.stream("GET", "/v1/changes.csv", timeout=3600) as response:
        for chunk in response.iter_bytes():
            rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    return (rows - 1) / seconds, peak_rss_mb(pid)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process (and its own children are not counted)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serving_pid(port: int) -> int:
    """The `ledger serve --port PORT` process started here."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and str(port).encode() in args:
            return int(pid)
    raise RuntimeError(f"no `ledger serve` on port {port}")


def measure(database_url: str, requests: int, warm_up: int) -> list[Figure]:
    with Projector(database_url) as projector:
        projector.rebuild() if projector.position == 0 else projector.catch_up()
        table = cases(projector.view, requests, random.Random(7))
    found: list[Figure] = []
    with tempfile.TemporaryDirectory() as folder, ledger_serving(
            database_url, Path(folder) / "serve.log") as (base, port), \
            httpx.Client(base_url=base, timeout=600) as client:
        table["changes, 50th page"] = [fiftieth_page(client, "/v1/changes?kind=reports&limit=50")]
        for label, paths in table.items():
            p50, p95 = figures(timed(client, paths, requests, warm_up))
            print(f"  {label:<36} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)
            found.append(figure(f"{label} p95", p95, "ms", at_most=TARGET_MS))
        rate, rss = whole_csv(client, serving_pid(port))
        print(f"  whole change log as CSV: {rate:,.0f} rows/s, server peak RSS {rss:.0f} MB")
        found += [figure("changes.csv rows/s", rate, "rows/s", at_least=CSV_ROWS_PER_S),
                  figure("changes.csv server peak RSS", rss, "MB", at_most=CSV_RSS_MB)]
    return found


def main(argv: list[str] | None = None) -> list[Figure]:
    args = http_arguments(__doc__).parse_args(argv)
    total = prepare(args.database_url, args.events)
    print(f"reads benchmark: {total} events in {args.database_url}; `ledger serve` over HTTP, "
          f"one keep-alive client, {args.requests} requests per figure after {args.warm_up} "
          f"untimed; target p95 <= {TARGET_MS} ms", flush=True)
    return measure(args.database_url, args.requests, args.warm_up)


if __name__ == "__main__":
    main()
