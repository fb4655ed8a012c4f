"""Questions the API, feeds and pages ask of the read model: plain values in, plain data out."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from projections.dashboards import LEVELS
from projections.fold import UNDATED, Change, State, fold, in_effect
from projections.store import CHANGE_COLUMNS, StateView, change_from_row

BOUND = ("ratified", "acceded", "state_party", "entered_into_force")
#: the entity families: a change-log `kind` filter names one of them or an event type
FAMILIES = frozenset({"parties", "instruments", "commitments", "fundings", "obligations",
                      "reports", "allegations", "statements", "checkpoints"})


@dataclass(frozen=True)
class Clock:
    """Which knowledge and which world-date a question is asked at (all None: now)."""

    known_at: str | None = None  # RFC 3339 time: what the ledger knew then
    known_at_position: int | None = None  # or a log position
    effective_on: str | None = None  # YYYY-MM-DD: the world as it stood that day
    #: count facts dated by an interval from its first day (possibly true) rather than from
    #: its last (certainly true)
    possible: bool = False

    @property
    def is_now(self) -> bool:
        return self.known_at is None and self.known_at_position is None and self.effective_on is None

    def includes(self, change: Change) -> bool:
        if self.known_at_position is not None and change.position > self.known_at_position:
            return False
        if self.known_at is not None and change.recorded_at > self.known_at:
            return False
        # corrections fix the facts of what they correct, whatever their own date
        return self.effective_on is None or in_effect(change, self.effective_on, self.possible)

    def uncertain(self, change: Change) -> bool:
        """A dated fact that may or may not have taken effect by `effective_on`."""
        return (self.effective_on is not None and change.type not in UNDATED
                and change.effective_from <= self.effective_on < change.effective_to)


NOW = Clock()


def _rows(view: StateView, statement: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
    with view.reading() as cursor:
        cursor.execute(view.sql(statement), params)
        return cursor.fetchall()


def entity_changes(view: StateView, path: str) -> list[Change]:
    rows = _rows(view, "SELECT * FROM changes WHERE entity = ? ORDER BY position", (path,))
    return [change_from_row(row) for row in rows]


def entity(view: StateView, path: str, clock: Clock = NOW) -> State | None:
    """One entity's state now, as known at a time or position, or as effective on a date.
    As effective on a date, `uncertain` lists the facts dated by an interval around that day:
    counted only when the clock counts what was possible."""
    if clock.is_now:
        rows = _rows(view, "SELECT state FROM entities WHERE path = ?", (path,))
        return orjson.loads(rows[0]["state"]) if rows else None
    return fold_at(clock, entity_changes(view, path))


def fold_at(clock: Clock, changes: list[Change]) -> State | None:
    """An entity's state on the clock, from all its changes in log order."""
    state = fold(c for c in changes if clock.includes(c))
    if state is not None and clock.effective_on is not None:
        known = Clock(clock.known_at, clock.known_at_position)
        state["uncertain"] = [
            {"event_id": c.event_id, "type": c.type, "effective_on": c.effective_on,
             "counted": clock.possible}
            for c in changes if known.includes(c) and clock.uncertain(c)
        ]
    return state


def family(view: StateView, code: str) -> list[str]:
    """An instrument and every instrument below it (a treaty's action plans)."""
    parents = {}
    for row in _rows(view, "SELECT state FROM entities WHERE kind = 'instruments'"):
        state = orjson.loads(row["state"])
        parents[state["code"]] = state.get("parent")
    codes = [code]
    for member in codes:
        codes.extend(child for child, parent in sorted(parents.items())
                     if parent == member and child not in codes)
    return codes


def entities(
    view: StateView, kind: str, clock: Clock = NOW, party: str | None = None,
    instrument: str | None = None,
) -> list[State]:
    """Every entity of a kind (optionally of one party or instrument), ordered by path."""
    where, params = ["kind = ?"], [kind]
    if party is not None:
        where.append("party = ?")
        params.append(party)
    if instrument is not None:  # an action plan's entities count under its treaty
        members = family(view, instrument)
        where.append(f"instrument IN ({', '.join('?' * len(members))})")
        params.extend(members)
    if clock.is_now:
        rows = _rows(view, f"SELECT state FROM entities WHERE {' AND '.join(where)} ORDER BY path",
                     params)
        return [orjson.loads(row["state"]) for row in rows]
    return states(view, [row["path"] for row in _rows(
        view, f"SELECT path FROM entities WHERE {' AND '.join(where)} ORDER BY path", params)],
        clock)


