"""The dashboards the projector keeps (summaries, progress matrices, due dates) answer exactly
what folding every entity on the clock answers: now, as known at a position or a time, as
effective on a date (certain or possible), and both clocks at once."""

from __future__ import annotations

import random
from collections import Counter

import orjson
import pytest

from benchmarks.synthetic import generate
from ledger.commands import Ledger
from projections import queries, runner
from projections.dashboards import KINDS, members
from projections.queries import Clock
from projections.runner import Projector, settle
from tests.integration.test_projection_consistency import load_demo


def folded(view, clock: Clock) -> Counter:
    """How many entities belong to each member, from every entity folded on the clock."""
    found: Counter = Counter()
    for kind in sorted(KINDS):
        for state in queries.entities(view, kind, clock):
            found.update(members(state))
    return found


def kept(view, clock: Clock) -> Counter:
    """The same, from the dashboard tables: counted now, summed from steps on another clock."""
    if clock.is_now:
        rows = queries._rows(view, "SELECT board, instrument, bucket, party, detail, n FROM boards")
    else:
        steps, params = queries._steps_on(clock)
        rows = queries._rows(view, "SELECT board, instrument, bucket, party, detail, SUM(delta) AS n "
                                   f"FROM board_steps WHERE {' AND '.join(steps)} GROUP BY board, "
                                   "instrument, bucket, party, detail HAVING SUM(delta) <> 0", params)
    return Counter({tuple(row[c] for c in ("board", "instrument", "bucket", "party", "detail")):
                    int(row["n"]) for row in rows})


def clocks(view, rng: random.Random, count: int) -> list[Clock]:
    """Now, and `count` random clocks of each sort within the log's positions and dates."""
    last = view.position()
    times = [row["recorded_at"] for row in queries._rows(
        view, "SELECT recorded_at FROM changes ORDER BY position")]
    days = sorted({row["effective_from"] for row in queries._rows(
        view, "SELECT effective_from FROM changes")} | {"1990-01-01", "2099-12-31"})
    found = [Clock()]
    for _ in range(count):
        day, possible = rng.choice(days), rng.random() < 0.5
        found += [Clock(known_at_position=rng.randrange(1, last + 1)),
                  Clock(known_at=rng.choice(times)),
                  Clock(effective_on=day, possible=possible),
                  Clock(known_at_position=rng.randrange(1, last + 1), effective_on=day,
                        possible=possible)]
    return found


def party_rows(view) -> list[tuple[str, ...]]:
    return [tuple(row) for table, order in (("board_parties", "1, 2, 3"),
                                            ("board_party_history", "1, 2, 3, 4"),
                                            ("board_party_effective", "1, 2, 3, 4, 5"))
            for row in queries._rows(view, f"SELECT * FROM {table} ORDER BY {order}")]


#: a day after every effective date: a clock of knowledge alone, answered from the steps
EVERY_DAY = "9999-12-31"


def assert_party_rows_match_steps(view, rng: random.Random, count: int) -> None:
    """Each party's row, now (`board_parties`), as known at random positions and times
    (`board_party_history`) and as effective on random days in either mode
    (`board_party_effective`), holds what summing the steps up to then gives: the members of
    every summary with their first and last due dates, and every cell of every matrix."""
    codes = [row["path"].partition("/")[2] for row in queries._rows(
        view, "SELECT path FROM entities WHERE kind = 'instruments' ORDER BY path")]
    changes = queries._rows(view, "SELECT position, recorded_at FROM changes ORDER BY position")
    picked = rng.sample(changes, count)
    asked = [(Clock(), Clock(known_at_position=view.position(), effective_on=EVERY_DAY))]
    asked += [(Clock(known_at_position=row["position"] + shift),
               Clock(known_at_position=row["position"] + shift, effective_on=EVERY_DAY))
              for row in picked for shift in (0, 1)]
    asked += [(Clock(known_at=row["recorded_at"]),
               Clock(known_at=row["recorded_at"], effective_on=EVERY_DAY)) for row in picked]
    # a time and a position at once: the earlier of the two counts
    asked += [(Clock(known_at=early["recorded_at"], known_at_position=late["position"]),
               Clock(known_at=early["recorded_at"], known_at_position=late["position"],
                     effective_on=EVERY_DAY))
              for early, late in zip(picked, reversed(picked), strict=True)]
    # a date alone: the settled rows; the steps known at the last position give the same
    days = sorted({day for row in queries._rows(
        view, "SELECT effective_from, effective_to FROM changes") for day in row}
        | {"1990-01-01", "2099-12-31"})
    asked += [(Clock(effective_on=day, possible=possible),
               Clock(known_at_position=view.position(), effective_on=day, possible=possible))
              for day in rng.sample(days, min(count * 2, len(days))) for possible in (False, True)]
    assert party_rows(view)
    assert not view.unsettled()
    key = lambda row: (row["instrument"], row["bucket"], row["party"], row["detail"])
    for rows, steps in asked:
        for code in codes:
            assert sorted(map(dict, queries.summary_members(view, [code], rows)), key=key) == sorted(
                map(dict, queries.summary_members(view, [code], steps)), key=key), (code, rows)
            assert queries.matrix_rows(view, code, rows) == queries.matrix_rows(
                view, code, steps), (code, rows)


