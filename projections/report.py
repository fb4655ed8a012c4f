"""A progress report written from the read model: per area of the action plan, each figure the
documents state (the parties named, the document's own total beside them, the actions), with
the change-log query whose rows are exactly the events it counts; and what moved between two."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import asdict
from threading import Lock
from typing import Any
from urllib.parse import urlencode

from projections import queries
from projections.queries import PARTY_UNITS, ChangeFilter, Clock, State
from projections.store import StateView

#: the report's sections, in the order of the Vientiane Action Plan, each with the statement
#: code areas it gathers; figures of any other area come last
SECTIONS = (
    ("universalization", "Universalization", ("universalization",)),
    ("stockpiles", "Stockpile destruction and retention", ("stockpile_destruction", "retention")),
    ("clearance", "Clearance and risk reduction", ("clearance", "risk_reduction")),
    ("victim_assistance", "Victim assistance", ("victim_assistance",)),
    ("cooperation", "Cooperation and assistance",
     ("cooperation_assistance", "implementation_support")),
    ("transparency", "Transparency measures", ("transparency",)),
    ("national_implementation", "National implementation measures", ("national_implementation",)),
    ("compliance", "Compliance", ("compliance",)),
)
OTHER = ("other", "Other figures", ())
#: how a figure's parties are called, one and many, by how the document describes them
NOUNS = {"state_party": ("State Party", "States Parties"),
         "signatory": ("signatory", "signatories"),
         "state_not_party": ("State not party", "States not party"), "state": ("State", "States"),
         "organisation": ("organisation", "organisations"), "any": ("party", "parties")}
#: codes counted from treaty statuses (the summary's totals), not from statements
STATUS_CODES = {("states-parties", "state_party"), ("signatories", "signatory")}
PAGE = 1000


def build(
    view: StateView, instrument: str, clock: Clock, plan: str | None = None
) -> dict[str, Any]:
    """The report's data (its JSON form): sections of figures, each traceable to its events."""
    members = queries.family(view, instrument)
    plan = plan or next(iter(members[1:]), instrument)
    said = queries.statements(view, clock, instrument=instrument)
    recorded = {row["entity"]: row["event_id"] for row in _every_change(
        view, ChangeFilter(kind="StatementRecorded", instrument=instrument))}
    areas = queries.code_areas(view)
    names = _party_names(view)
    groups: dict[tuple[str, str], list[State]] = defaultdict(list)
    undescribed = {s["code"] for s in said if s["described_as"] is None}
    for statement in said:
        groups[(statement["code"], statement["described_as"] or "any")].append(statement)
        if statement["described_as"] is not None and statement["code"] in undescribed:
            groups[(statement["code"], "any")].append(statement)  # however described
    labels = _labels(view)
    sections: dict[str, dict[str, Any]] = {
        key: {"key": key, "title": title, "figures": []} for key, title, _ in (*SECTIONS, OTHER)}
    section_of = {area: key for key, _, covered in SECTIONS for area in covered}
    for (code, described), found in groups.items():
        if (code, described) in STATUS_CODES:
            continue
        figure = _figure(instrument, plan, clock, code, described, found, recorded, names)
        if figure["count"] or figure["stated"]:
            area = areas.get((found[0]["instrument"], code))
            figure.update(label=labels.get(code, code), area=area)
            sections[section_of.get(area or "", "other")]["figures"].append(figure)
    for section in sections.values():
        section["figures"].sort(key=lambda f: (_natural(f["paragraphs"]), f["code"],
                                               f["described_as"]))
    return {
        "instrument": instrument, "plan": plan, "clock": _clock(clock),
        "position": view.position(),
        "sections": [s for s in sections.values() if s["figures"]],
    }