def states(view: StateView, paths: list[str], clock: Clock = NOW) -> list[State]:
    """The states of entities on the clock, in the order of `paths` (those that exist then)."""
    found: dict[str, State] = {}
    for start in range(0, len(paths), FOLD_CHUNK):  # a query per chunk, not per entity
        chunk = paths[start:start + FOLD_CHUNK]
        marks = ", ".join("?" * len(chunk))
        if clock.is_now:
            for row in _rows(view, f"SELECT state FROM entities WHERE path IN ({marks})", chunk):
                state = orjson.loads(row["state"])
                found[state["path"]] = state
            continue
        rows = _rows(view, f"SELECT {', '.join(FOLDED)} FROM changes WHERE entity IN ({marks}) "
                           "ORDER BY entity, position", chunk)
        for path, group in itertools.groupby(rows, key=lambda row: row["entity"]):
            if (state := fold_at(clock, [change_from_row(row) for row in group])) is not None:
                found[path] = state
    return [found[path] for path in paths if path in found]


#: entities folded on another clock per query, and the change columns their fold reads
FOLD_CHUNK = 500
FOLDED = ("position", "event_id", "type", "entity", "version", "recorded_at", "effective_on",
          "recorded_by", "sources", "note", "fields")


#: a change row's columns with the leaf index the audit tree gave its event (None until it
#: has), looked up row by row: as a LEFT JOIN, PostgreSQL merged the leaves from the start of
#: the log for every page of a listing (135 ms a page at 1M events instead of 3 ms)
CHANGE_ROW = (f"{', '.join('c.' + col for col in CHANGE_COLUMNS)}, (SELECT l.leaf_index FROM "
              "audit_leaves l WHERE l.position = c.position) AS leaf_index")
#: every change row with its leaf index
SELECT_CHANGES = f"SELECT {CHANGE_ROW} FROM changes c"


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
    code: str | None = None  # a statement code
    described_as: str | None = None  # how a statement describes its party
    named: bool | None = None  # statements naming a party (True) or none (False)
    certain_by: str | None = None  # facts certainly in effect by this date (interval ended)


def changes(
    view: StateView, where: ChangeFilter = ChangeFilter(), after: int = 0, limit: int = 100,
    newest_first: bool = False, offset: int = 0, decoded: bool = True,
) -> list[Any]:
    """Change-log rows matching every given filter, paged by log position (or skipping
    `offset` matching rows: how feed archive pages are cut); not `decoded`: the rows as stored,
    JSON columns as text and provisions space-separated (what an export copies through)."""
    found = selection(view, where)
    clauses, params = list(found.clauses), list(found.params)
    if after:
        clauses.append(f"{found.order} < ?" if newest_first else f"{found.order} > ?")
        params.append(after)
    order = "DESC" if newest_first else "ASC"
    sql = (f"SELECT {CHANGE_ROW} FROM {found.source}"
           + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
           + f" ORDER BY {found.order} {order} LIMIT ? OFFSET ?")
    rows = _rows(view, sql, [*params, limit, offset])
    return [change_row(row) for row in rows] if decoded else rows


def count_changes(view: StateView, where: ChangeFilter = ChangeFilter()) -> int:
    found = selection(view, where)
    sql = f"SELECT COUNT(*) AS n FROM {found.source}" + (
        f" WHERE {' AND '.join(found.clauses)}" if found.clauses else "")
    return int(_rows(view, sql, found.params)[0]["n"])


class Selection(NamedTuple):
    """The change rows (`c`) a filter selects: the tables they are read from, the column that
    orders them by log position there, and the conditions with their parameters. The most
    selective index leads: a reference (party, instrument, action) read in log order from
    `change_refs`, else on SQLite the full-text index in rowid order, else `changes` itself;
    every other filter is checked on the rows it yields, so a page reads few rows past its
    last match and paging by position never re-reads what earlier pages read."""

    source: str
    order: str
    clauses: list[str]
    params: list[Any]


