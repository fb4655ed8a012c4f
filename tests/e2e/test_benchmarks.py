"""`make bench` keeps working: `make bench-quick` runs every benchmark at 100,000 events on
SQLite and prints one table and its JSON record; the rebuild benchmark runs its three sides on a
small PostgreSQL log, prints every figure and ratio; neither leaves a scratch store behind; the
pages benchmark prints both sides of every page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import psycopg


def test_the_rebuild_benchmark_prints_every_side_and_cleans_up(postgres_server):
    """On PostgreSQL (bench-quick below runs it on SQLite, through `make bench`)."""
    database_url = postgres_server.create_database("rebuild_bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.rebuild", "--events", "3000", "--database-url",
         database_url], capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = {
        side: float(rate) for side, rate in re.findall(
            r"^  (bare eventsourcing read\+decode|ledger rebuild \(all models\)|write floor "
            r"\(rows only\)): +(\d+) events/s", done.stdout, re.MULTILINE)
    }
    assert len(figures) == 3 and all(rate > 0 for rate in figures.values()), done.stdout
    assert re.search(r"ratio rebuild/bare: \d+\.\d\d; rebuild peak RSS \d+ MB", done.stdout)
    assert re.search(r"ratio floor/bare: +\d+\.\d\d", done.stdout)
    with psycopg.connect(database_url) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
    assert "rebuild_bench_floor" not in names


def test_the_pages_benchmark_times_every_page_and_its_json_twin(database_url):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.pages", "--events", "3000", "--requests", "3",
         "--warm-up", "1", "--database-url", database_url],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    pages = re.findall(r"^  (\S.*?) +(?:\d+\.\d ms +){3}\d+\.\d ms$", done.stdout, re.MULTILINE)
    assert "/changes" in pages, done.stdout
    for page in ("party page, busiest", "party page, typical", "commitment page, at random",
                 "obligation page, at random", "allegation page, at random", "/changes?party=",
                 "/changes?kind=", "/changes?q=", "/changes?before="):
        assert any(line.startswith(page) for line in pages), (page, done.stdout)
    assert re.search(r"^  p95 above 50 ms: ", done.stdout, re.MULTILINE), done.stdout


def test_the_backup_benchmark_restores_into_a_fresh_postgres_database_and_finds_it_equal(
        postgres_server, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.backup", "--events", "2000", "--database-url",
         f"sqlite:///{tmp_path}/log.db", "--postgres-url", postgres_server.admin_url],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    took = r" +\d+\.\d s \(CPU \d+\.\d s\)"
    for figure in (rf"ledger export:{took}, \d+ MB", rf"ledger restore:{took}",
                   rf"ledger rebuild:{took}", rf"caught up:{took}",
                   rf"recovery time \(restore \+ rebuild \+ serve\):{took}",
                   r"same tree size, root and state digest: yes \(tree size 20\d\d\)"):
        assert re.search(figure, done.stdout), (figure, done.stdout)
    with psycopg.connect(postgres_server.admin_url) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
    assert "ledger_restore_bench" not in names


def test_the_beside_benchmark_reads_throughout_a_rebuild_on_postgres(postgres_server):
    url = postgres_server.create_database(f"beside_{uuid.uuid4().hex[:12]}")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.beside", "--events", "2000", "--database-url", url],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"^reads answered 200 during the rebuild +100\.00 +% +>= 100 +yes$",
                     done.stdout, re.MULTILINE), done.stdout
    for view in ("entity state", "change log by party", "summary"):
        for measure in ("p95", "slowest"):
            assert re.search(rf"^{view} during the rebuild, {measure} +\d+\.\d+ +ms",
                             done.stdout, re.MULTILINE), (view, done.stdout)


def test_bench_quick_measures_every_figure_of_the_results_table(tmp_path):
    """The smoke run of `make bench` (what `make bench-quick` runs): every figure the results
    JSON records at a million events is measured at 100,000, without targets."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--events", "100000", "--quick", "--database-url",
         f"sqlite:///{tmp_path}/log.db", "--results", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=1200, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not list(tmp_path.glob("log.db_floor*"))  # the write floor's scratch store is gone
    [written] = (tmp_path / "results").glob("*-sqlite.json")
    record = json.loads(written.read_text())
    assert record["store"] == "sqlite" and record["events"] == 100_000 and record["machine"]
    names = {f["name"] for f in record["figures"]}
    for name in ("rebuild / write floor", "rebuild peak RSS", "entity state p95",
                 "entity as known at p95", "entity as effective on p95", "entity history p95",
                 "changes by party p95", "changes by text, common word p95",
                 "changes by effective range p95", "changes, 50th page p95", "summary now p95",
                 "summary as known at p95", "matrix as effective on p95",
                 "overdue page as known at p95", "changes.csv rows/s",
                 "changes.csv server peak RSS", "inclusion proof p95 over HTTP",
                 "ledger checkpoint", "ledger import / bare eventsourcing 100 per save",
                 "HTTP writes (8 clients) / bare eventsourcing 1 per save",
                 "HTTP write p95 (8 clients)"):
        assert name in names, name
    for found in record["figures"]:
        assert found["value"] > 0 and found["target"] is None and found["met"] is None, found
        assert re.search(rf"^{re.escape(found['name'])} +[\d,]+\.\d\d +{re.escape(found['unit'])}",
                         done.stdout, re.MULTILINE), found["name"]
