"""Change-log queries read their rows in log order from an index, so a page costs the rows it
shows, not every row that matches (SQLite's plans; PostgreSQL picks its plans from statistics,
and the benchmarks measure both)."""

from __future__ import annotations

import pytest

from projections.queries import ChangeFilter, _rows, selection
from projections.runner import Projector
from tests.factories import run, setup_ccm

FILTERS = {
    "party": (ChangeFilter(party="HRV"), "change_refs_by_ref"),
    "instrument and kind": (ChangeFilter(instrument="CCM", kind="reports"), "change_refs_by_ref"),
    "action and party": (ChangeFilter(action="VAP:14", party="HRV"), "change_refs_by_ref"),
    "words": (ChangeFilter(q="stockpile plan"), "VIRTUAL TABLE"),
    "words and party": (ChangeFilter(q="stockpile", party="HRV"), "change_refs_by_ref"),
    "kind": (ChangeFilter(kind="ReportSubmitted"), "changes_by_type"),
    "recorded range": (ChangeFilter(recorded_from="2000-01-01T00:00:00+00:00"), ""),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_pages_in_log_order_from_an_index(tmp_path, name):
    url = f"sqlite:///{tmp_path}/ledger.db"
    with Projector(url) as projector:
        setup_ccm(projector.ledger)
        run(projector.ledger, "declare_obligation", id="o1", party="HRV", provision="CCM:3",
            kind="stockpile_destruction", description="A stockpile plan")
        projector.catch_up()
        where, index = FILTERS[name]
        found = selection(projector.view, where)
        sql = (f"EXPLAIN QUERY PLAN SELECT c.position FROM {found.source} WHERE "
               f"{' AND '.join(found.clauses)} ORDER BY {found.order} DESC LIMIT 50")
        plan = " / ".join(row["detail"] for row in _rows(projector.view, sql, found.params))
    assert "TEMP B-TREE" not in plan, plan  # no sort of every match before the first page
    assert "LIST SUBQUERY" not in plan, plan  # no set of every match built for each page
    assert index in plan.split(" / ")[0], plan
