"""What documents state, as data: statements filtered on every field, a document's own totals
beside the parties the ledger names, an action plan's records under its treaty, and dates known
only as an interval counted as certain from its end and possible within it."""

from __future__ import annotations

import pytest

from ledger import errors
from projections.queries import (
    ChangeFilter,
    Clock,
    StatementFilter,
    changes,
    entities,
    entity,
    instrument_summary,
    progress_matrix,
    statements,
)
from tests.factories import run, setup_ccm


def beirut(ledger) -> None:
    """Seed 003's vocabulary and a few of its statements: Croatia a State Party with a stockpile
    destruction plan (para 29, fn 11); Canada called a signatory in fn 15 and a State Party in
    fn 22; the report's own totals of States Parties and of plans."""
    setup_ccm(ledger)
    run(ledger, "register_party", code="CAN", name="Canada", kind="state")
    run(ledger, "register_party", code="LBY", name="Libya", kind="state")
    run(ledger, "add_provision", instrument="VAP", number="8", kind="action",
        title="Action #8: Stockpile destruction")
    for code, label, area in (("states-parties", "States Parties", "universalization"),
                              ("destruction-plan", "Has a destruction plan", "stockpile_destruction"),
                              ("early-completion", "Will finish well before its deadline",
                               "stockpile_destruction")):
        run(ledger, "add_statement_code", instrument="CCM", code=code, label=label, area=area)
    run(ledger, "add_statement_code", instrument="VAP", code="use-reported",
        label="Use of cluster munitions reported", area="compliance")
    run(ledger, "change_treaty_status", party="HRV", instrument="CCM", status="state_party",
        on="2011-08-20", effective_on="2010-11-09/2011-08-20")
    run(ledger, "change_treaty_status", party="CAN", instrument="CCM", status="signed",
        on="2011-08-20", effective_on="2011-08-20")
    run(ledger, "record_statement", id="b-29-HRV", instrument="VAP", code="destruction-plan",
        party="HRV", described_as="state_party", provisions=["CCM:3", "VAP:8"],
        text="Croatia has a destruction plan in place.", effective_on="2011-08-20")
    run(ledger, "record_statement", id="b-29-total", instrument="CCM", code="destruction-plan",
        described_as="state_party", quantity={"value": "3", "unit": "States Parties"},
        text="Three others have a destruction plan.", effective_on="2011-08-20")
    run(ledger, "record_statement", id="b-34-CAN", instrument="CCM", code="early-completion",
        party="CAN", described_as="state_party", provisions=["CCM:3"],
        text="Listed among five States Parties that would finish early.", effective_on="2011-08-20")
    run(ledger, "record_statement", id="b-4-total", instrument="CCM", code="states-parties",
        described_as="state_party", quantity={"value": "60", "unit": "States"},
        text="Membership has increased by 30% to 60 States Parties.", effective_on="2011-08-20")
    run(ledger, "record_statement", id="b-22-LBY", instrument="VAP", code="use-reported",
        territory="LBY", text="Use of cluster munitions in Libya in 2011; no user named.",
        effective_on="2011-01-01/2011-06-30")


def test_statements_are_filtered_on_every_field_and_count_under_the_treaty(ledger, projector):
    beirut(ledger)
    projector.catch_up()
    view = projector.view

    def ids(**where):
        return [s["id"] for s in statements(view, where=StatementFilter(**where))]

    assert ids(instrument="CCM", code="destruction-plan") == ["b-29-HRV", "b-29-total"]
    assert ids(instrument="VAP") == ["b-22-LBY", "b-29-HRV"]
    assert ids(action="VAP:8") == ["b-29-HRV"]
    assert ids(party="CAN", described_as="state_party") == ["b-34-CAN"]
    assert ids(area="stockpile_destruction", figures=False) == ["b-29-HRV", "b-34-CAN"]
    assert ids(figures=True) == ["b-29-total", "b-4-total"]
    assert ids(territory="LBY") == ["b-22-LBY"]
    croatia = entity(view, "statements/b-29-HRV")
    assert croatia["sources"][0]["paragraph"] == "4" and croatia["on"] == "2011-08-20"


def test_a_code_must_be_in_the_vocabulary_of_the_instrument_or_its_treaty(ledger):
    beirut(ledger)
    with pytest.raises(errors.StatementCodeNotFound) as refused:
        run(ledger, "record_statement", id="x", instrument="CCM", code="use-reported",
            party="HRV", text="A VAP code is not the treaty's")
    assert refused.value.field == "code" and "add_statement_code" in str(refused.value)
    with pytest.raises(errors.AlreadyExists):
        run(ledger, "add_statement_code", instrument="CCM", code="states-parties", label="again")


def test_the_summary_sets_each_stated_total_beside_the_parties_named(ledger, projector):
    beirut(ledger)
    projector.catch_up()
    summary = instrument_summary(projector.view, "CCM", "2011-08-20",
                                 Clock(effective_on="2011-08-20"))
    plans = summary["statements"]["destruction-plan"]
    assert plans["label"] == "Has a destruction plan"
    assert plans["by"]["state_party"] | {"figures": None} == {
        "named": ["HRV"], "count": 1, "stated": "3", "difference": 2, "figures": None}
    assert summary["totals"]["states_parties"]["named"] == ["HRV"]
    assert summary["totals"]["states_parties"]["stated"] == "60"
    assert summary["totals"]["states_parties"]["difference"] == 59
    # Canada: a signatory by its status, a State Party in one footnote: both stay visible
    assert summary["described_differently"] == {
        "CAN": {"signatory": ["status"], "state_party": ["b-34-CAN"]}}
    matrix = progress_matrix(projector.view, "VAP")
    assert matrix["parties"]["HRV"] == {"8": "stated"}


