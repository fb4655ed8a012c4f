"""`make bench`: every benchmark on one log, ratios measured side by side in one run, then one
table of every figure beside its target, also written to benchmarks/results/<date>-<store>.json.
`--quick` (`make bench-quick`, in `make test`) is a smoke run: fewer requests, no verify
replay, and figures without targets, written nowhere unless `--results` names a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import audit, backup, beside, feeds, ingest, pages, reads, rebuild, results

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run every benchmark on one log.")
    parser.add_argument("--events", default="1000000")
    parser.add_argument("--database-url", default=rebuild.DEFAULT_URL)
    parser.add_argument("--quick", action="store_true", help="a smoke run without targets")
    parser.add_argument("--results", type=Path, help="folder of the results JSON "
                        "(default: benchmarks/results, or none with --quick)")
    parser.add_argument("--table-only", action="store_true", help="only the benchmarks of the "
                        "table (not pages, feeds and backup, which print their own)")
    parser.add_argument("--skip-verify", action="store_true", help="no `ledger verify` replay")
    args = parser.parse_args()
    url, events = args.database_url, args.events
    requests = ["--requests", "5", "--warm-up", "1"] if args.quick else []
    logged = rebuild.prepare(url, int(events))  # at least `events`: a reused log may hold more
    figures = rebuild.main(["--events", events, "--database-url", url])
    figures += reads.main(["--events", events, "--database-url", url, *requests])
    skip_verify = args.quick or args.skip_verify
    figures += audit.main(["--database-url", url, *(["--skip-verify"] if skip_verify else []),
                           *(["--samples", "200"] if args.quick else [])])
    figures += ingest.main(["--database-url", url,
                            *(["--commands", "400"] if args.quick else [])])
    if not (args.quick or args.table_only):  # these print their own tables
        pages.main(["--events", events, "--database-url", url])
        feeds.main([])
        backup.main(["--events", events, "--database-url", url])
    if not args.quick:  # PostgreSQL only: SQLite rebuilds in place
        figures += beside.main(["--events", events, "--database-url", url])
    if args.quick:
        figures = results.without_targets(figures)
    print(f"\n{logged} events, {results.store_of(url)}, {results.machine()}")
    print(results.table(figures))
    if args.results or not args.quick:
        written = results.write(figures, logged, url, args.results or results.RESULTS)
        print(f"written to {written}")
