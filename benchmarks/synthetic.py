"""Synthetic but lawful logs of any size: real aggregates, real rules, saved in batches.

Used by the scale tests (100,000 events) and the benchmarks (1,000,000 events). The mix
follows the demo data: parties and treaty statuses, pledges with progress and assessments,
obligations with extensions and completions, reports due and submitted (some late), and
allegations through their lifecycle, with an occasional correction.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pycountry

from ledger.allegations import Allegation
from ledger.commands import Ledger
from ledger.commitments import Commitment
from ledger.entity import Entity, Provenance, aggregate_id, provenance
from ledger.instruments import Instrument
from ledger.obligations import Obligation
from ledger.parties import Party
from ledger.reports import Report

SOURCE = {"title": "Synthetic load", "document": "synthetic", "paragraph": "1"}
START = date(2010, 1, 1)


def _day(rng: random.Random, span_days: int = 3650) -> str:
    return (START + timedelta(days=rng.randrange(span_days))).isoformat()


class _Batcher:
    """Collect pending events and save them in batches (one transaction per batch)."""

    def __init__(self, ledger: Ledger, batch: int) -> None:
        self.ledger, self.batch, self.pending, self.count = ledger, batch, [], 0

    def add(self, entity: Entity) -> None:
        self.pending.extend(entity.collect_events())
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.ledger.save(*self.pending)
            self.count += len(self.pending)
            self.pending = []


def generate(ledger: Ledger, events: int, seed: int = 1, batch: int = 500) -> int:
    """Append at least `events` events to the ledger; returns the count. Calls with different
    seeds add to the same log (instruments and parties are registered once)."""
    rng = random.Random(seed)
    out = _Batcher(ledger, batch)
    for _ in _generate(ledger, rng, out, events, f"s{seed}"):
        pass
    out.flush()
    return out.count


def _with(rng: random.Random) -> None:
    provenance.set(Provenance(recorded_by="synthetic", effective_on=_day(rng), sources=(SOURCE,)))


def _generate(
    ledger: Ledger, rng: random.Random, out: _Batcher, events: int, prefix: str
) -> Iterator[None]:
    _with(rng)
    codes = sorted(c.alpha_3 for c in pycountry.countries)[:150]
    if aggregate_id("instruments/CCM") not in ledger.repository:
        _register_base(rng, out, codes)
    live: list[Entity] = []
    serial = 0
    while out.count + len(out.pending) < events:
        serial += 1
        _with(rng)
        if live and rng.random() < 0.55:
            entity = rng.choice(live)
            if _advance(rng, entity):
                out.add(entity)
            else:
                live.remove(entity)
        else:
            entity = _create(rng, f"{prefix}-{serial}", rng.choice(codes))
            out.add(entity)
            live.append(entity)
            if len(live) > 5000:
                live.pop(0)
        yield


def _register_base(rng: random.Random, out: _Batcher, codes: list[str]) -> None:
    ccm = Instrument.register("CCM", "Convention on Cluster Munitions", "treaty", None, "2008-05-30")
    for number in ("3", "4", "5", "6", "7", "9"):
        ccm.add_provision(number, "article", f"Article {number}", None, None)
    vap = Instrument.register("VAP", "Vientiane Action Plan", "action_plan", "CCM", "2010-11-12")
    for number in range(1, 67):
        vap.add_provision(str(number), "action", f"Action #{number}", None, None)
    out.add(ccm)
    out.add(vap)
    for code in codes:
        party = Party.register(code, code, "state")
        party.change_treaty_status("CCM", rng.choice(["signed", "ratified", "acceded"]), _day(rng))
        out.add(party)


def _create(rng: random.Random, ref: str, party: str) -> Entity:
    roll = rng.random()
    if roll < 0.45:
        return Commitment.pledge(ref, party, [f"VAP:{rng.randint(1, 66)}"], "Synthetic pledge",
                                 "target", _day(rng))
    if roll < 0.7:
        return Obligation.declare(
            ref, party, f"CCM:{rng.choice(['3', '4', '5'])}",
            rng.choice(["stockpile_destruction", "clearance", "victim_assistance"]),
            "Synthetic obligation", {"units": rng.randint(1, 10000)}, _day(rng))
    if roll < 0.92:
        return Report.register(party, "CCM", "annual", ref, _day(rng))
    return Allegation.file(ref, party, "CCM:3", "CMC", None, None, "Synthetic allegation", None)


def _advance(rng: random.Random, entity: Entity) -> bool:
    """Take one lawful step; False when the entity has nothing left to do."""
    if rng.random() < 0.01 and entity.entries:
        event_id = next(iter(entity.entries))
        if event_id not in entity.retracted:
            entity.correct(event_id, {entity.entries[event_id]["fields"][0]: "corrected"}, "fix")
            return True
    if isinstance(entity, Commitment):
        if entity.status in ("kept", "partially_kept", "broken", "withdrawn"):
            return False
        if rng.random() < 0.2:
            entity.assess(rng.choice(["kept", "partially_kept", "broken"]), "independent", "CMC")
        else:
            entity.report_progress(rng.choice(["in_progress", "stalled"]),
                                   {"done": rng.randint(0, 100)}, None)
        return True
    if isinstance(entity, Obligation):
        if entity.completed:
            return False
        if entity.pending_extension is not None:
            entity.grant_extension(_day(rng, 5000))
        elif rng.random() < 0.3:
            entity.request_extension(_day(rng, 5000), "more time")
        elif rng.random() < 0.3:
            entity.declare_completion()
        else:
            entity.report_progress({"done": rng.randint(0, 100)}, "progress")
        return True
    if isinstance(entity, Report):
        if entity.received_on is not None:
            return False
        entity.submit(_day(rng), "doc", None, ["CCM:7"], None)
        return True
    if isinstance(entity, Allegation):
        steps = {
            "filed": lambda: entity.open_review(None),
            "under_review": lambda: entity.request_clarification("asked"),
            "clarification_requested": lambda: entity.receive_response("answered"),
            "response_received": lambda: entity.open_investigation("investigating"),
            "investigation": lambda: entity.resolve("unfounded", None),
        }
        if entity.state not in steps:
            return False
        steps[entity.state]()
        return True
    return False