def test_a_fact_dated_by_an_interval_is_certain_from_its_end_and_possible_within(
    ledger, projector
):
    """Croatia became a State Party some time between the 1MSP and 20 August 2011."""
    beirut(ledger)
    projector.catch_up()
    view = projector.view
    before = entity(view, "parties/HRV", Clock(effective_on="2011-06-30"))
    assert before is not None, "a registered party exists on any date"
    assert before["statuses"] == {}
    assert [u["type"] for u in before["uncertain"]] == ["TreatyStatusChanged"]
    possible = entity(view, "parties/HRV", Clock(effective_on="2011-06-30", possible=True))
    assert possible["statuses"]["CCM"]["status"] == "state_party"
    after = entity(view, "parties/HRV", Clock(effective_on="2011-08-20"))
    assert after["statuses"]["CCM"]["status"] == "state_party" and after["uncertain"] == []
    assert entity(view, "parties/HRV", Clock(effective_on="2001-01-01"))["code"] == "HRV"


def test_a_compliance_case_dated_over_years_is_resolved_only_from_the_end(ledger, projector):
    """Seed 004: South Sudan's case was filed and resolved some time since the Third Review
    Conference; as effective on 2016-06-30 its resolution is possible, not certain."""
    run(ledger, "register_instrument", code="APMBC", title="Mine Ban Convention", kind="treaty")
    run(ledger, "add_provision", instrument="APMBC", number="1.1", kind="article",
        title="General obligations")
    run(ledger, "register_party", code="SSD", name="South Sudan", kind="state")
    span = "2014-06-27/2019-10-15"
    run(ledger, "file_allegation", id="cc-SSD", against="SSD", provision="APMBC:1.1",
        filed_by="not named", summary="Allegations surfaced", effective_on="2014-06-27")
    run(ledger, "open_review", allegation="cc-SSD", effective_on="2014-06-27")
    run(ledger, "resolve_allegation", allegation="cc-SSD", outcome="not_credible",
        effective_on=span)
    projector.catch_up()
    view = projector.view
    certain = entity(view, "allegations/cc-SSD", Clock(effective_on="2016-06-30"))
    assert certain["state"] == "under_review" and certain["outcome"] is None
    assert [u["type"] for u in certain["uncertain"]] == ["AllegationResolved"]
    possible = entity(view, "allegations/cc-SSD", Clock(effective_on="2016-06-30", possible=True))
    assert possible["outcome"] == "not_credible"
    summary = instrument_summary(view, "APMBC", "2016-06-30", Clock(effective_on="2016-06-30"))
    assert summary["allegations"] == {"under_review": ["SSD"]}
    assert entity(view, "allegations/cc-SSD", Clock(effective_on="2019-10-15"))["state"] == "resolved"


def test_an_allegation_may_name_no_user_but_the_territory(ledger, projector):
    beirut(ledger)
    run(ledger, "add_provision", instrument="CCM", number="1", kind="article", title="General")
    run(ledger, "file_allegation", id="use-LBY", provision="CCM:1", territory="LBY",
        filed_by="Human Rights Watch", summary="Use of cluster munitions in Libya")
    projector.catch_up()
    state = entity(projector.view, "allegations/use-LBY")
    assert state["against"] is None and state["territory"] == "LBY"
    assert instrument_summary(projector.view, "CCM", "2011-08-20")["allegations"] == {
        "filed": ["(not named)"]}


def test_the_change_log_selects_statements_by_code_and_description(ledger, projector):
    """So a count in a summary or a report links to a change-log query (and feed) whose rows
    are exactly the statements it counts."""
    beirut(ledger)
    projector.catch_up()
    rows = changes(projector.view, ChangeFilter(instrument="CCM", code="destruction-plan",
                                                described_as="state_party"))
    assert [row["entity"] for row in rows] == ["statements/b-29-HRV", "statements/b-29-total"]
    rows = changes(projector.view, ChangeFilter(code="early-completion", party="CAN"))
    assert [row["entity"] for row in rows] == ["statements/b-34-CAN"]


@pytest.mark.parametrize("clock", [
    Clock(effective_on="2011-06-30"), Clock(effective_on="2011-06-30", possible=True),
    Clock(known_at_position=30), Clock(known_at_position=30, effective_on="2011-08-20"),
])
def test_a_list_on_another_clock_folds_each_entity_as_one_read_would(ledger, projector, clock):
    beirut(ledger)
    projector.catch_up()
    view = projector.view
    for kind in ("parties", "statements", "instruments"):
        paths = [s["path"] for s in entities(view, kind)]
        one_by_one = [state for path in paths if (state := entity(view, path, clock))]
        assert entities(view, kind, clock) == one_by_one, kind
