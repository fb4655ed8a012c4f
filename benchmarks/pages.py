"""Page latency (p50/p95) of the party, entity and change-log pages, each beside its `.json`
twin, on the benchmark log: over HTTP to a `ledger serve` process (uvicorn), one keep-alive
client sending the requests one after another, as a reader clicking through would.

    python -m benchmarks.pages [--events 1000000] [--database-url sqlite:///var/bench/rebuild.db]
                               [--requests 200] [--warm-up 20]

Which party, entity and position each line asks for is picked from the read model with a fixed
seed: the busiest party (most changes) and a typical one (the median), a different entity of the
family at random for every request, and deep change-log pages from the oldest tenth of the log.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from benchmarks.feeds import ledger_serving
from benchmarks.rebuild import DEFAULT_URL, prepare
from projections.runner import Projector
from projections.store import StateView

TARGET_MS = 50
#: words of the synthetic log's change text: one in a few changes (about 1 in 600, all
#: allegation steps), one in nearly every change (the title of their source)
RARE_WORD, COMMON_WORD = "investigating", "synthetic"


def _rows(view: StateView, statement: str, params: tuple = ()) -> list:
    with view.transaction(commit=False) as cursor:
        cursor.execute(view.sql(statement), params)
        return cursor.fetchall()


def cases(view: StateView, requests: int, rng: random.Random) -> dict[str, list[str]]:
    """Each line of the table: its label and the HTML paths its requests cycle through."""
    registered = {row["path"].removeprefix("parties/") for row in _rows(
        view, "SELECT path FROM entities WHERE kind = 'parties'")}
    counts = sorted((int(row["n"]), row["ref"].removeprefix("party:")) for row in _rows(
        view, "SELECT ref, COUNT(*) AS n FROM change_refs WHERE ref LIKE ? GROUP BY ref",
        ("party:%",)) if row["ref"].removeprefix("party:") in registered)
    busiest, typical = counts[-1][1], counts[len(counts) // 2][1]
    found = {f"party page, busiest ({busiest})": [f"/parties/{busiest}"],
             f"party page, typical ({typical})": [f"/parties/{typical}"]}
    for family in ("commitments", "obligations", "allegations"):
        paths = [row["path"] for row in _rows(
            view, "SELECT path FROM entities WHERE kind = ? ORDER BY path", (family,))]
        found[f"{family[:-1]} page, at random"] = [
            f"/{path}" for path in rng.sample(paths, min(requests, len(paths)))]
    for query in ({}, {"party": busiest}, {"party": typical}, {"kind": "allegations"},
                  {"kind": "EntryCorrected"}, {"q": RARE_WORD}, {"q": COMMON_WORD}):
        label = "/changes" + (f"?{urlencode(query)}" if query else "")
        found[label] = [label]
    last = int(_rows(view, "SELECT MAX(position) AS n FROM changes")[0]["n"])
    found["/changes?before= (oldest tenth)"] = [
        f"/changes?before={rng.randrange(2, last // 10 + 3)}" for _ in range(requests)]
    return found


def twin(path: str) -> str:
    """The JSON twin of a page: `.json` before the query string."""
    page, mark, query = path.partition("?")
    return f"{page}.json{mark}{query}"


def latencies(client: httpx.Client, paths: list[str], requests: int, warm_up: int) -> list[float]:
    """Seconds per request, the whole body read, after `warm_up` untimed requests."""
    durations = []
    for number in range(warm_up + requests):
        path = paths[number % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
        if number >= warm_up:
            durations.append(elapsed)
    return durations


def figures(durations: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    cuts = statistics.quantiles(durations, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def http_arguments(doc: str) -> argparse.ArgumentParser:
    """The options of a benchmark that times requests to `ledger serve` on the benchmark log."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per figure")
    parser.add_argument("--warm-up", type=int, default=20, help="untimed requests before them")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = http_arguments(__doc__).parse_args(argv)
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    total = prepare(args.database_url, args.events)
    with Projector(args.database_url) as projector:
        projector.rebuild() if projector.position == 0 else projector.catch_up()
        table = cases(projector.view, args.requests, random.Random(7))
    print(f"pages benchmark: {total} events in {args.database_url}; `ledger serve` over HTTP, "
          f"one keep-alive client, {args.requests} requests per figure after {args.warm_up} "
          f"untimed; target p95 <= {TARGET_MS} ms", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "serve.log"
        try:
            slow = measure(table, args.database_url, log, args.requests, args.warm_up)
        except RuntimeError as error:
            raise SystemExit(f"{error}\n`ledger serve` said:\n{log.read_text()[-4000:]}") from None
    print(f"  p95 above {TARGET_MS} ms: {', '.join(slow) if slow else 'none'}")


def measure(table: dict[str, list[str]], database_url: str, log: Path, requests: int,
            warm_up: int) -> list[str]:
    """Serve the store, print each line of the table as soon as it is measured, and return
    the pages whose p95 misses the target."""
    slow = []
    with ledger_serving(database_url, log) as (base, _), \
            httpx.Client(base_url=base, timeout=120) as client:
        print(f"  {'page':<44} {'HTML p50':>9} {'p95':>9}   {'JSON p50':>9} {'p95':>9}")
        for label, paths in table.items():
            html = figures(latencies(client, paths, requests, warm_up))
            json = figures(latencies(client, [twin(p) for p in paths], requests, warm_up))
            print(f"  {label:<44} {html[0]:6.1f} ms {html[1]:6.1f} ms   {json[0]:6.1f} ms "
                  f"{json[1]:6.1f} ms", flush=True)
            slow += [f"{label}{side}" for side, p95 in (("", html[1]), (" (.json)", json[1]))
                     if p95 > TARGET_MS]
    return slow


if __name__ == "__main__":
    main()
