"""Dashboards as read models: what the summaries, progress matrices and overdue lists count,
kept by the projector so that each is an indexed query on either clock, not a replay.

An entity *belongs* to buckets: Croatia to `status:ratified` under the CCM, an obligation of
Croatia to `obligations:clearance:declared`, a commitment to the VAP matrix cell of its action.
A `Member` names one such belonging: (board, instrument, bucket, party, detail). Two tables hold
them:

- `boards`: how many entities belong to each member now (the current clock reads it);
- `board_steps`: each event's change to the members, as +1/-1 steps at its log position and
  from an effective date on, once for what is certain and once for what was possible (`mode`).
  Summing the steps up to a position (or a recorded time) and up to a date gives how many
  entities belonged then, as known then: `as_known_at` and `as_effective_on` in one query.

Each party's part of a summary or a progress matrix is also kept whole, as one row of JSON
(`PartyRows`): `board_parties` holds it now, and `board_party_history` each new row with the log
position of the event that made it. The current clock reads a row per party (151 at a million
events) rather than a row per member (28,000 for a matrix); a clock of knowledge alone (as known
at a position or a time, whatever the dates) reads, per party, its last row by then. Its rows
as effective from each date, as known now, are `board_party_effective` (`effective_rows`),
settled by the projector once it has caught up, since a change dated early rewrites them on
every later date: a clock of a date alone reads, per party, its last row by that date.

An entity's belonging as effective on each date is a step function of the date (its state
changes only on the dates its events took effect), so an event's steps are the difference
between the entity's step functions before and after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import orjson

from projections.fold import CORRECTIONS, UNDATED, Change, State, apply, fold, in_effect

#: (board, instrument, bucket, party, detail)
Member = tuple[str, str, str, str, str]
#: (effective from, members): an entity's belonging from each date on
Steps = list[tuple[str, frozenset[Member]]]
#: how an allegation whose source names no user is counted
UNNAMED = "(not named)"
#: commitment statuses whose due date still has to be met
OPEN_COMMITMENT = frozenset({"pledged", "in_progress", "stalled", "lapsed"})
#: descriptions of a party that can disagree with each other and with its treaty status
DESCRIBED = frozenset({"state_party", "signatory", "state_not_party"})
#: the kinds of entity that belong to buckets
KINDS = frozenset({"parties", "commitments", "obligations", "reports", "allegations",
                   "statements"})
MODES = ("certain", "possible")
#: levels of a cell of the progress matrix, lowest first
LEVELS = ("pledged", "stated", "reported", "completed")
NONE: frozenset[Member] = frozenset()


def members(state: State | None) -> frozenset[Member]:
    """Every bucket the entity belongs to in this state."""
    if state is None or state["kind"] not in KINDS:
        return NONE
    return frozenset(BELONGS[state["kind"]](state))


def _party(s: State) -> Iterable[Member]:
    for instrument, entry in s["statuses"].items():
        yield ("summary", instrument, f"status:{entry['status']}", s["code"], "")


def _commitment(s: State) -> Iterable[Member]:
    level = "completed" if s["status"] == "kept" else "reported" if s["progress"] else "pledged"
    yield from _cells(s["party"], s["provisions"], level)
    if s["status"] in OPEN_COMMITMENT and s["due_on"] is not None:
        yield _due(s)


def _obligation(s: State) -> Iterable[Member]:
    instrument, bucket = s["provision"].split(":", 1)[0], f"obligations:{s['obligation_kind']}"
    party = s["party"]
    yield ("summary", instrument, f"{bucket}:declared", party, "")
    if s["progress"] or s["completed"]:
        yield ("summary", instrument, f"{bucket}:begun", party, "")
    if s["completed"]:
        yield ("summary", instrument, f"{bucket}:completed", party, "")
    elif s["due_on"] is not None:  # overdue once the day asked is past it
        yield from _dated(instrument, f"{bucket}:open", party, s["due_on"])
        yield _due(s)
    if s["extensions"]:
        yield ("summary", instrument, f"{bucket}:extension_requested", party, "")


def _report(s: State) -> Iterable[Member]:
    bucket, party = f"reports:{s['report_kind']}", s["party"]
    due, received = s["due_on"], s["received_on"]
    if due is None:
        yield ("summary", s["instrument"], f"{bucket}:unscheduled", party, "")
    elif received is not None:
        yield ("summary", s["instrument"], f"{bucket}:{'on_time' if received <= due else 'late'}",
               party, "")
    else:  # missing or pending, by the day asked
        yield from _dated(s["instrument"], f"{bucket}:unreceived", party, due)
        yield _due(s)
    if received is not None:
        yield ("summary", s["instrument"], f"{bucket}:submitted", party, "")
        yield from _cells(party, s["covers"], "reported")


def _allegation(s: State) -> Iterable[Member]:
    yield ("summary", s["provision"].split(":", 1)[0], f"allegations:{s['state']}",
           s["against"] or UNNAMED, "")


def _statement(s: State) -> Iterable[Member]:
    if s["retracted"]:
        return
    instrument, code, described = s["instrument"], s["code"], s["described_as"] or "any"
    if s["party"] is not None:
        yield ("summary", instrument, f"named:{described}:{code}", s["party"], "")
        # a total that does not describe its parties counts them however described
        yield ("summary", instrument, f"named:any:{code}", s["party"], "")
        if s["described_as"] in DESCRIBED:
            yield ("summary", instrument, f"described:{s['described_as']}", s["party"], s["id"])
        yield from _cells(s["party"], s["provisions"], "stated")
    elif s.get("quantity"):  # a document's own total
        figure = {key: s[key] for key in ("id", "path", "quantity", "on", "sources")}
        yield ("summary", instrument, f"figure:{described}:{code}", "",
               orjson.dumps(figure, option=orjson.OPT_SORT_KEYS).decode())


def _cells(party: str, provisions: Sequence[str], level: str) -> Iterable[Member]:
    """Cells (action, party) of the progress matrix of each instrument whose provisions these
    are, at a level."""
    for provision in provisions:
        instrument, _, action = provision.partition(":")
        yield ("matrix", instrument, action, party, level)


def _dated(instrument: str, bucket: str, party: str, due_on: str) -> Iterable[Member]:
    """A summary bucket judged by due date: the party in it, and the due date on the `dates`
    board (a summary reads a party's first and last due date there, by index)."""
    yield ("summary", instrument, bucket, party, "")
    yield ("dates", instrument, bucket, party, due_on)


def _due(s: State) -> Member:
    """On the list of due dates still to be met (overdue once the day asked is past it), in
    the order of due date and path."""
    return ("due", "", s["due_on"], "", s["path"])


BELONGS = {"parties": _party, "commitments": _commitment, "obligations": _obligation,
           "reports": _report, "allegations": _allegation, "statements": _statement}


# -- a party's row of a summary or a matrix, event by event -----------------------------------

#: the boards kept party by party, and the row each board's members go to: a due date on the
#: `dates` board belongs to the party's summary row
PARTY_BOARDS = {"summary": "summary", "dates": "summary", "matrix": "matrix"}
#: the boards each row is made from (`summary`: the summary and the `dates` boards)
ROW_BOARDS = {row: tuple(board for board, of in PARTY_BOARDS.items() if of == row)
              for row in dict.fromkeys(PARTY_BOARDS.values())}
#: (board, instrument, party): one party's row of a summary or a matrix
PartyKey = tuple[str, str, str]


class PartyRows:
    """Each party's row of a summary or a matrix, as JSON (`body`), advanced by the changes
    events make to its members' counts, so that a new row is known at the very event that
    changes it: a summary row lists its members [bucket, detail, first, last], with the first
    and last due date of a bucket judged by due date; a matrix row maps each action to its
    highest level. A party is `seed`ed with its members' counts before it is first moved."""

    def __init__(self) -> None:
        #: (bucket, detail) -> how many entities belong, for each row's summary or matrix members
        self.counts: dict[PartyKey, dict[tuple[str, str], int]] = {}
        #: bucket -> due date -> how many, for each summary row's buckets judged by due date
        self.dates: dict[PartyKey, dict[str, dict[str, int]]] = {}
        #: bucket -> (first, last) of those due dates
        self.spans: dict[PartyKey, dict[str, tuple[str, str]]] = {}
        #: each row's body as last written
        self.bodies: dict[PartyKey, str] = {}

    def __contains__(self, key: PartyKey) -> bool:
        return key in self.bodies

    def seed(self, key: PartyKey, members: Iterable[tuple[str, str, str, int]]) -> None:
        """A row's members (board, bucket, detail, n) as they stand before the next move."""
        self.counts[key], self.dates[key], self.spans[key] = {}, {}, {}
        for board, bucket, detail, n in members:
            self.move((board, key[1], bucket, key[2], detail), n)
        self.bodies[key] = self.body(key)

    def move(self, member: Member, n: int) -> PartyKey | None:
        """Add `n` to a member's count; the row, if that may change its body (the member came
        or went, or a due date came or went that moves a bucket's first or last)."""
        board, _, bucket, party, detail = member
        key = (PARTY_BOARDS[board], member[1], party)
        if board == "dates":
            held: dict[Any, int] = self.dates[key].setdefault(bucket, {})
            slot: Any = detail
        else:
            held, slot = self.counts[key], (bucket, detail)
        before = held.get(slot, 0)
        if before + n:
            held[slot] = before + n
        else:
            del held[slot]
        if (before > 0) == (before + n > 0):
            return None
        if board != "dates":
            return key
        spans = self.spans[key]
        span = spans.get(bucket)
        if before + n > 0:  # a due date came
            new = (detail, detail) if span is None else (min(span[0], detail), max(span[1], detail))
        elif span is not None and span[0] < detail < span[1]:  # went from between them
            return None
        else:  # the first or the last went
            new = (min(held), max(held)) if held else None
        if new == span:
            return None
        if new is None:
            del spans[bucket]
        else:
            spans[bucket] = new
        return key

    def body(self, key: PartyKey) -> str:
        if key[0] == "matrix":
            cells: dict[str, str] = {}
            for action, level in self.counts[key]:
                if action not in cells or LEVELS.index(level) > LEVELS.index(cells[action]):
                    cells[action] = level
            return orjson.dumps(cells, option=orjson.OPT_SORT_KEYS).decode()
        spans = self.spans[key]
        return orjson.dumps(sorted([bucket, detail, *spans.get(bucket, (None, None))]
                                   for bucket, detail in self.counts[key])).decode()

    def advance(self, moves: Iterable[tuple[int, Member, int]]) -> list[tuple[PartyKey, int, str]]:
        """Apply (position, member, n) moves in log order; each new body of a row, with the
        position of the event that made it."""
        found: list[tuple[PartyKey, int, str]] = []
        for position, group in itertools.groupby(moves, key=lambda move: move[0]):
            changed = {key for _, member, n in group if (key := self.move(member, n))}
            for key in sorted(changed):
                if (body := self.body(key)) != self.bodies[key]:
                    self.bodies[key] = body
                    found.append((key, position, body))
        return found


@cache
def empty_row(board: str) -> str:
    """The body of a party's row with no members (`[]` for a summary, `{}` for a matrix),
    rendered once per board."""
    rows = PartyRows()
    rows.seed((board, "", ""), [])
    return rows.bodies[board, "", ""]


def effective_rows(key: PartyKey, steps: Iterable[tuple[str, str, str, str, str, int]]
                   ) -> list[tuple[str, str, str]]:
    """A party's row of a summary or a matrix as effective on each date, as known now: from
    its steps (board, bucket, detail, effective, mode, delta) in the order of their dates, each
    (mode, effective from, body) where the body changes. A row holds in both modes (`both`)
    where the two agree on every date; else each mode has its own rows."""
    by_mode: dict[str, list[tuple[str, str]]] = {}
    steps = list(steps)
    for mode in MODES if any(step[4] != "both" for step in steps) else MODES[:1]:
        rows = PartyRows()
        rows.seed(key, [])
        found: list[tuple[str, str]] = []
        counted = [step for step in steps if step[4] in ("both", mode)]
        for day, group in itertools.groupby(counted, key=lambda step: step[3]):
            net: dict[tuple[str, str, str], int] = {}
            for board, bucket, detail, _, _, delta in group:
                net[board, bucket, detail] = net.get((board, bucket, detail), 0) + delta
            moved = False
            for (board, bucket, detail), n in net.items():
                if n and rows.move((board, key[1], bucket, key[2], detail), n):
                    moved = True
            if moved and (body := rows.body(key)) != rows.bodies[key]:
                rows.bodies[key] = body
                found.append((day, body))
        by_mode[mode] = found
    if by_mode["certain"] == by_mode.get("possible", by_mode["certain"]):
        return [("both", day, body) for day, body in by_mode["certain"]]
    return [(mode, day, body) for mode, found in by_mode.items() for day, body in found]


# -- steps of an event ------------------------------------------------------------------------


#: (effective from, the entity's state from then on, its members): one per date
Step = list[Any]


def states(changes: Sequence[Change], possible: bool) -> list[Step]:
    """An entity's state and members as effective on each date, from its changes in log
    order: '' (any date) first, then from each date one of its dated changes took effect."""
    days = sorted({c.effective_from if possible else c.effective_to
                   for c in changes if c.type not in UNDATED})
    found = []
    for day in ["", *days]:
        state = fold(c for c in changes if in_effect(c, day, possible))
        found.append([day, state, members(state)])
    return found


def extend(found: list[Step], change: Change, possible: bool) -> None:
    """The states after one more change that is not a correction: it is the last in log
    order, so it applies on top of the state of every date from the one it took effect on (a
    fold would give the same; an event before its entity's creation took effect is left out,
    as the fold leaves it out)."""
    day = "" if change.type in UNDATED else (
        change.effective_from if possible else change.effective_to)
    at = max(n for n, step in enumerate(found) if step[0] <= day)
    if found[at][0] != day:
        at += 1
        found.insert(at, [day, *found[at - 1][1:]])
    for step in found[at:]:
        if step[1] is not None or change.version == 1:
            step[1] = apply(step[1], change)
            step[2] = members(step[1])


def _at(steps_: Steps, day: str) -> frozenset[Member]:
    current = NONE
    for start, belongs in steps_:
        if start > day:
            break
        current = belongs
    return current


def difference(before: Steps, after: Steps) -> list[tuple[str, Member, int]]:
    """(from date, member, +1 or -1): what to add to `before` to get `after` on every date."""
    found = []
    previous: dict[Member, int] = {}
    for day in sorted({d for d, _ in before} | {d for d, _ in after}):
        old, new = _at(before, day), _at(after, day)
        now = {**dict.fromkeys(new - old, 1), **dict.fromkeys(old - new, -1)}
        for member in now.keys() | previous.keys():
            if step := now.get(member, 0) - previous.get(member, 0):
                found.append((day, member, step))
        previous = now
    return found


class Timeline:
    """One entity's changes so far and its states in both modes, advanced event by event. While
    every dated change of the entity has an exact date, both modes are one list."""

    def __init__(self, changes: Sequence[Change]) -> None:
        self.changes = list(changes)
        self._refold()

    def _refold(self) -> None:
        self.exact = all(c.effective_from == c.effective_to for c in self.changes)
        certain = states(self.changes, False)
        self.states = {"certain": certain,
                       "possible": certain if self.exact else states(self.changes, True)}

    def steps(self) -> dict[str, Steps]:
        return {mode: [(day, belongs) for day, _, belongs in found]
                for mode, found in self.states.items()}

    def advance(self, change: Change) -> tuple[list[tuple[Any, ...]], dict[Member, int]]:
        """The step rows of one more event, and what it adds to each member's count now."""
        before, exact = self.steps(), self.exact
        self.changes.append(change)
        if change.type in CORRECTIONS or (
                self.exact and change.effective_from != change.effective_to):
            self._refold()  # a correction may change any earlier event
        else:
            for mode in MODES[:1] if self.exact else MODES:
                extend(self.states[mode], change, mode == "possible")
        after = self.steps()
        found: dict[tuple[str, Member, int], list[str]] = {}
        # one list in both modes before and after: one difference, for both
        for modes in [MODES] if exact and self.exact else [(mode,) for mode in MODES]:
            for step in difference(before[modes[0]], after[modes[0]]):
                found.setdefault(step, []).extend(modes)
        rows = [(*member, change.position, change.recorded_at, day,
                 "both" if len(modes) == 2 else modes[0], delta)
                for (day, member, delta), modes in found.items()]
        now: dict[Member, int] = {}
        for (_, member, delta), modes in found.items():
            if "certain" in modes:  # every change counts now, certain or not
                now[member] = now.get(member, 0) + delta
        return rows, {member: n for member, n in now.items() if n}
