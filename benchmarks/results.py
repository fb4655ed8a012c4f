"""The figures of one benchmark run, each beside its target: printed as one table and written
to `benchmarks/results/<date>-<store>.json` for the record."""

from __future__ import annotations

import json
import os
import platform
from datetime import date
from pathlib import Path
from typing import Any

#: a figure: {"name", "value", "unit", "target", "met"}; target and met are None without one
Figure = dict[str, Any]
RESULTS = Path(__file__).parent / "results"


def figure(name: str, value: float, unit: str, at_most: float | None = None,
           at_least: float | None = None) -> Figure:
    """One measured value and, if it has one, its target and whether the value meets it."""
    target, met = None, None
    if at_most is not None:
        target, met = f"<= {at_most:g}", value <= at_most
    elif at_least is not None:
        target, met = f">= {at_least:g}", value >= at_least
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target, "met": met}


def without_targets(figures: list[Figure]) -> list[Figure]:
    """The same figures as a smoke run reports them: measured, not judged."""
    return [{**f, "target": None, "met": None} for f in figures]


def store_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def machine() -> str:
    """What the figures were measured on, in a few words."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def table(figures: list[Figure]) -> str:
    """The figures as one plain-text table, a line each."""
    width = max([len(f["name"]) for f in figures] + [6])
    lines = [f"{'figure':<{width}}  {'value':>12}  {'unit':<8} {'target':<12} met"]
    for f in figures:
        met = {True: "yes", False: "NO", None: ""}[f["met"]]
        lines.append(f"{f['name']:<{width}}  {f['value']:>12,.2f}  {f['unit']:<8} "
                     f"{f['target'] or '':<12} {met}")
    return "\n".join(lines)


def write(figures: list[Figure], events: int, database_url: str,
          folder: Path = RESULTS) -> Path:
    """The run's JSON record, named by date and store."""
    store = store_of(database_url)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{date.today().isoformat()}-{store}.json"
    record = {"events": events, "store": store, "machine": machine(), "figures": figures}
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path
