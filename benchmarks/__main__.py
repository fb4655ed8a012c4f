"""`make bench`: every benchmark, each printing its figures and ratios measured in one run."""

from __future__ import annotations

import argparse

from benchmarks import audit, backup, feeds, pages, rebuild

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run every benchmark on one log.")
    parser.add_argument("--events", default="1000000")
    parser.add_argument("--database-url", default=rebuild.DEFAULT_URL)
    args = parser.parse_args()
    rebuild.main(["--events", args.events, "--database-url", args.database_url])
    audit.main(["--database-url", args.database_url])
    pages.main(["--events", args.events, "--database-url", args.database_url])
    feeds.main([])
    backup.main(["--events", args.events, "--database-url", args.database_url])
