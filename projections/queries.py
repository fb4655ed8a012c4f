"""Questions the API, feeds and pages ask of the read model: plain values in, plain data out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from projections.fold import CORRECTIONS, Change, State, fold
from projections.store import CHANGE_COLUMNS, StateView, change_from_row

BOUND = ("ratified", "acceded", "entered_into_force")
#: the entity families: a change-log `kind` filter names one of them or an event type
FAMILIES = frozenset({"parties", "instruments", "commitments", "fundings", "obligations",
                      "reports", "allegations", "checkpoints"})


@dataclass(frozen=True)
class Clock:
    """Which knowledge and which world-date a question is asked at (all None: now)."""

    known_at: str | None = None  # RFC 3339 time: what the ledger knew then
    known_at_position: int | None = None  # or a log position
    effective_on: str | None = None  # YYYY-MM-DD: the world as it stood that day

    @property
    def is_now(self) -> bool:
        return self.known_at is None and self.known_at_position is None and self.effective_on is None

    def includes(self, change: Change) -> bool:
        if self.known_at_position is not None and change.position > self.known_at_position:
            return False
        if self.known_at is not None and change.recorded_at > self.known_at:
            return False
        # corrections fix the facts of what they correct, whatever their own date
        if self.effective_on is not None and change.type not in CORRECTIONS:
            return change.effective_from <= self.effective_on
        return True


NOW = Clock()


def _rows(view: StateView, statement: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
    with view.transaction(commit=False) as cursor:
        cursor.execute(view.sql(statement), params)
        return cursor.fetchall()


def entity_changes(view: StateView, path: str) -> list[Change]:
    rows = _rows(view, "SELECT * FROM changes WHERE entity = ? ORDER BY position", (path,))
    return [change_from_row(row) for row in rows]


def entity(view: StateView, path: str, clock: Clock = NOW) -> State | None:
    """One entity's state now, as known at a time or position, or as effective on a date."""
    if clock.is_now:
        rows = _rows(view, "SELECT state FROM entities WHERE path = ?", (path,))
        return orjson.loads(rows[0]["state"]) if rows else None
    return fold(c for c in entity_changes(view, path) if clock.includes(c))


def entities(
    view: StateView, kind: str, clock: Clock = NOW, party: str | None = None,
    instrument: str | None = None,
) -> list[State]:
    """Every entity of a kind (optionally of one party or instrument), ordered by path."""
    where, params = ["kind = ?"], [kind]
    if party is not None:
        where.append("party = ?")
        params.append(party)
    if instrument is not None:
        where.append("instrument = ?")
        params.append(instrument)
    if clock.is_now:
        rows = _rows(view, f"SELECT state FROM entities WHERE {' AND '.join(where)} ORDER BY path",
                     params)
        return [orjson.loads(row["state"]) for row in rows]
    paths = _rows(view, f"SELECT path FROM entities WHERE {' AND '.join(where)} ORDER BY path",
                  params)
    states = (entity(view, row["path"], clock) for row in paths)
    return [state for state in states if state is not None]


#: every change row with the leaf index the audit tree gave its event (None until it has)
SELECT_CHANGES = (f"SELECT {', '.join('c.' + col for col in CHANGE_COLUMNS)}, l.leaf_index "
                  "FROM changes c LEFT JOIN audit_leaves l ON l.position = c.position")


def history(view: StateView, path: str) -> list[dict[str, Any]]:
    """Every change of one entity, oldest first, each with its field-level diff."""
    rows = _rows(view, f"{SELECT_CHANGES} WHERE c.entity = ? ORDER BY c.position", (path,))
    return [change_row(row) for row in rows]


def change_row(row: Any) -> dict[str, Any]:
    record = {column: row[column] for column in (*CHANGE_COLUMNS, "leaf_index")}
    for column in ("sources", "fields", "diff"):
        record[column] = orjson.loads(record[column])
    record["provisions"] = record["provisions"].split() if record["provisions"] else []
    return record


