"""What each human page shows, as plain data: the page's JSON twin, and everything its template
may use. Every list is bounded, so no URL can ask for an unbounded scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from projections import queries
from projections.queries import NOW, ChangeFilter, Clock, State
from projections.store import StateView

#: at most this many entities of one family on a party page (the rest are in its change log)
ENTITY_LIMIT = 50
#: rows of a change-log page, and how many of the newest matches the facets count
PAGE_ROWS = 50
FACET_WINDOW = 5000
#: the columns the change-log page counts its matches by
FACETS = ("kind", "party", "instrument")
OPEN_ALLEGATION_STATES = ("filed", "under_review", "clarification_requested", "response_received",
                          "investigation")
FAMILIES = ("commitments", "obligations", "reports", "allegations", "fundings", "statements")


@dataclass(frozen=True)
class Names:
    """Who and what codes stand for: parties by code, instruments by code, with provisions."""

    parties: dict[str, str]
    instruments: dict[str, State]

    def party(self, code: str | None) -> str:
        return self.parties.get(code or "", code or "")

    def code_label(self, instrument: str, code: str) -> str:
        """A statement code's label, looked up the instrument and the treaty above it."""
        seen: set[str] = set()
        while instrument in self.instruments and instrument not in seen:
            seen.add(instrument)
            state = self.instruments[instrument]
            if code in (state.get("statement_codes") or {}):
                return state["statement_codes"][code]["label"]
            instrument = state.get("parent") or ""
        return code

    def as_dict(self) -> dict[str, Any]:
        return {"parties": self.parties,
                "instruments": {code: s["title"] for code, s in self.instruments.items()}}


def names(view: StateView) -> Names:
    """Names of every party and instrument, read again only when the read model has moved."""
    position = view.position()
    cached = getattr(view, "_page_names", None)
    if cached is not None and cached[0] == position:
        return cached[1]
    rows = _rows(view, "SELECT kind, state FROM entities WHERE kind IN ('parties', 'instruments')")
    parties: dict[str, str] = {}
    instruments: dict[str, State] = {}
    for row in rows:
        state = orjson.loads(row["state"])
        if row["kind"] == "parties":
            parties[state["code"]] = state["name"]
        else:
            instruments[state["code"]] = state
    found = Names(dict(sorted(parties.items(), key=lambda kv: kv[1])),
                  dict(sorted(instruments.items())))
    view._page_names = (position, found)  # type: ignore[attr-defined]
    return found