def assert_dashboards_match_folds(database_url: str, count: int) -> None:
    with Projector(database_url, batch=7) as projector:
        projector.catch_up()
        view = projector.view
        for clock in clocks(view, random.Random(3), count):
            assert kept(view, clock) == folded(view, clock), clock
        assert_party_rows_match_steps(view, random.Random(5), count)
        followed = party_rows(view)
        projector.rebuild()  # a bulk load keeps the parties in memory from batch to batch
        assert party_rows(view) == followed


def synthetic(database_url: str, events: int, seed: int) -> None:
    ledger = Ledger(database_url)
    generate(ledger, events, seed=seed)
    ledger.close()


def test_dashboards_equal_folding_every_entity_on_the_demo_data(database_url):
    ledger = Ledger(database_url)
    load_demo(ledger)
    ledger.close()
    assert_dashboards_match_folds(database_url, 6)


@pytest.mark.parametrize("events", [5000, pytest.param(100_000, marks=pytest.mark.soak)])
def test_dashboards_equal_folding_every_entity_on_a_synthetic_log(database_url, events):
    synthetic(database_url, events, seed=13)
    assert_dashboards_match_folds(database_url, 3)


def test_a_bulk_load_reads_the_parties_again_after_a_batch_rolled_back(database_url):
    """A bulk load keeps the parties' rows in memory from batch to batch only while the read
    model is at the position it kept them at: after a batch whose transaction rolled back, it
    reads them from `boards` again, and writes the same rows as a rebuild that never failed."""
    synthetic(database_url, 3000, seed=17)
    with Projector(database_url) as projector:
        projector.rebuild()
        view = projector.view
        clean = party_rows(view)
        view.drop_model_tables()
        events = [(logged, orjson.loads(logged.state)) for logged in projector.ledger.read(0, 1000)]
        with pytest.raises(RuntimeError), view.transaction() as cursor:
            view.process_in(cursor, events, bulk=True)
            raise RuntimeError("the batch fails after its rows are written")
        assert view.position() == 0
        projector.project_into(view, [view], bulk=True)
        with view.transaction() as cursor:
            view.finish_rebuild(cursor)
        assert party_rows(view) == clean


def test_summary_answers_follow_the_day_due_dates_are_judged_by(database_url):
    """Overdue obligations and missing or pending reports depend on the day asked, not on the
    day the dashboard was kept: the same read model answers each day as folding would."""
    synthetic(database_url, 3000, seed=21)
    with Projector(database_url) as projector:
        projector.catch_up()
        view = projector.view
        for today in ("2009-01-01", "2013-06-30", "2016-02-29", "2030-01-01"):
            summary = queries.instrument_summary(view, "CCM", today)
            obligations = queries.entities(view, "obligations")
            overdue = {o["party"] for o in obligations if o["obligation_kind"] == "clearance"
                       and not o["completed"] and o["due_on"] and o["due_on"] < today}
            assert set(summary["obligations"]["clearance"].get("overdue", [])) == overdue
            reports = queries.entities(view, "reports")
            for timeliness in ("missing", "pending"):
                expected = {r["party"] for r in reports
                            if queries.report_timeliness(r, today) == timeliness}
                assert set(summary["reports"]["annual"].get(timeliness, [])) == expected
            listed = queries.overdue(view, today)
            assert [(s["due_on"], s["path"]) for s in listed] == sorted(
                (s["due_on"], s["path"]) for kind in ("commitments", "obligations", "reports")
                for s in queries.entities(view, kind) if queries.is_overdue(s, today))
            assert any(listed) or today == "2009-01-01"