def selection(view: StateView, where: ChangeFilter) -> Selection:
    clauses: list[str] = []
    params: list[Any] = []
    source, order = "changes c", "c.position"
    refs = [prefix + value for prefix, value in (
        ("party:", where.party), ("instrument:", where.instrument), ("provision:", where.action),
        ("code:", where.code), ("described_as:", where.described_as),
    ) if value is not None]
    if refs:
        source, order = "change_refs r JOIN changes c ON c.position = r.position", "r.position"
        clauses.append("r.ref = ?")
        params.append(refs[0])
    for ref in refs[1:]:
        clauses.append("EXISTS (SELECT 1 FROM change_refs x WHERE x.ref = ? "
                       "AND x.position = c.position)")
        params.append(ref)
    if where.q and view.dialect == "sqlite":
        if refs:
            clauses.append("EXISTS (SELECT 1 FROM changes_fts WHERE changes_fts MATCH ? "
                           "AND changes_fts.rowid = c.position)")
        else:
            source, order = "changes_fts f JOIN changes c ON c.position = f.rowid", "f.rowid"
            clauses.append("changes_fts MATCH ?")
        params.append(_fts_query(where.q))
    elif where.q:
        clauses.append("c.search @@ plainto_tsquery('simple', ?)")
        params.append(where.q)
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
    if where.certain_by is not None:  # as an as-effective view counts a fact: from its end
        clauses.append("c.effective_to <= ?")
        params.append(where.certain_by)
    if where.named is not None:
        party = ("json_extract(c.fields, '$.party')" if view.dialect == "sqlite"
                 else "(c.fields::jsonb ->> 'party')")
        clauses.append(f"c.kind = 'statements' AND {party} IS {'NOT ' if where.named else ''}NULL")
    return Selection(source, order, clauses, params)


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


def overdue(
    view: StateView, today: str, clock: Clock = NOW, limit: int | None = None,
    after: tuple[str, str] | None = None,
) -> list[State]:
    """Commitments, obligations and reports whose due date passed unmet, by due date and
    path: at most `limit`, after the (due date, path) `after`."""
    return due(view, clock, before=today, after=after, limit=limit)


def due(
    view: StateView, clock: Clock = NOW, before: str | None = None, since: str | None = None,
    after: tuple[str, str] | None = None, limit: int | None = None, newest_first: bool = False,
) -> list[State]:
    """Entities with a due date still to be met on the clock, due before a day or from a day
    on, by due date and path (or the reverse), after the (due date, path) `after`: read in
    that order from the due-date dashboard, so a page reads what it shows."""
    clauses, params = ["board = 'due'", "instrument = ''"], []
    for clause, value in (("bucket < ?", before), ("bucket >= ?", since)):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if after is not None:
        clauses.append(f"(bucket {'<>'[not newest_first]} ? OR (bucket = ? AND detail "
                       f"{'<>'[not newest_first]} ?))")
        params += [after[0], after[0], after[1]]
    if clock.is_now:
        sql = f"SELECT detail FROM boards WHERE {' AND '.join(clauses)}"
    else:
        steps, step_params = _steps_on(clock)
        sql = (f"SELECT detail FROM board_steps WHERE {' AND '.join([*clauses, *steps])} "
               "GROUP BY bucket, party, detail HAVING SUM(delta) > 0")
        params += step_params
    order = " DESC" if newest_first else ""
    sql += f" ORDER BY bucket{order}, party{order}, detail{order}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return states(view, [row["detail"] for row in _rows(view, sql, params)], clock)


def _members(name: str, instruments: list[str], clock: Clock) -> tuple[str, list[Any]]:
    """SQL for the members (instrument, bucket, party, detail) of a dashboard's instruments on
    a clock other than now: summed from their steps up to the clock (see
    projections/dashboards.py)."""
    marks = ", ".join("?" * len(instruments))
    steps, params = _steps_on(clock)
    return ("SELECT instrument, bucket, party, detail FROM board_steps WHERE board = ? AND "
            f"instrument IN ({marks}) AND {' AND '.join(steps)} GROUP BY instrument, bucket, "
            "party, detail HAVING SUM(delta) > 0", [name, *instruments, *params])


