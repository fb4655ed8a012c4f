"""Unique ids and valid commands for tests, run the way recorders run them."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import orjson

from api.importer import run_line
from ledger.commands import Ledger, Outcome

_counter = itertools.count()

SOURCE = {"title": "Beirut Progress Report", "document": "CCM/MSP/2011/WP.1", "paragraph": "4"}


def random_ref(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def line(command: str, key: str | None = None, effective_on: str | None = None, **data: Any) -> bytes:
    """One NDJSON command line."""
    body: dict[str, Any] = {
        "key": key or f"test/{next(_counter)}/{uuid.uuid4().hex[:8]}",
        "command": command,
        "sources": [SOURCE],
        "data": data,
    }
    if effective_on:
        body["effective_on"] = effective_on
    return orjson.dumps(body)


def run(ledger: Ledger, command: str, key: str | None = None, **data: Any) -> Outcome:
    """Carry out one command as `ledger import` would."""
    return run_line(ledger, line(command, key, **data), recorded_by="tester")


def log(ledger: Ledger) -> list[tuple[str, int, bytes]]:
    """The whole stored log, for before/after comparisons."""
    return [(str(n.originator_id), n.originator_version, n.state) for n in ledger.read_all()]


def setup_ccm(ledger: Ledger, party: str = "HRV") -> None:
    """The CCM with Articles 3, 4 and 7, the VAP with action 14, and one State Party."""
    run(ledger, "register_instrument", code="CCM", title="Convention on Cluster Munitions",
        kind="treaty", adopted_on="2008-05-30")
    for number, title in (("3", "Storage and stockpile destruction"), ("4", "Clearance"),
                          ("7", "Transparency measures")):
        run(ledger, "add_provision", instrument="CCM", number=number, kind="article", title=title)
    run(ledger, "register_instrument", code="VAP", title="Vientiane Action Plan",
        kind="action_plan", parent="CCM", adopted_on="2010-11-12")
    run(ledger, "add_provision", instrument="VAP", number="14", kind="action",
        title="Destroy stockpiles as soon as possible")
    run(ledger, "register_party", code=party, name="Croatia", kind="state")