@dataclass(frozen=True)
class ChangeFilter:
    party: str | None = None
    instrument: str | None = None
    action: str | None = None  # a provision such as VAP:14
    kind: str | None = None  # an event type (ReportSubmitted) or an entity kind (reports)
    entity: str | None = None
    recorded_from: str | None = None
    recorded_to: str | None = None
    effective_from: str | None = None
    effective_to: str | None = None
    q: str | None = None


def changes(
    view: StateView, where: ChangeFilter = ChangeFilter(), after: int = 0, limit: int = 100,
    newest_first: bool = False, offset: int = 0,
) -> list[dict[str, Any]]:
    """Change-log rows matching every given filter, paged by log position (or skipping
    `offset` matching rows: how feed archive pages are cut)."""
    clauses, params = where_clauses(view, where)
    if after:
        clauses.append("c.position < ?" if newest_first else "c.position > ?")
        params.append(after)
    order = "DESC" if newest_first else "ASC"
    sql = (SELECT_CHANGES + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
           + f" ORDER BY c.position {order} LIMIT ? OFFSET ?")
    return [change_row(row) for row in _rows(view, sql, [*params, limit, offset])]


def count_changes(view: StateView, where: ChangeFilter = ChangeFilter()) -> int:
    clauses, params = where_clauses(view, where)
    sql = "SELECT COUNT(*) AS n FROM changes c" + (
        f" WHERE {' AND '.join(clauses)}" if clauses else "")
    return int(_rows(view, sql, params)[0]["n"])