def _party_rows(
    view: StateView, board: str, instruments: list[str], clock: Clock
) -> list[Any] | None:
    """Each party's row of a board (projections/dashboards.py, `PartyRows`): now; as known at
    a position or a time (its last row by then, one index probe per party); or as effective
    on a date, as known now (its last settled row from that date on, one probe per party).
    None where the rows do not answer: both clocks at once, a party of these instruments not
    yet settled (the projector settles them once it has caught up), or a read model of an
    older schema, which may lack them, serving while a rebuild beside it is under way."""
    if view.reads_older_schema():
        return None
    marks = ", ".join("?" * len(instruments))
    if clock.is_now:
        return _rows(view, "SELECT instrument, party, body FROM board_parties WHERE board = ? "
                           f"AND instrument IN ({marks})", [board, *instruments])
    if clock.effective_on is None:
        probe = ("SELECT h.body FROM board_party_history h WHERE h.board = k.board AND "
                 "h.instrument = k.instrument AND h.party = k.party AND h.position <= ? "
                 "ORDER BY h.position DESC LIMIT 1")
        params: list[Any] = [known_position(view, clock)]
    elif clock.known_at is None and clock.known_at_position is None:
        if _rows(view, "SELECT 1 FROM board_party_unsettled WHERE board = ? AND instrument IN "
                       f"({marks}) LIMIT 1", [board, *instruments]):
            return None
        probe = ("SELECT e.body FROM board_party_effective e WHERE e.board = k.board AND "
                 "e.instrument = k.instrument AND e.party = k.party AND e.effective <= ? AND "
                 "e.mode IN ('both', ?) ORDER BY e.effective DESC LIMIT 1")
        params = [clock.effective_on, "possible" if clock.possible else "certain"]
    else:
        return None
    rows = _rows(view, f"SELECT k.instrument, k.party, ({probe}) AS body FROM board_parties k "
                       f"WHERE k.board = ? AND k.instrument IN ({marks})",
                 [*params, board, *instruments])
    return [row for row in rows if row["body"] is not None]


def known_position(view: StateView, clock: Clock) -> int:
    """The log position a clock of knowledge stands at: the position asked, or that of the
    last change recorded at or before the time asked, whichever is earlier. (Changes are
    recorded in log order; where two writers' clocks disagree by a moment, a time stands for
    the log up to the last change recorded by then.)"""
    found = [clock.known_at_position] if clock.known_at_position is not None else []
    if clock.known_at is not None:
        rows = _rows(view, "SELECT position FROM changes WHERE recorded_at <= ? ORDER BY "
                           "recorded_at DESC, position DESC LIMIT 1", (clock.known_at,))
        found.append(rows[0]["position"] if rows else 0)
    return min(found)


def summary_members(view: StateView, instruments: list[str], clock: Clock = NOW) -> list[Any]:
    """The summary dashboard's members, each with `first` and `last`: the party's first and
    last due date in a bucket judged by due date (read from the `dates` board)."""
    rows = _party_rows(view, "summary", instruments, clock)
    if rows is not None:  # a row per party
        return [{"instrument": row["instrument"], "party": row["party"], "bucket": bucket,
                 "detail": detail, "first": first, "last": last}
                for row in rows for bucket, detail, first, last in orjson.loads(row["body"])]
    members, params = _members("summary", instruments, clock)
    dated, dated_params = _members("dates", instruments, clock)
    span: dict[tuple[str, str, str], list[str]] = {}
    for row in _rows(view, dated, dated_params):
        span.setdefault((row["instrument"], row["bucket"], row["party"]), []).append(row["detail"])
    found = []
    for row in _rows(view, members, params):
        days = span.get((row["instrument"], row["bucket"], row["party"]))
        found.append({**row, "first": min(days) if days else None,
                      "last": max(days) if days else None})
    return found


def matrix_rows(view: StateView, plan: str, clock: Clock = NOW) -> dict[str, dict[str, str]]:
    """Party -> action -> the highest level that cell of an action plan's matrix has (parties
    with no cell left out)."""
    rows = _party_rows(view, "matrix", [plan], clock)
    if rows is not None:  # a row per party
        return {row["party"]: cells for row in rows if (cells := orjson.loads(row["body"]))}
    members, params = _members("matrix", [plan], clock)
    rank = " ".join(f"WHEN '{level}' THEN {n}" for n, level in enumerate(LEVELS))
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for row in _rows(view, f"SELECT bucket, party, MAX(CASE detail {rank} END) AS level FROM "
                           f"({members}) m GROUP BY bucket, party", params):
        found[row["party"]][row["bucket"]] = LEVELS[row["level"]]
    return dict(found)


def _steps_on(clock: Clock) -> tuple[list[str], list[Any]]:
    """Which dashboard steps count on the clock: those known by then, and effective by its
    day in its mode (with no day, every step of what is certain, as now)."""
    clauses, params = [], []
    if clock.known_at_position is not None:
        clauses.append("position <= ?")
        params.append(clock.known_at_position)
    if clock.known_at is not None:
        clauses.append("recorded_at <= ?")
        params.append(clock.known_at)
    if clock.effective_on is not None:
        clauses.append("effective <= ?")
        params.append(clock.effective_on)
    clauses.append("mode IN ('both', ?)")
    params.append("possible" if clock.possible and clock.effective_on is not None else "certain")
    return clauses, params


