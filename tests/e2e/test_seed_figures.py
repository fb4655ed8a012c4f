"""Every figure the Beirut Progress Report (seed 003, paragraphs 4-78 and their footnotes) and the
APMBC review 2014-2019 (seed 004, paragraphs 5-22) state, asked of the served demo data through
the HTTP API with structured filters only: the parties each figure names, the document's own
total beside them in the summary, and the difference (ledger/demo/FIGURES.md explains each row)."""

from __future__ import annotations

from functools import cache

import pytest

SP, SIG, ST, SNP, ORG = "state_party", "signatory", "state", "state_not_party", "organisation"

# (paragraph, footnote, statement code, described_as, stated value or None, the parties the
# ledger names for that code and description). A footnote in brackets is a sub-paragraph; the
# named parties are those of every figure sharing the code and description (FIGURES.md), so a
# figure the paragraph states without naming anyone shows the names its footnotes give, or none.
SEED_003 = [
    ("4", None, "membership-growth-since-1msp", None, "30", ""),
    ("4", None, "ratification-expected-by-end-2011", SIG, "9",
     "AFG AUS CMR COD CZE DOM GMB ITA PER ZAF"),
    ("5", None, "cluster-munitions-use-2011", None, "2", "THA"),
    ("7", None, "stockpiles-reported", SP, "11", "BIH CHL DEU DNK FRA GBR GNB HRV JPN NLD SVN"),
    ("7", None, "stockpile-destruction-process-started", SP, "7",
     "DEU DNK FRA GBR HRV JPN NLD SVN"),
    ("17", None, "states-parties-at-1msp", SP, "46", ""),
    ("17", "(list)", "ratified-since-1msp", SP, "13",
     "BGR BWA CHL CRI GHA GNB GRD LTU MOZ NLD PAN PRT SLV"),
    ("17", "2", "acceded-since-1msp", ST, "1", ""),
    ("18", "3", "ratification-close", SIG, "6", "AFG AUS CMR CZE ITA PER ZAF"),
    ("18", "4", "ratification-imminent", SIG, "3", "COD DOM GMB"),
    ("19", "5", "adherence-promoted", SP, "9", "BEL FRA GBR HRV JPN LAO LBN MEX NOR"),
    ("19", "6", "adherence-promoted", SIG, "1", "AUS"),
    ("20", "7", "states-not-party-encouraged", ST, "11",
     "AUS BEL FRA GBR HRV JPN LAO LBN MEX NOR UGA"),
    ("20", None, "outreach-responses", ST, "90", ""),
    ("21", None, "cluster-munitions-use-2011", None, None, "THA"),
    ("21", None, "ccm-workshop-held", None, None, "THA"),
    ("22", None, "cluster-munitions-use-2011", None, None, "THA"),
    ("22", None, "use-condemned", ORG, None, "CMC EU HRW"),
    ("23", "8", "civil-society-advocacy-funded", ST, "4", "AUS IRL NOR NZL"),
    ("24", None, "adherence-promoted", ORG, None, "CMC ICRC UNMAT"),
    ("24", None, "civil-society-advocacy-countries", None, "100", ""),
    ("29", "9", "stockpile-destruction-obligation-declared", SP, "7",
     "DEU DNK FRA GBR HRV JPN SVN"),
    ("29", "10", "stockpile-destruction-begun", SP, "3", "DEU FRA GBR NLD"),
    ("29", "11", "stockpile-destruction-plan", SP, "3", "DNK HRV SVN"),
    ("29", "12", "stockpile-destruction-tender", SP, "1", "JPN"),
    ("29", "13", "stockpile-destruction-completed", SP, "8", "AUT BEL ECU ESP MDA MNE NOR PRT"),
    ("29", None, "stockpile-destruction-completed-before-eif", SP, "7", ""),
    ("30", "14", "stockpiles-held-report-not-due", SP, "4", "BIH CHL GNB NLD"),
    ("30", "15", "stockpiles-declared-voluntary-report", SIG, "1", "CAN"),
    ("30", "16", "stockpiles-previous", SIG, "5", "AUS COL HND HUN IRQ"),
    ("30", "17", "stockpiles-existing", SIG, "15",
     "AGO CAN CHE CIV COG CZE GIN IDN ITA NGA PER RWA SWE UGA ZAF"),
    ("31", None, "stockpile-action-8-steps", SP, "15",
     "AUT BEL DEU DNK ECU ESP FRA GBR HRV JPN MDA MNE NOR PRT SVN"),
    ("31", "18", "stockpile-numbers-reported", SP, "7", "DEU DNK FRA GBR HRV JPN SVN"),
    ("32", None, "submunitions-destroyed", None, "64448458", ""),
    ("32", "19", "low-cost-destruction", SP, "1", "MDA"),
    ("33", "20", "stockpile-destruction-completed", SIG, "1", "HUN"),
    ("33", "21", "stockpile-destruction-assistance-required", SP, "3", "BIH GNB HRV"),
    ("34", "22", "stockpile-destruction-early-finish", SP, "5", "BIH CAN DEU GBR HRV"),
    ("34", "23", "stockpile-destruction-assistance-offered", SP, "2", "CHE NOR"),
    ("34", "24", "stockpile-destruction-experience-shared", SP, "1", "GBR"),
    ("34", "24", "stockpile-destruction-experience-shared", SIG, "1", "COL"),
    ("34", "25", "stockpile-destruction-technical-assistance-received", SP, "3", "BIH HRV MDA"),
    ("35", "26", "retention-declared", SP, "6", "BEL DEU DNK ESP FRA GBR"),
    ("35", "27", "retention-declared", SIG, "2", "AUS CZE"),
    ("35", "28", "retention-types-reported", SP, "5", "BEL DEU ESP FRA GBR"),
    ("35", "29", "retention-quantities-reported", SP, "4", "BEL ESP FRA GBR"),
    ("36", "30", "retention-quantities-being-determined", SP, "2", "DEU DNK"),
    ("36", "31", "retention-consumption-reported", SP, "3", "BEL DEU GBR"),
    ("36", None, "retention-without-stockpiles", SP, "0", ""),
    ("36", "32", "retention-inert-items-only", SP, "2", "HRV MDA"),
    ("38", "33", "clearance-obligation", SP, "7", "BIH DEU GNB HRV LAO LBN NOR"),
    ("38", "34", "clearance-obligation", SIG, "7", "AFG AGO COD COG IRQ MRT TCD"),
    ("8", None, "clearance-obligation", None, "14", ""),
    ("38", "35", "most-heavily-affected", SP, "1", "LAO"),
    ("38", "35", "most-heavily-affected", SIG, "1", "IRQ"),
    ("38", "36", "most-heavily-affected", ST, "4", "IRQ KHM LAO VNM"),
    ("38", None, "contamination-estimated-cmc", ST, "28", ""),
    ("38", None, "contamination-estimated-cmc", None, "3", ""),
    ("40", "37", "clearance-completed", SP, "2", "ALB ZMB"),
    ("41", "38", "clearance-priorities-progress-reported", SP, "6", "BIH DEU HRV LAO LBN NOR"),
    ("41", "39", "contamination-steps-reported", SIG, "5", "AFG COD IRQ MRT SDN"),
    ("42", "40", "clearance-methods-reported", SP, "3", "BIH LAO LBN"),
    ("42", "41", "contaminated-areas-size-location-reported", SP, "6", "BIH DEU HRV LAO LBN NOR"),
    ("43", None, "affected-communities-included", SP, "0", ""),
    ("44", "42", "risk-reduction-reported", SP, "6", "ALB BEL DEU HRV LAO NOR"),
    ("44", None, "cluster-munitions-affected", SP, "8", ""),
    ("44", "43", "risk-reduction-reported", SIG, "2", "COD IRQ"),
    ("45", None, "land-release-paper", ORG, None, "CMC"),
    ("47", "44", "victim-assistance-obligation", SP, "8", "ALB BIH HRV LAO LBN MNE MOZ SLE"),
    ("47", "45", "victim-assistance-obligation", SIG, "5", "AFG AGO COD IRQ TCD"),
    ("47", "46", "worst-affected-victims", SP, "2", "LAO LBN"),
    ("47", "47", "worst-affected-victims", SIG, "2", "AFG IRQ"),
    ("47", "48", "worst-affected-victims", SNP, "2", "KHM VNM"),
    ("48", "49", "va-coordination-data-collection", SP, "5", "ALB BIH HRV LAO LBN"),
    ("48", "50", "va-integration-policy-review", SP, "4", "ALB BIH HRV LAO"),
    ("49", None, "va-no-time-bound-actions", SP, "3", "MNE MOZ SLE"),
    ("49", None, "va-actions-23-26-not-reported", SP, "1", "LBN"),
    ("50", "51", "va-data-collection-started", SIG, "2", "AGO IRQ"),
    ("51", "52", "va-plans-budgets", SP, "5", "ALB BIH HRV LAO LBN"),
    ("51", None, "va-plans-build-on-mine-ban-plans", SP, "3", ""),
    ("53", None, "survivors-in-delegations", ST, "0", ""),
    ("53", "53", "survivor-cooperation", SP, "5", "ALB BIH HRV LAO LBN"),
    ("58", "54", "operative-obligations", SP, "19",
     "ALB BGR BIH CHL DEU DNK FRA GBR GNB HRV JPN LAO LBN MNE MOZ NLD NOR SLE SVN"),
    ("58", "55", "assistance-needed", SP, "6", "ALB BIH GNB HRV LAO LBN"),
    ("59", "56", "assistance-needed-stockpile-destruction", SP, "3", "BIH GNB HRV"),
    ("59", "57", "assistance-needed-stockpile-destruction", SIG, "1", "CIV"),
    ("59", "58", "assistance-needed-clearance", SP, "3", "HRV LAO LBN"),
    ("59", "59", "assistance-needed-clearance", SIG, "2", "AFG IRQ"),
    ("59", "60", "assistance-needed-victim-assistance", SP, "3", "ALB LAO LBN"),
    ("59", "61", "assistance-needed-victim-assistance", SIG, "1", "AFG"),
    ("60", "62", "funding-provided", SP, "15",
     "AUT BEL DEU DNK ESP FRA GBR IRL JPN LTU LUX NOR NZL SVN VAT"),
    ("60", "64", "funding-provided", SIG, None, "AUS CHE"),
    ("60", "63", "funding-received", SP, "3", "ALB LAO MDA"),
    ("61", "65", "sd-assistance-actions-33-36", SP, "1", "HRV"),
    ("61", "66", "sd-partner-identified", SP, "1", "BIH"),
    ("62", "67", "sd-needs-no-plan-yet", SP, "1", "GNB"),
    ("63", None, "stockpile-destruction-assistance-offered", ORG, None, "UNMAT"),
    ("64", "68", "clearance-assistance-actions-33-36", SP, "1", "LAO"),
    ("65", "69", "va-assistance-actions-33-36", SP, "2", "ALB LAO"),
    ("68", "70", "isu-proposal", SP, "2", "CHE NOR"),
    ("71", None, "article-7-deadline", SP, "47", ""),
    ("71", None, "initial-report-submitted", SP, "32",
     "ALB AUT BEL DEU DNK ESP FRA GBR HRV IRL JPN LAO LTU LUX MDA NOR NZL SVN VAT"),
    ("14", None, "initial-report-on-time", SP, "26", ""),
    ("14", None, "initial-report-late", SP, "9", ""),
    ("71", "71", "initial-report-voluntary", None, "2", "CAN COD"),
    ("74", "72", "legislation-adopted-or-sufficient", SP, "19",
     "AUT BEL DEU ESP FRA GBR IRL JPN LTU LUX MDA MEX MLT MNE NOR NZL SMR SVN VAT"),
    ("74", "73", "legislation-specific-law", SP, "11",
     "AUT BEL DEU ESP FRA GBR IRL JPN LUX NOR NZL"),
    ("74", "74", "legislation-existing-adequate", SP, "8", "LTU MDA MEX MLT MNE SMR SVN VAT"),
    ("74", "75", "legislation-in-process", SP, "6", "ALB BFA HRV LAO MWI ZMB"),
    ("74", "76", "legislation-in-process", SIG, "3", "AUS CAN COD"),
    ("75", None, "nim-guides-submitted", None, "2", ""),
    ("76", "77", "state-agencies-informed", SP, "2", "IRL NOR"),
    ("78", None, "serious-non-compliance-raised", None, "0", ""),
]
SEED_004 = [
    ("5", None, "individualised-approach-participant", SP, "7",
     "AGO ECU HRV LKA SDN SOM SRB TJK ZWE"),
    ("8", None, "mine-action-funding-total", None, "1900000000", ""),
    ("8", None, "mine-action-funding-annual", None, "430700000", ""),
    ("8", None, "mine-action-funding-annual", None, "376500000", ""),
    ("8", None, "mine-action-funding-annual", None, "482900000", ""),
    ("8", None, "mine-action-funding-annual", None, "673200000", ""),
    ("8", None, "mine-action-funding-major-recipient", ST, None, "AFG COL IRQ LAO SYR"),
    ("8", None, "mine-action-funding-major-recipients-share", None, "65", ""),
    ("9", None, "stakeholder-consultations-funded", ORG, None, "EU"),
    ("9", None, "va-stakeholder-dialogue-held", None, None, "IRQ SSD UGA"),
    ("9", None, "clearance-stakeholder-dialogue-held", None, None, "BIH SEN"),
    ("9", None, "va-global-conference-held", None, None, ""),
    ("10", None, "national-strategy-launched-reviewed", SP, None,
     "AFG AGO BIH KHM LKA SOM TJK TUR ZWE"),
    ("11", None, "mine-action-development-awareness", ORG, None, "GICHD UNDP"),
    ("13", None, "exchange-visits-hosted", SP, None, "KHM"),
    ("13", None, "exchange-visit-made", SP, None, "COL"),
    ("14", None, "joint-clearance-border", ST, None, "ECU KHM PER THA"),
    ("14", None, "clearance-in-peace-agreement", None, None, "COL"),
    ("18", None, "legislation-adopted-at-3rc", SP, "63", ""),
    ("18", None, "existing-laws-sufficient-at-3rc", SP, "37", ""),
    ("18", None, "no-legislation-reported-at-3rc", SP, "61", ""),
    ("18", None, "no-legislation-reported-at-3rc-share", None, "40", ""),
    ("18", "(a)", "acceded-since-3rc", SP, "3", "LKA OMN PSE"),
    ("18", "(a)", "legislation-adopted", SP, None, "AFG BGR FIN FJI KEN KNA OMN PRY SDN"),
    ("19", None, "legislation-adopted", SP, "72", "AFG BGR FIN FJI KEN KNA OMN PRY SDN"),
    ("18", "(b)", "legislation-adopted", SP, None, "AFG BGR FIN FJI KEN KNA OMN PRY SDN"),
    ("18", "(b)", "legislation-adopted-since-3rc", SP, "8", "AFG BGR FIN FJI KEN KNA PRY SDN"),
    ("18", "(c)", "existing-laws-sufficient", SP, None, "AGO CIV THA"),
    ("19", None, "existing-laws-sufficient", SP, "39", "AGO CIV THA"),
    ("18", "(c)", "existing-laws-sufficient-since-3rc", SP, "3", "AGO CIV THA"),
    ("18", "(a)", "no-legislation-reported", SP, None, "LKA PSE"),
    ("19", None, "no-legislation-reported", SP, "53", "LKA PSE"),
    ("21", None, "compliance-allegations-considered", SP, None, "SDN SSD UKR YEM"),
    ("21", None, "allegations-found-not-credible", SP, "1", "SSD"),
    ("21", None, "compliance-security-challenge", SP, None, "SDN UKR YEM"),
    ("22", None, "compliance-dialogue-civil-society", ORG, None, "HRW ICBL"),
]