def _rows(view: StateView, statement: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
    with view.reading() as cursor:
        cursor.execute(view.sql(statement), params)
        return cursor.fetchall()


def _states(view: StateView, statement: str, params: tuple[Any, ...] | list[Any] = ()) -> list[State]:
    return [orjson.loads(row["state"]) for row in _rows(view, statement, params)]


# -- the home page ----------------------------------------------------------------------------


def home(view: StateView, today: str, limit: int = 10) -> dict[str, Any]:
    """What changed lately, what is overdue, open allegations and the deadlines ahead."""
    return {
        "today": today,
        "position": view.position(),
        "latest": queries.changes(view, newest_first=True, limit=limit),
        "overdue": overdue(view, today, limit),
        "open_allegations": _states(
            view, "SELECT state FROM entities WHERE kind = 'allegations' AND status IN "
                  f"({', '.join('?' * len(OPEN_ALLEGATION_STATES))}) ORDER BY path LIMIT ?",
            [*OPEN_ALLEGATION_STATES, limit]),
        "upcoming": upcoming(view, today, limit),
    }


def overdue(view: StateView, today: str, limit: int) -> list[State]:
    """The `limit` most recently due entities whose due date passed unmet, newest first (the
    full list is the API's `/v1/overdue`)."""
    return queries.due(view, before=today, limit=limit, newest_first=True)


def upcoming(view: StateView, today: str, limit: int) -> list[State]:
    """The next deadlines from `today` on that are still open."""
    return queries.due(view, since=today, limit=limit)


# -- the change log ----------------------------------------------------------------------------


def change_log(view: StateView, where: ChangeFilter, before: int | None,
               limit: int = PAGE_ROWS) -> dict[str, Any]:
    """A page of the change log, newest first, from just before `before`; the facets count the
    newest FACET_WINDOW matches."""
    rows = queries.changes(view, where, after=before or 0, limit=limit, newest_first=True)
    return {
        "changes": rows,
        "older": rows[-1]["position"] if len(rows) == limit else None,
        "facets": facets(view, where),
        "facet_window": FACET_WINDOW,
    }


def facets(view: StateView, where: ChangeFilter) -> dict[str, list[tuple[str, int]]]:
    """How the newest matches split by kind, party and instrument, most frequent first."""
    selected = queries.selection(view, where)
    inner = (f"SELECT c.kind, c.party, c.instrument FROM {selected.source}"
             + (f" WHERE {' AND '.join(selected.clauses)}" if selected.clauses else "")
             + f" ORDER BY {selected.order} DESC LIMIT ?")
    # the newest matches are read once, and each facet counted from them
    counts = " UNION ALL ".join(
        f"SELECT * FROM (SELECT '{column}' AS facet, {column} AS value, COUNT(*) AS n FROM m "
        f"WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY n DESC, {column} LIMIT 8) "
        f"AS {column}_counts"
        for column in FACETS)
    rows = _rows(view, f"WITH m AS MATERIALIZED ({inner}) {counts}",
                 [*selected.params, FACET_WINDOW])
    found: dict[str, list[tuple[str, int]]] = {column: [] for column in FACETS}
    for row in rows:
        found[row["facet"]].append((row["value"], int(row["n"])))
    for column in FACETS:  # UNION ALL keeps each part's rows, not necessarily their order
        found[column].sort(key=lambda item: (-item[1], item[0]))
    return found


# -- parties, instruments and entities -----------------------------------------------------------


def parties(view: StateView, clock: Clock = NOW) -> dict[str, Any]:
    """Every party by name, and the treaties any of them has a status under."""
    found = sorted(queries.entities(view, "parties", clock), key=lambda p: p["name"])
    treaties = sorted({code for p in found for code in p["statuses"]})
    return {"parties": found, "treaties": treaties}


def party(view: StateView, code: str, today: str, clock: Clock = NOW) -> dict[str, Any] | None:
    """One party: its treaty statuses, what it pledged and owes, its reports and allegations,
    funding it gave, and its latest changes."""
    state = queries.entity(view, f"parties/{code}", clock)
    if state is None:
        return None
    related = {family: _of_party(view, family, code, clock) for family in FAMILIES}
    for report in related["reports"]:
        report["timeliness"] = queries.report_timeliness(report, today)
    for family in ("commitments", "obligations"):
        for item in related[family]:
            item["overdue"] = queries.is_overdue(item, today)
    counts = {family: _count_of_party(view, family, code) for family in FAMILIES}
    latest = queries.changes(view, ChangeFilter(party=code), newest_first=True, limit=20)
    return {"party": state, "today": today, **related, "counts": counts, "latest": latest,
            "timeline": timeline(view, code)}


def timeline(view: StateView, code: str, limit: int = 200) -> list[dict[str, Any]]:
    """The newest `limit` changes about a party, each with the days it took effect between
    (not its registration, which says when the ledger began to track it, not a fact about it)."""
    rows = _rows(view, "SELECT c.position, c.entity, c.kind, c.type, c.summary, c.effective_from, "
                       "c.effective_to FROM changes c WHERE c.position IN (SELECT position FROM "
                       "change_refs WHERE ref = ?) AND c.type <> 'PartyRegistered' "
                       "ORDER BY c.position DESC LIMIT ?",
                 (f"party:{code}", limit))
    return [dict(row) for row in rows]


def _of_party(view: StateView, family: str, code: str, clock: Clock) -> list[State]:
    if clock.is_now:
        return _states(view, "SELECT state FROM entities WHERE party = ? AND kind = ? ORDER BY "
                             "path LIMIT ?", (code, family, ENTITY_LIMIT))
    paths = _rows(view, "SELECT path FROM entities WHERE party = ? AND kind = ? ORDER BY path "
                        "LIMIT ?", (code, family, ENTITY_LIMIT))
    states = (queries.entity(view, row["path"], clock) for row in paths)
    return [state for state in states if state is not None]


def _count_of_party(view: StateView, family: str, code: str) -> int:
    rows = _rows(view, "SELECT COUNT(*) AS n FROM entities WHERE party = ? AND kind = ?",
                 (code, family))
    return int(rows[0]["n"])


def instrument(view: StateView, code: str, today: str, clock: Clock = NOW) -> dict[str, Any] | None:
    """One treaty or action plan: its provisions, who is where under it, and for an action plan
    the progress matrix."""
    state = queries.entity(view, f"instruments/{code}", clock)
    if state is None:
        return None
    treaty = state.get("parent") or code
    plans = [s for s in _states(view, "SELECT state FROM entities WHERE kind = 'instruments' "
                                      "ORDER BY path") if s.get("parent") == code]
    is_plan = state["instrument_kind"] == "action_plan"
    return {
        "instrument": state,
        "plans": plans,
        "summary": queries.instrument_summary(view, treaty, today, clock),
        "matrix": queries.progress_matrix(view, code, clock) if is_plan else None,
        "latest": queries.changes(view, ChangeFilter(instrument=code), newest_first=True, limit=10),
    }


def entity_page(view: StateView, path: str, clock: Clock = NOW) -> dict[str, Any] | None:
    """One entity on the clock asked, with its whole history (each change with its diff)."""
    state = queries.entity(view, path, clock)
    if state is None:
        return None
    return {"entity": state, "history": queries.history(view, path)}


def checkpoints(view: StateView, limit: int = 100) -> list[State]:
    """The newest signed checkpoints first."""
    return _states(view, "SELECT state FROM entities WHERE kind = 'checkpoints' ORDER BY position "
                         "DESC LIMIT ?", (limit,))