def test_a_date_alone_is_answered_from_the_steps_until_the_parties_are_settled(database_url):
    """Batches mark the parties whose steps they change as unsettled; until the projector has
    caught up and settled them, a summary or a matrix as effective on a date is summed from
    the steps (the settled rows are out of date), then read from the settled rows again. A
    settle whose rows were read before a batch leaves that batch's parties unsettled."""
    synthetic(database_url, 2000, seed=23)
    with Projector(database_url) as projector:
        view = projector.view
        events = [(logged, orjson.loads(logged.state)) for logged in projector.ledger.read(0, 3000)]
        with view.transaction() as cursor:
            view.process_in(cursor, events[:1000])
        settle(view)
        with view.transaction() as cursor:
            view.process_in(cursor, events[1000:1900])
        # a settle that read its rows before the last batch writes only the parties that
        # batch left alone: the others keep their marks
        marks = view.unsettled()
        with view.reading() as cursor:
            found = {key: view.effective_rows(cursor, key) for key in marks}
        with view.transaction() as cursor:
            view.process_in(cursor, events[1900:])
        moved = {key for key, position in view.unsettled().items() if marks.get(key) != position}
        assert moved and set(marks) - moved
        with view.transaction() as cursor:
            assert view.settle(cursor, marks, found) == len(set(marks) - moved)
        assert set(view.unsettled()) == moved
        day = "2015-06-30"
        dated, stepped = Clock(effective_on=day), Clock(known_at_position=view.position(),
                                                        effective_on=day)
        stale = queries._rows(view, "SELECT e.party, e.body FROM board_party_effective e WHERE "
                                    "e.board = 'matrix' AND e.instrument = 'VAP' AND e.effective "
                                    "= (SELECT MAX(effective) FROM board_party_effective f WHERE "
                                    "f.board = e.board AND f.instrument = e.instrument AND "
                                    "f.party = e.party AND f.effective <= ?)", (day,))
        truth = queries.matrix_rows(view, "VAP", stepped)
        assert {row["party"]: cells for row in stale
                if (cells := orjson.loads(row["body"]))} != truth
        assert queries.matrix_rows(view, "VAP", dated) == truth
        settle(view)
        assert not view.unsettled()
        assert queries.matrix_rows(view, "VAP", dated) == truth
        key = lambda row: (row["instrument"], row["bucket"], row["party"], row["detail"])
        assert sorted(map(dict, queries.summary_members(view, ["CCM"], dated)), key=key) == sorted(
            map(dict, queries.summary_members(view, ["CCM"], stepped)), key=key)


def test_a_projector_settles_after_catching_up_at_most_once_in_settle_every(
        database_url, monkeypatch):
    """While writes keep coming, a projector that has caught up settles at most once every
    SETTLE_EVERY seconds; once that time has passed, the next catch-up settles what is left."""
    synthetic(database_url, 1500, seed=29)
    ledger = Ledger(database_url)
    with Projector(database_url) as projector:
        projector.catch_up()  # the first catch-up settles
        assert not projector.view.unsettled()
        generate(ledger, 300, seed=31)  # more writes, within SETTLE_EVERY of that settle
        monkeypatch.setattr(runner, "SETTLE_EVERY", 3600.0)
        projector.catch_up()
        assert projector.view.unsettled()
        monkeypatch.setattr(runner, "SETTLE_EVERY", 0.0)
        projector.catch_up()  # nothing new to project: settles all the same
        assert not projector.view.unsettled()
    ledger.close()