AS_OF = {"CCM": "2011-08-20", "APMBC": "2019-10-15"}
ROWS = [("CCM", *row) for row in SEED_003] + [("APMBC", *row) for row in SEED_004]


def get(client, path, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def summary(demo):
    """The treaty's summary as effective on the document's date (once per store)."""
    return cache(lambda treaty: get(demo, f"/v1/summary/{treaty}", effective_on=AS_OF[treaty]))


def statements(client, described_as, **filters):
    """The statements of one description (None: the document does not describe the party)."""
    if described_as is not None:
        filters["described_as"] = described_as
    found = get(client, "/v1/statements", **filters)
    return [s for s in found if s["described_as"] == described_as]


@pytest.mark.parametrize(("treaty", "para", "footnote", "code", "described_as", "stated", "named"),
                         ROWS, ids=[f"{r[0]}-{r[1]}-{r[2] or ''}-{r[3]}-{r[4]}" for r in ROWS])
def test_each_figure_names_its_parties_beside_the_stated_total(
    demo, summary, treaty, para, footnote, code, described_as, stated, named
):
    where = f"{treaty} para {para} footnote {footnote}: {code} ({described_as})"
    found = statements(demo, described_as, instrument=treaty, code=code, figures="false")
    assert sorted({s["party"] for s in found if s["party"]}) == named.split(), where
    assert all(s["sources"][0]["paragraph"] for s in found), where
    if not named and stated is None:  # a fact with no party named (a place): nothing to count
        return
    by = summary(treaty)["statements"][code]["by"][described_as or "any"]
    if described_as is None:  # a total that does not describe its parties counts them all
        every = get(demo, "/v1/statements", instrument=treaty, code=code, figures="false")
        named = " ".join(sorted({s["party"] for s in every if s["party"]}))
    assert by["named"] == named.split(), where
    if stated is None:
        return
    totals = statements(demo, described_as, instrument=treaty, code=code, figures="true")
    assert stated in [s["quantity"]["value"] for s in totals], where
    assert stated in [f["value"] for f in by["figures"]], where
    if by["stated"] == stated and by["figures"][-1]["unit"] == "States":
        assert by["difference"] == int(stated) - len(named.split()), where


def test_states_parties_and_signatories_beside_the_reports_totals(summary):
    totals = summary("CCM")["totals"]
    parties, signatories = totals["states_parties"], totals["signatories"]
    # para 17's 13 ratifications and the 29 other States Parties the report names
    assert (parties["stated"], parties["count"], parties["difference"]) == ("60", 42, 18)
    assert {"HRV", "LAO", "NOR", "BWA", "PRT"} <= set(parties["named"])
    # the 28 signatories the report names, of 49
    assert (signatories["stated"], signatories["count"], signatories["difference"]) == (
        "49", 28, 21)
    assert {"CAN", "CHE", "AUS", "IRQ"} <= set(signatories["named"])


def test_croatia_as_effective_before_the_reports_date(demo):
    """Croatia was a State Party by 20 August 2011 (the report); when it became one the report
    does not say, so on 30 June 2011 it is possibly, not certainly, a State Party."""
    certain = get(demo, "/v1/parties/HRV", effective_on="2011-06-30")
    assert certain["code"] == "HRV" and "CCM" not in certain["statuses"]
    # its CCM status (some time up to 20 August 2011) and its APMBC status (up to 2014: seed 004)
    assert sorted(u["effective_on"] for u in certain["uncertain"]) == [
        "1997-01-01/2014-12-31", "2008-12-03/2011-08-20"]
    possible = get(demo, "/v1/parties/HRV", effective_on="2011-06-30", include="possible")
    assert possible["statuses"]["CCM"]["status"] == "state_party"
    assert get(demo, "/v1/parties/HRV", effective_on="2011-08-20")["statuses"]["CCM"][
        "status"] == "state_party"


def test_south_sudans_case_is_certainly_resolved_only_from_the_end_of_its_interval(demo):
    """Every step of the case, its filing too, happened 'since the Third Review Conference'
    (2014-01-01/2019-10-15): on 30 June 2016 nothing of it is certain, all of it possible."""
    path = "/v1/allegations/apmbc-cc-2019-SSD"
    assert demo.get(path, params={"effective_on": "2016-06-30"}).status_code == 404
    possible = get(demo, path, effective_on="2016-06-30", include="possible")
    assert (possible["state"], possible["outcome"]) == ("resolved", "not_credible")
    assert get(demo, path, effective_on="2019-10-15")["state"] == "resolved"
    cases = get(demo, "/v1/summary/APMBC", effective_on="2016-06-30", include="possible")
    assert cases["allegations"]["resolved"] == ["SSD"]
    assert get(demo, "/v1/summary/APMBC", effective_on="2016-06-30")["allegations"] == {}


def test_use_in_libya_with_no_user_named(demo):
    case = get(demo, "/v1/allegations/ccm-use-2011-LBY")
    assert (case["against"], case["territory"]) == (None, "LBY")
    (use,) = get(demo, "/v1/statements", code="cluster-munitions-use-2011", territory="LBY")
    assert use["party"] is None


def test_where_the_stakeholder_dialogues_were_held(demo):
    held = get(demo, "/v1/statements", instrument="APMBC", code="va-stakeholder-dialogue-held")
    assert sorted(s["territory"] for s in held) == ["IRQ", "SSD", "UGA"]
    (amman,) = get(demo, "/v1/statements", code="va-global-conference-held", territory="JOR")
    assert amman["party"] is None


def test_reporting_no_time_bound_action_is_not_victim_assistance_begun(summary):
    begun = summary("CCM")["obligations"]["victim_assistance"]["begun"]
    assert begun == ["ALB", "BIH", "HRV", "LAO", "LBN"]
    no_action = summary("CCM")["statements"]["va-no-time-bound-actions"]["by"][SP]
    assert (no_action["named"], no_action["stated"]) == (["MNE", "MOZ", "SLE"], "3")


def test_a_party_two_footnotes_describe_differently_keeps_both(demo, summary):
    canada = get(demo, "/v1/statements", party="CAN", code="stockpile-destruction-early-finish")
    assert [s["described_as"] for s in canada] == [SP]
    assert [s["described_as"] for s in get(demo, "/v1/statements", party="CAN",
                                           code="stockpiles-existing")] == [SIG]
    assert set(summary("CCM")["described_differently"]["CHE"]) == {SP, SIG}