def instrument_summary(
    view: StateView, instrument: str, today: str, clock: Clock = NOW
) -> dict[str, Any]:
    """Who is where, for one treaty, as of the clock: the parties behind each count a progress
    report gives (States Parties, stockpiles declared and destroyed, clearance, legislation,
    reports submitted, on time, late or missing, allegations by state). `today` judges due
    dates. Read from the summary dashboard (projections/dashboards.py)."""
    statuses: dict[str, set[str]] = defaultdict(set)
    by_kind: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    timeliness: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    allegations: dict[str, set[str]] = defaultdict(set)
    named: dict[tuple[str, str], set[str]] = defaultdict(set)
    figures: dict[tuple[str, str], list[State]] = defaultdict(list)
    described: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in summary_members(view, family(view, instrument), clock):
        area, _, bucket = row["bucket"].partition(":")
        party, detail = row["party"], row["detail"]
        if area == "status" and row["instrument"] == instrument:
            statuses[bucket].add(party)
        elif area in ("obligations", "reports"):
            kind, _, bucket = bucket.rpartition(":")
            counts = (by_kind if area == "obligations" else timeliness)[kind]
            if bucket == "open":  # obligations not completed, by their first deadline
                if row["first"] < today:
                    counts["overdue"].add(party)
            elif bucket == "unreceived":  # reports not received, by their due dates
                if today > row["first"]:
                    counts["missing"].add(party)
                if row["last"] >= today:
                    counts["pending"].add(party)
            else:
                counts[bucket].add(party)
        elif area == "allegations":
            allegations[bucket].add(party)
        elif area == "named":
            described_as, _, code = bucket.partition(":")
            named[(code, described_as)].add(party)
        elif area == "figure":
            described_as, _, code = bucket.partition(":")
            figures[(code, described_as)].append(orjson.loads(detail))
        elif area == "described":
            described[party][bucket].append(detail)
    for found in figures.values():
        found.sort(key=lambda f: (f["on"] or "", f["path"]))
    states_parties = set().union(*(statuses.get(s, set()) for s in BOUND))
    return {
        "instrument": instrument,
        "as_of": today,
        "states_parties": sorted(states_parties),
        "treaty_status": _lists(statuses),
        "totals": {
            "states_parties": _beside(states_parties, figures.pop(("states-parties", "state_party"), [])),
            "signatories": _beside(statuses.get("signed", set()),
                                   figures.pop(("signatories", "signatory"), [])),
        },
        "obligations": {kind: _lists(counts) for kind, counts in sorted(by_kind.items())},
        "reports": {kind: _lists(counts) for kind, counts in sorted(timeliness.items())},
        "allegations": _lists(allegations),
        "statements": statement_counts(view, named, figures),
        "described_differently": described_differently(described, statuses),
    }


#: how a treaty status describes a party, to set beside how documents describe it
STATUS_DESCRIPTIONS = {**dict.fromkeys(BOUND, "state_party"), "signed": "signatory"}


def described_differently(
    described: dict[str, dict[str, list[str]]], statuses: dict[str, set[str]]
) -> dict[str, dict[str, list[str]]]:
    """Parties that documents (or a document and the party's recorded treaty status) describe
    in more than one way: each description with the statements that use it (`status`: the
    recorded treaty status)."""
    descriptions: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for status, parties in statuses.items():
        if status in STATUS_DESCRIPTIONS:
            for party in parties:
                descriptions[party][STATUS_DESCRIPTIONS[status]].append("status")
    for party, by_description in described.items():
        for description, ids in by_description.items():
            descriptions[party][description].extend(ids)
    return {party: {d: sorted(ids) for d, ids in sorted(found.items())}
            for party, found in sorted(descriptions.items()) if len(found) > 1}


#: units of a stated figure that counts parties: only such a figure has a difference from the
#: parties named (64,448,458 submunitions or USD 1.9 billion have none)
PARTY_UNITS = frozenset({"states", "states parties", "signatories", "parties", "organisations"})


def _beside(named: set[str], figures: list[State]) -> dict[str, Any]:
    """The parties the ledger names beside the document's own total (its latest one), and
    the difference (stated minus named) when the total is a whole number."""
    latest = figures[-1] if figures else None
    stated = latest["quantity"]["value"] if latest else None
    counts_parties = latest is not None and latest["quantity"]["unit"].lower() in PARTY_UNITS
    return {
        "named": sorted(named), "count": len(named), "stated": stated,
        "difference": int(stated) - len(named) if counts_parties and stated.isdigit() else None,
        "figures": [{"id": f["id"], **f["quantity"], "on": f["on"], "sources": f["sources"]}
                    for f in figures],
    }