def where_clauses(view: StateView, where: ChangeFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for prefix, value in (("party:", where.party), ("instrument:", where.instrument),
                          ("provision:", where.action)):
        if value is not None:
            clauses.append("c.position IN (SELECT position FROM change_refs WHERE ref = ?)")
            params.append(prefix + value)
    if where.kind is not None:  # one column, so an index answers it in log order
        clauses.append("c.kind = ?" if where.kind in FAMILIES else "c.type = ?")
        params.append(where.kind)
    if where.entity is not None:
        clauses.append("c.entity = ?")
        params.append(where.entity)
    for column, operator, value in (
        ("recorded_at", ">=", where.recorded_from), ("recorded_at", "<=", where.recorded_to),
        ("effective_to", ">=", where.effective_from), ("effective_from", "<=", where.effective_to),
    ):
        if value is not None:
            clauses.append(f"c.{column} {operator} ?")
            params.append(value)
    if where.q:
        if view.dialect == "sqlite":
            clauses.append("c.position IN (SELECT rowid FROM changes_fts WHERE changes_fts MATCH ?)")
            params.append(_fts_query(where.q))
        else:
            clauses.append("c.search @@ plainto_tsquery('simple', ?)")
            params.append(where.q)
    return clauses, params


def _fts_query(text: str) -> str:
    """Plain words to an FTS5 query: each word quoted, all required."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"' for w in words) or '""'


# -- summary views ---------------------------------------------------------------------------


def report_timeliness(report: State, today: str) -> str:
    """on_time | late | missing (due date passed, nothing received) | pending | unscheduled."""
    due, received = report.get("due_on"), report.get("received_on")
    if due is None:
        return "unscheduled"
    if received is not None:
        return "on_time" if received <= due else "late"
    return "missing" if today > due else "pending"


def is_overdue(state: State, today: str) -> bool:
    kind = state["kind"]
    if kind == "commitments":
        open_ = state["status"] in ("pledged", "in_progress", "stalled", "lapsed")
        return open_ and state["due_on"] is not None and state["due_on"] < today
    if kind == "obligations":
        return not state["completed"] and state["due_on"] is not None and state["due_on"] < today
    if kind == "reports":
        return report_timeliness(state, today) == "missing"
    return False


def overdue(view: StateView, today: str, clock: Clock = NOW) -> list[State]:
    """Commitments, obligations and reports whose due date passed unmet, by due date."""
    found = [
        state for kind in ("commitments", "obligations", "reports")
        for state in entities(view, kind, clock) if is_overdue(state, today)
    ]
    return sorted(found, key=lambda s: (s["due_on"], s["path"]))


def instrument_summary(
    view: StateView, instrument: str, today: str, clock: Clock = NOW
) -> dict[str, Any]:
    """Who is where, for one treaty, as of the clock: the parties behind each count a progress
    report gives (States Parties, stockpiles declared and destroyed, clearance, legislation,
    reports submitted, on time, late or missing, allegations by state). `today` judges due dates."""
    statuses: dict[str, set[str]] = defaultdict(set)
    for party in entities(view, "parties", clock):
        if instrument in party["statuses"]:
            statuses[party["statuses"][instrument]["status"]].add(party["code"])
    obligations = [o for o in entities(view, "obligations", clock)
                   if o["provision"].split(":", 1)[0] == instrument]
    by_kind: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for o in obligations:
        counts = by_kind[o["obligation_kind"]]
        counts["declared"].add(o["party"])
        if o["progress"] or o["completed"]:
            counts["begun"].add(o["party"])
        if o["completed"]:
            counts["completed"].add(o["party"])
        elif o["due_on"] is not None and o["due_on"] < today:
            counts["overdue"].add(o["party"])
        if o["extensions"]:
            counts["extension_requested"].add(o["party"])
    reports = [r for r in entities(view, "reports", clock) if r["instrument"] == instrument]
    timeliness: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in reports:
        timeliness[r["report_kind"]][report_timeliness(r, today)].add(r["party"])
        if r["received_on"] is not None:
            timeliness[r["report_kind"]]["submitted"].add(r["party"])
    allegations: dict[str, set[str]] = defaultdict(set)
    for a in entities(view, "allegations", clock):
        if a["provision"].split(":", 1)[0] == instrument:
            allegations[a["state"]].add(a["against"])
    return {
        "instrument": instrument,
        "as_of": today,
        "states_parties": sorted(set().union(*(statuses.get(s, set()) for s in BOUND))),
        "treaty_status": _lists(statuses),
        "obligations": {kind: _lists(counts) for kind, counts in sorted(by_kind.items())},
        "reports": {kind: _lists(counts) for kind, counts in sorted(timeliness.items())},
        "allegations": _lists(allegations),
    }


def _lists(groups: dict[str, set[str]]) -> dict[str, list[str]]:
    return {key: sorted(values) for key, values in sorted(groups.items())}


def progress_matrix(view: StateView, plan: str, clock: Clock = NOW) -> dict[str, Any]:
    """Party x action of an action plan: pledged, reported (progress or a report covering it),
    completed (a commitment assessed kept)."""
    rank = {"pledged": 1, "reported": 2, "completed": 3}
    cells: dict[str, dict[str, str]] = defaultdict(dict)

    def mark(party: str, action: str, level: str) -> None:
        current = cells[party].get(action)
        if current is None or rank[level] > rank[current]:
            cells[party][action] = level

    for c in entities(view, "commitments", clock):
        level = ("completed" if c["status"] == "kept"
                 else "reported" if c["progress"] else "pledged")
        for provision in c["provisions"]:
            if provision.startswith(plan + ":"):
                mark(c["party"], provision.split(":", 1)[1], level)
    for r in entities(view, "reports", clock):
        for provision in r["covers"]:
            if provision.startswith(plan + ":") and r["received_on"]:
                mark(r["party"], provision.split(":", 1)[1], "reported")
    actions = sorted({a for row in cells.values() for a in row}, key=_natural)
    return {"plan": plan, "actions": actions,
            "parties": {party: dict(sorted(row.items(), key=lambda kv: _natural(kv[0])))
                        for party, row in sorted(cells.items())}}


def _natural(number: str) -> tuple[int, str]:
    digits = "".join(ch for ch in number if ch.isdigit())
    return (int(digits) if digits else 0, number)


def open_deadlines(view: StateView, today: str) -> list[tuple[str, str]]:
    """(path, due_on) of entities whose due date is before `today` and not met: tick's work."""
    rows = _rows(view, "SELECT state FROM entities WHERE kind IN ('commitments', 'obligations', "
                       "'reports') AND due_on < ? ORDER BY path", (today,))
    result = []
    for row in rows:
        state = orjson.loads(row["state"])
        if is_overdue(state, today) and state.get("lapsed_on") != state["due_on"]:
            result.append((state["path"], state["due_on"]))
    return result