def _figure(instrument: str, plan: str, clock: Clock, code: str, described: str,
            found: list[State], recorded: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    """One figure: the parties named (each with its events), the latest stated total, the
    difference when the total counts parties, and the queries returning exactly its events."""
    named: dict[str, list[str]] = defaultdict(list)
    said: dict[str, list[str]] = defaultdict(list)
    for statement in found:
        if statement["party"] is not None:
            named[statement["party"]].append(recorded[statement["path"]])
            said[statement["party"]].append(statement["id"])
    totals = [s for s in found if queries.is_figure(s) and (described == "any") == (
        s["described_as"] is None)]
    latest = totals[-1] if totals else None
    stated = None
    if latest is not None:
        value, unit = latest["quantity"]["value"], latest["quantity"]["unit"]
        stated = {"value": value, "unit": unit, "id": latest["id"],
                  "event_id": recorded[latest["path"]],
                  "difference": int(value) - len(named)
                  if unit.lower() in PARTY_UNITS and value.isdigit() else None,
                  "link": _link(clock, kind="StatementRecorded", entity=latest["path"])}
    where = {"kind": "StatementRecorded", "instrument": instrument, "code": code,
             "described_as": None if described == "any" else described, "named": "true"}
    actions = {p.split(":", 1)[1] for s in found for p in s["provisions"]
               if p.startswith(plan + ":")}
    return {
        "code": code, "described_as": described, "noun": NOUNS.get(described, NOUNS["any"]),
        "count": len(named),
        "named": [{"code": party, "name": names.get(party, party), "events": sorted(events),
                   "statements": sorted(said[party])} for party, events in sorted(named.items())],
        "events": sorted(e for events in named.values() for e in events),
        "stated": stated, "actions": sorted(actions, key=_natural),
        "paragraphs": sorted({src["paragraph"] for s in found for src in s["sources"]
                              if src.get("paragraph")}, key=_natural),
        "link": _link(clock, **where),
    }


def _link(clock: Clock, **where: str | None) -> str:
    """The change-log page whose rows are the events `where` selects, on the report's clock:
    facts certainly in effect by its date (or possibly, from their interval's start), as known
    at its time or log position."""
    query = {k: v for k, v in where.items() if v is not None}
    if clock.effective_on is not None:
        query["effective_to" if clock.possible else "certain_by"] = clock.effective_on
    if clock.known_at is not None:
        query["recorded_to"] = clock.known_at
    if clock.known_at_position is not None:  # the change-log page lists what comes before
        query["before"] = str(clock.known_at_position + 1)
    return "/changes?" + urlencode(query)


def _every_change(view: StateView, where: ChangeFilter) -> list[dict[str, Any]]:
    rows, after = [], 0
    while page := queries.changes(view, where, after=after, limit=PAGE):
        rows.extend(page)
        after = page[-1]["position"]
    return rows


def _labels(view: StateView) -> dict[str, str]:
    labels: dict[str, str] = {}
    for state in queries.entities(view, "instruments"):
        for code, entry in (state.get("statement_codes") or {}).items():
            labels.setdefault(code, entry["label"])
    return labels


def _party_names(view: StateView) -> dict[str, str]:
    return {state["code"]: state["name"] for state in queries.entities(view, "parties")}


def _clock(clock: Clock) -> dict[str, Any]:
    return asdict(clock)


def _natural(value: str | list[str]) -> tuple[int, str]:
    first = value[0] if isinstance(value, list) and value else value or ""
    digits = "".join(ch for ch in str(first).split("-")[0] if ch.isdigit())
    return (int(digits) if digits else 10**6, str(first))


def moved(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Figures that differ between two reports: the counts and totals on each side, the parties
    that moved in (with the events now counted) or out (with the events counted before)."""
    def figures(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(f["code"], f["described_as"]): {**f, "section": s["title"]}
                for s in report["sections"] for f in s["figures"]}

    old, new = figures(before), figures(after)
    result = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key), new.get(key)
        was_named = {p["code"]: p for p in (was or {}).get("named", [])}
        now_named = {p["code"]: p for p in (now or {}).get("named", [])}
        was_stated = ((was or {}).get("stated") or {}).get("value")
        now_stated = ((now or {}).get("stated") or {}).get("value")
        if was_named.keys() == now_named.keys() and was_stated == now_stated:
            continue
        either = now or was or {}
        result.append({
            "code": key[0], "described_as": key[1], "label": either["label"],
            "section": either["section"], "noun": either["noun"],
            "count": [len(was_named), len(now_named)], "stated": [was_stated, now_stated],
            "moved_in": [now_named[p] for p in sorted(now_named.keys() - was_named.keys())],
            "moved_out": [was_named[p] for p in sorted(was_named.keys() - now_named.keys())],
            "links": [(was or {}).get("link"), (now or {}).get("link")],
        })
    return result


class ReportCache:
    """Reports kept per (instrument, plan, clock, read-model position): a report is rebuilt
    only when the read model has moved or a new clock is asked for."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._reports: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._lock = Lock()

    def report(self, view: StateView, instrument: str, clock: Clock,
               plan: str | None = None) -> dict[str, Any]:
        key = (view.database_url, view.position(), instrument, plan, clock)
        with self._lock:
            if key in self._reports:
                self._reports.move_to_end(key)
                return self._reports[key]
        report = build(view, instrument, clock, plan)
        with self._lock:
            self._reports[key] = report
            while len(self._reports) > self.size:
                self._reports.popitem(last=False)
        return report


CACHE = ReportCache()