# -- statements: what documents state ---------------------------------------------------------

#: the fields a list of statements is filtered by, each equal to the given value
STATEMENT_FIELDS = ("code", "party", "described_as", "territory")


@dataclass(frozen=True)
class StatementFilter:
    instrument: str | None = None  # the instrument or a plan below it
    action: str | None = None  # one of the statement's provisions, such as VAP:8
    code: str | None = None
    party: str | None = None
    described_as: str | None = None
    territory: str | None = None
    area: str | None = None  # the area its code is registered under
    figures: bool | None = None  # only a document's own totals (True), or only the rest


def statements(
    view: StateView, clock: Clock = NOW, where: StatementFilter | None = None, **fields: Any
) -> list[State]:
    """Statements standing on the clock (retracted ones left out), filtered on every field,
    oldest first."""
    where = where or StatementFilter(**fields)
    found = entities(view, "statements", clock, party=where.party, instrument=where.instrument)
    areas = code_areas(view) if where.area is not None else {}
    result = []
    for state in found:
        if state["retracted"] or any(
            getattr(where, key) is not None and state.get(key) != getattr(where, key)
            for key in STATEMENT_FIELDS
        ):
            continue
        if where.action is not None and where.action not in state["provisions"]:
            continue
        if where.figures is not None and where.figures != is_figure(state):
            continue
        if where.area is not None and areas.get((state["instrument"], state["code"])) != where.area:
            continue
        result.append(state)
    return sorted(result, key=lambda s: (s["on"] or "", s["path"]))


def is_figure(statement: State) -> bool:
    """A document's own total: no party, a quantity."""
    return statement.get("party") is None and bool(statement.get("quantity"))


def code_areas(view: StateView) -> dict[tuple[str, str], str | None]:
    """(instrument, code) -> area, for every statement code, with each plan's statements
    also finding the codes of the instruments above it."""
    codes: dict[str, dict[str, Any]] = {}
    parents: dict[str, str | None] = {}
    for row in _rows(view, "SELECT state FROM entities WHERE kind = 'instruments'"):
        state = orjson.loads(row["state"])
        codes[state["code"]] = state.get("statement_codes") or {}
        parents[state["code"]] = state.get("parent")
    areas: dict[tuple[str, str], str | None] = {}
    for instrument in codes:
        chain = [instrument]
        while (parent := parents.get(chain[-1])) and parent not in chain:
            chain.append(parent)
        for owner in reversed(chain):  # the nearest registration wins
            for code, entry in codes.get(owner, {}).items():
                areas[(instrument, code)] = entry.get("area")
    return areas


def statement_counts(
    view: StateView, named: dict[tuple[str, str], set[str]],
    figures: dict[tuple[str, str], list[State]],
) -> dict[str, Any]:
    """Per statement code and description (`any`: however described): the parties named,
    beside the document's total (its figures oldest first)."""
    labels: dict[str, dict[str, Any]] = {}
    for row in _rows(view, "SELECT state FROM entities WHERE kind = 'instruments'"):
        for code, entry in (orjson.loads(row["state"]).get("statement_codes") or {}).items():
            labels.setdefault(code, entry)
    counts: dict[str, Any] = {}
    for code, described in sorted(set(named) | set(figures)):
        entry = counts.setdefault(code, {"label": labels.get(code, {}).get("label", code),
                                         "area": labels.get(code, {}).get("area"), "by": {}})
        entry["by"][described] = _beside(named.get((code, described), set()),
                                         figures.get((code, described), []))
    return counts


def _lists(groups: dict[str, set[str]]) -> dict[str, list[str]]:
    return {key: sorted(values) for key, values in sorted(groups.items())}


def progress_matrix(view: StateView, plan: str, clock: Clock = NOW) -> dict[str, Any]:
    """Party x action of an action plan: pledged, stated (a document states something about
    the party on that action), reported (progress or a report covering it), completed (a
    commitment assessed kept). Read from the matrix dashboard (projections/dashboards.py)."""
    cells = matrix_rows(view, plan, clock)
    actions = sorted({a for row in cells.values() for a in row}, key=_natural)
    order = {action: n for n, action in enumerate(actions)}
    return {"plan": plan, "actions": actions,
            "parties": {party: dict(sorted(row.items(), key=lambda cell: order[cell[0]]))
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
