"""Reads while `ledger rebuild` builds the read models beside the serving ones (PostgreSQL):
`ledger serve` answers one keep-alive reader per view, one request after another, for the whole
rebuild: an entity's state, a party's change log, a treaty's summary. Every answer's status and
time is kept; the slowest read bounds how long the switch made readers wait.

    python -m benchmarks.beside [--events 1000000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.feeds import ledger_serving
from benchmarks.pages import _rows, figures
from benchmarks.rebuild import DEFAULT_URL, prepare
from benchmarks.results import Figure, figure, store_of, table
from projections.runner import Projector

#: each view a reader asks for again and again, by label ({party}: the log's first party)
VIEWS = {
    "entity state": "/v1/parties/{party}",
    "change log by party": "/v1/changes?party={party}&limit=20",
    "summary": "/v1/summary/CCM",
}


def read_until(base: str, path: str, stopping: threading.Event,
               answers: list[tuple[float, float, int]]) -> None:
    """GET `path` one request after another until `stopping`: (asked, seconds, status) each."""
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stopping.is_set():
            asked = time.perf_counter()
            status = client.get(path).status_code
            answers.append((asked, time.perf_counter() - asked, status))


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    url = args.database_url
    if store_of(url) != "postgresql":
        print("rebuilds beside the serving read models need PostgreSQL: nothing measured")
        return []
    total = prepare(url, args.events)
    with Projector(url) as projector:  # the serving read models, current
        projector.catch_up()
        party = _rows(projector.view, "SELECT path FROM entities WHERE kind = 'parties' "
                                      "ORDER BY path LIMIT 1")[0]["path"].partition("/")[2]
    answers: dict[str, list[tuple[float, float, int]]] = {label: [] for label in VIEWS}
    stopping = threading.Event()
    with tempfile.TemporaryDirectory() as folder, \
            ledger_serving(url, Path(folder) / "serve.log") as (base, _):
        readers = [threading.Thread(target=read_until, args=(
            base, path.format(party=party), stopping, answers[label]))
            for label, path in VIEWS.items()]
        for reader in readers:
            reader.start()
        time.sleep(2)  # readers under way, connections warm
        started = time.perf_counter()
        rebuild = subprocess.run([sys.executable, "-m", "api.cli", "rebuild"], check=False,
                                 env={**os.environ, "LEDGER_DATABASE_URL": url},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        took = time.perf_counter() - started
        stopping.set()
        for reader in readers:
            reader.join()
    if rebuild.returncode != 0:
        raise RuntimeError(f"ledger rebuild failed: {rebuild.stderr.decode()[-2000:]}")
    during = {label: [(seconds, status) for asked, seconds, status in found
                      if started <= asked <= started + took] for label, found in answers.items()}
    statuses = [status for found in during.values() for _, status in found]
    result = [figure("rebuild beside the serving read models", took, "s"),
              figure("reads answered 200 during the rebuild",
                     100 * statuses.count(200) / len(statuses), "%", at_least=100)]
    for label, found in during.items():
        _, p95 = figures([seconds for seconds, _ in found])
        result += [figure(f"{label} during the rebuild, p95", p95, "ms"),
                   figure(f"{label} during the rebuild, slowest", 1000 * max(found)[0], "ms")]
    print(f"rebuild beside the serving read models: {total} events in {url}; one reader per "
          f"view, {len(statuses)} reads during the rebuild")
    print(table(result))
    return result


if __name__ == "__main__":
    main()
