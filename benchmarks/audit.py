"""Proof latency (p50/p95, in-process and over HTTP) on the benchmark log, and `ledger
checkpoint` and `ledger verify --export` as an operator runs them: wall time and peak RSS.

    python -m benchmarks.audit [--database-url sqlite:///var/bench/rebuild.db] [--samples 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api.main import create_app
from api.settings import Settings
from audit import signed_note
from audit.checkpoints import CHECKPOINT_EVENTS, issue_checkpoint
from benchmarks.backup import env_for
from benchmarks.feeds import ROOT
from benchmarks.rebuild import DEFAULT_URL
from benchmarks.results import Figure, figure
from ledger.exchange import export_lines
from projections.runner import Projector


#: proof p95 (ms), checkpoint seconds, verify peak RSS (MB): at most
TARGET_MS, CHECKPOINT_S, VERIFY_RSS_MB = 5, 5, 300


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100)
    return f"p50 {cuts[49] * 1000:.2f} ms, p95 {cuts[94] * 1000:.2f} ms"


def p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94] * 1000


def timed(calls: list) -> list[float]:
    durations = []
    for call in calls:
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def measured(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of one `ledger` command (its own process only)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return time.perf_counter() - started, usage.ru_maxrss / 1024


async def _over_http(app: object, pairs: list[tuple[int, int]]) -> list[float]:
    """Inclusion proofs through the ASGI app with httpx (no network), one at a time."""
    durations = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as client:
            for index, size in pairs:
                started = time.perf_counter()
                response = await client.get("/v1/audit/proofs/inclusion",
                                            params={"index": index, "tree_size": size})
                response.raise_for_status()
                durations.append(time.perf_counter() - started)
    return durations


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(3)
    signer, verifier = signed_note.generate_key("bench.local/log")
    with Projector(args.database_url) as projector:
        projector.catch_up()
        note, _ = issue_checkpoint(projector, signer, "bench.local/log")
        size = signed_note.parse_checkpoint(signed_note.parse_note(note).text).size
        audit = projector.audit
        pairs = [(rng.randrange(size), size) for _ in range(args.samples)]
        inclusion = timed([lambda i=i, n=n: audit.inclusion(i, n) for i, n in pairs])
        firsts = [rng.randrange(1, size) for _ in range(args.samples)]
        consistency = timed([lambda m=m: audit.consistency(m, size) for m in firsts])
    print(f"audit benchmark: tree of {size} leaves in {args.database_url}")
    print(f"  inclusion proof, in-process:   {percentiles(inclusion)} (target p95 <= 5 ms)")
    print(f"  consistency proof, in-process: {percentiles(consistency)}")
    settings = Settings(database_url=args.database_url, project_in_process=False,
                        tick_interval=0, checkpoint_interval=0)
    over_http = asyncio.run(_over_http(create_app(settings), pairs[:500]))
    print(f"  inclusion proof over HTTP (ASGI, 500 requests): {percentiles(over_http)}")
    found = [figure("inclusion proof p95, in-process", p95_ms(inclusion), "ms", at_most=TARGET_MS),
             figure("consistency proof p95, in-process", p95_ms(consistency), "ms",
                    at_most=TARGET_MS),
             figure("inclusion proof p95 over HTTP", p95_ms(over_http), "ms", at_most=TARGET_MS)]
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "signing.key"
        key.write_text(signer)
        env = {**env_for(args.database_url), "LEDGER_SIGNING_KEY_FILE": str(key),
               "LEDGER_ORIGIN": "bench.local/log"}
        seconds, rss = measured(env, "checkpoint")
        print(f"  ledger checkpoint: {seconds:.1f} s, peak RSS {rss:.0f} MB (target <= 5 s)")
        found += [figure("ledger checkpoint", seconds, "s", at_most=CHECKPOINT_S),
                  figure("ledger checkpoint peak RSS", rss, "MB")]
        if args.skip_verify:
            return found
        export = Path(folder) / "log.ndjson"
        with export.open("wb") as sink, Projector(args.database_url) as projector:
            for line in export_lines(projector.ledger.read_all()):
                sink.write(line)
        seconds, rss = measured(env, "verify", "--key", verifier, "--export", str(export),
                                "--witness", str(Path(folder) / "witness.json"))
    leaves = size + CHECKPOINT_EVENTS  # the leaves the newest checkpoint signs
    print(f"  ledger verify --export (with replay): {seconds:.0f} s ({leaves / seconds:.0f} "
          f"leaves/s), peak RSS {rss:.0f} MB (target < 300 MB)")
    return [*found, figure("ledger verify --export", seconds, "s"),
            figure("ledger verify --export peak RSS", rss, "MB", at_most=VERIFY_RSS_MB)]


if __name__ == "__main__":
    main()
