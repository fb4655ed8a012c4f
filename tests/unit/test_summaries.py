"""One sentence per change: parties and instruments by name with their codes, provisions by
heading, statuses and dates in words, and what the event said, within 160 characters."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from projections.fold import CORRECTIONS, Change, apply, fold
from projections.names import Names, Provision, short_title
from projections.summaries import LIMIT, TEMPLATES, summarise

APMBC_TITLE = ("Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of "
               "Anti-Personnel Mines and on Their Destruction (Mine Ban Convention)")


class Story:
    """Events recorded one after another, projected as the state view does: each entity's state
    (corrections refold its history), names learnt from parties and instruments, one summary."""

    def __init__(self) -> None:
        self.names = Names()
        self.history: dict[str, list[Change]] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(1)

    def __call__(self, entity: str, type: str, **fields: Any) -> str:
        history = self.history.setdefault(entity, [])
        position = next(self.ids)
        change = Change(position, f"event-{position}", type, entity, len(history) + 1,
                        "2011-09-01T10:00:00+00:00", None, "tester", [], None, fields)
        history.append(change)
        state = fold(history) if type in CORRECTIONS else apply(self.states.get(entity), change)
        self.states[entity] = state
        if change.kind in ("parties", "instruments"):
            self.names.learn(state)
        return summarise(change, state, self.names)

    def event_id(self, entity: str, type: str) -> str:
        return next(c.event_id for c in self.history[entity] if c.type == type)


@pytest.fixture
def story() -> Story:
    """The CCM with Articles 1 and 3, the VAP with actions 2, 3 and 8, the Mine Ban Convention
    with Article 1.1; Croatia, South Sudan and the Cluster Munition Coalition."""
    record = Story()
    record("instruments/CCM", "InstrumentRegistered", code="CCM",
           title="Convention on Cluster Munitions", instrument_kind="treaty", parent=None,
           adopted_on="2008-05-30")
    for number, title in (("1", "General obligations and scope of application"),
                          ("3", "Storage and stockpile destruction")):
        record("instruments/CCM", "ProvisionAdded", number=number, provision_kind="article",
               title=title, text=None, area=None)
    record("instruments/VAP", "InstrumentRegistered", code="VAP", title="Vientiane Action Plan",
           instrument_kind="action_plan", parent="CCM", adopted_on="2010-11-12")
    for number, title in (("2", "Action #2: Universalization"), ("3", "Action #3: Universalization"),
                          ("8", "Action #8: Stockpile destruction: concrete steps and an early "
                                "start of destruction")):
        record("instruments/VAP", "ProvisionAdded", number=number, provision_kind="action",
               title=title, text=None, area=None)
    record("instruments/APMBC", "InstrumentRegistered", code="APMBC", title=APMBC_TITLE,
           instrument_kind="treaty", parent=None, adopted_on="1997-09-18")
    record("instruments/APMBC", "ProvisionAdded", number="1.1", provision_kind="article",
           title="General obligations, paragraph 1", text=None, area=None)
    for code, name, kind in (("HRV", "Croatia", "state"), ("SSD", "South Sudan", "state"),
                             ("CMC", "Cluster Munition Coalition", "organisation")):
        record(f"parties/{code}", "PartyRegistered", code=code, name=name, party_kind=kind)
    return record


def pledge(story: Story, ref: str = "c1", provisions: tuple[str, ...] = ("VAP:8",)) -> str:
    return story(f"commitments/{ref}", "CommitmentPledged", party="HRV", provisions=list(provisions),
                 text="Croatia indicated that it would finish the destruction of all stockpiles of "
                      "cluster munitions by 2013.", target=None, due_on="2013-12-31")


def declare(story: Story) -> str:
    return story("obligations/o1", "ObligationDeclared", party="HRV", provision="CCM:3",
                 obligation_kind="stockpile_destruction", description="Declared stockpile",
                 quantities={}, deadline="2018-08-01")


def file(story: Story) -> str:
    return story("allegations/a1", "AllegationFiled", against="SSD", provision="APMBC:1.1",
                 filed_by="Not named in the source: the allegations 'surfaced' and were considered",
                 place=None, occurred_on=None, summary="Allegations of non-compliance.",
                 evidence=None)


# -- names -----------------------------------------------------------------------------------

def test_long_treaty_titles_are_shown_by_their_short_name():
    assert short_title(APMBC_TITLE) == "Mine Ban Convention"
    assert short_title("Cartagena Action Plan 2010-2014: Ending the Suffering Caused by "
                       "Anti-Personnel Mines") == "Cartagena Action Plan 2010-2014"
    assert short_title("Convention on Cluster Munitions") == "Convention on Cluster Munitions"


def test_provision_headings_come_from_the_title_or_the_kind_and_number():
    assert Provision.of("14", "action", "Action #14: Identify and report on all suspected areas") \
        == Provision("action", "Action #14", "Identify and report on all suspected areas")
    assert Provision.of("3", "article", "Storage and stockpile destruction") \
        == Provision("article", "Article 3", "Storage and stockpile destruction")
    assert Provision.of("5", "action", "Action #5") == Provision("action", "Action #5", "")


def test_a_code_with_no_registered_name_shows_as_the_code(story):
    assert story.names.party("HRV") == "Croatia (HRV)"
    assert story.names.party("UNDP") == "UNDP"
    assert story.names.instrument("CCM") == "the Convention on Cluster Munitions (CCM)"
    assert story.names.instrument("CCM", short=True) == "the CCM"
    assert story.names.instrument("ATT") == "the ATT"
    assert story.names.provision("CCM:99") is None


# -- one sentence per event type ---------------------------------------------------------------

def test_registrations_name_what_was_registered(story):
    assert story("parties/LAO", "PartyRegistered", code="LAO",
                 name="Lao People's Democratic Republic", party_kind="state") == (
        "Lao People's Democratic Republic (LAO) registered as a state")
    assert story("instruments/CAP", "InstrumentRegistered", code="CAP",
                 title="Cartagena Action Plan 2010-2014: Ending the Suffering Caused by "
                       "Anti-Personnel Mines", instrument_kind="action_plan", parent="APMBC",
                 adopted_on="2009-12-04") == (
        "The Cartagena Action Plan 2010-2014 (CAP) registered as an action plan of the Mine Ban "
        "Convention (APMBC), adopted on 4 December 2009")
    assert story("instruments/CAP", "ProvisionAdded", number="14", provision_kind="action",
                 title="Action #14: Identify and report on all suspected areas", text=None,
                 area="clearance") == (
        "Action #14 of the Cartagena Action Plan 2010-2014 (CAP) added: Identify and report on "
        "all suspected areas")


@pytest.mark.parametrize(("status", "sentence"), [
    ("ratified", "Croatia (HRV) ratified the Convention on Cluster Munitions (CCM) on 17 August 2009"),
    ("acceded", "Croatia (HRV) acceded to the Convention on Cluster Munitions (CCM) on 17 August 2009"),
    ("entered_into_force",
     "The Convention on Cluster Munitions (CCM) entered into force for Croatia (HRV) on 17 August 2009"),
    ("withdrew", "Croatia (HRV) withdrew from the Convention on Cluster Munitions (CCM) on 17 August 2009"),
    ("suspended", "Croatia (HRV): status under the Convention on Cluster Munitions (CCM) now "
                  "suspended on 17 August 2009"),
])
def test_treaty_statuses_read_as_verbs(story, status, sentence):
    assert story("parties/HRV", "TreatyStatusChanged", instrument="CCM", status=status,
                 on="2009-08-17") == sentence


def test_a_pledge_and_its_lifecycle(story):
    assert pledge(story) == (
        "Croatia (HRV) pledged under Action #8 of the Vientiane Action Plan (VAP), due 31 December "
        "2013: Croatia indicated that it would finish the destruction of all…")
    assert story("commitments/c1", "ProgressReported", status="in_progress", quantities={},
                 summary="A destruction plan is in development.") == (
        "Croatia (HRV) reported progress on its commitment under Action #8 of the Vientiane "
        "Action Plan (VAP): A destruction plan is in development")
    assert story("commitments/c1", "ProgressReported", status="stalled", quantities={},
                 summary=None) == (
        "Croatia (HRV) reported its commitment under Action #8 of the Vientiane Action Plan (VAP) "
        "stalled")
    assert story("commitments/c1", "DueDateExtended", due_on="2014-06-30",
                 reason="Funding arrived late") == (
        "Due date of the commitment of Croatia (HRV) under Action #8 of the Vientiane Action Plan "
        "(VAP) extended to 30 June 2014: Funding arrived late")
    assert story("commitments/c1", "CommitmentAssessed", outcome="partially_kept",
                 assessor="independent", assessed_by="CMC") == (
        "The commitment of Croatia (HRV) under Action #8 of the VAP assessed as partially kept in "
        "an independent assessment by Cluster Munition Coalition (CMC)")


def test_a_pledge_on_several_provisions_counts_them_per_instrument(story):
    pledge(story, "c2", ("VAP:2", "VAP:3", "CCM:3"))
    assert story("commitments/c2", "CommitmentWithdrawn", reason="Superseded by a new pledge") == (
        "Croatia (HRV) withdrew its commitment under 2 actions of the VAP and Article 3 of the CCM: "
        "Superseded by a new pledge")
    assert story("commitments/c2", "DeadlineLapsed", due_on="2013-12-31") == (
        "Croatia (HRV) missed the 31 December 2013 due date of its commitment under 2 actions of "
        "the VAP and Article 3 of the CCM")


def test_funding_amounts_carry_their_currency(story):
    assert story("fundings/f1", "FundingPledged", donor="CMC", recipient="HRV", amount="1500000",
                 currency="EUR", purpose="Stockpile destruction in 2012.", period="2012",
                 provisions=["CCM:6"]) == (
        "Cluster Munition Coalition (CMC) pledged EUR 1,500,000 to Croatia (HRV) for 2012: "
        "Stockpile destruction in 2012")
    assert story("fundings/f1", "FundingDisbursed", amount="500000.50", currency="EUR") == (
        "Cluster Munition Coalition (CMC) disbursed EUR 500,000.50 of its EUR 1,500,000 pledge "
        "to Croatia (HRV)")


def test_an_obligation_from_declaration_to_completion(story):
    assert declare(story) == (
        "Croatia (HRV) declared a stockpile destruction obligation under Article 3 of the "
        "Convention on Cluster Munitions (CCM), deadline 1 August 2018")
    assert story("obligations/o1", "ObligationProgressReported", quantities={},
                 summary="A destruction plan is in development.") == (
        "Croatia (HRV) reported progress on its stockpile destruction obligation under Article 3 "
        "of the CCM: A destruction plan is in development")
    assert story("obligations/o1", "ExtensionRequested", requested_deadline="2020-08-01",
                 reason="The destruction facility is not yet built") == (
        "Croatia (HRV) requested an extension to 1 August 2020 of its stockpile destruction "
        "obligation under the CCM: The destruction facility is not yet built")
    assert story("obligations/o1", "ExtensionRefused", reason="No plan given") == (
        "Croatia (HRV) was refused an extension of its stockpile destruction obligation under "
        "Article 3 of the Convention on Cluster Munitions (CCM): No plan given")
    story("obligations/o1", "ExtensionRequested", requested_deadline="2019-08-01", reason="Plan")
    assert story("obligations/o1", "ExtensionGranted", deadline="2019-08-01") == (
        "Croatia (HRV) was granted an extension to 1 August 2019 of its stockpile destruction "
        "obligation under Article 3 of the Convention on Cluster Munitions (CCM)")
    assert story("obligations/o1", "DeadlineLapsed", due_on="2019-08-01") == (
        "Croatia (HRV) missed the 1 August 2019 deadline of its stockpile destruction obligation "
        "under Article 3 of the Convention on Cluster Munitions (CCM)")
    assert story("obligations/o1", "CompletionDeclared") == (
        "Croatia (HRV) declared completion of its stockpile destruction obligation under Article 3 "
        "of the Convention on Cluster Munitions (CCM)")


def test_a_report_due_late_submitted_and_amended(story):
    report = "reports/CCM-HRV-annual-2010"
    assert story(report, "ReportRegistered", party="HRV", instrument="CCM", report_kind="annual",
                 period="2010", due_on="2011-04-30") == (
        "Croatia (HRV) to submit its annual report for 2010 to the Convention on Cluster "
        "Munitions (CCM) by 30 April 2011")
    assert story(report, "DeadlineLapsed", due_on="2011-04-30") == (
        "Croatia (HRV) missed the 30 April 2011 due date of its annual report for 2010 to the "
        "Convention on Cluster Munitions (CCM)")
    assert story(report, "ReportSubmitted", received_on="2011-05-03", document=None, url=None,
                 covers=["CCM:3"], summary="Reported 7,235 cluster munitions stockpiled.") == (
        "Croatia (HRV) submitted its annual report for 2010 to the Convention on Cluster "
        "Munitions (CCM) on 3 May 2011: Reported 7,235 cluster munitions stockpiled")
    assert story(report, "ReportAmended", received_on="2011-06-01", document=None,
                 summary="Corrected the number retained.") == (
        "Croatia (HRV) amended its annual report for 2010 to the Convention on Cluster Munitions "
        "(CCM) on 1 June 2011: Corrected the number retained")
    assert story("reports/CCM-SSD-initial-initial", "ReportRegistered", party="SSD",
                 instrument="CCM", report_kind="initial", period="initial", due_on=None) == (
        "South Sudan (SSD) to submit its initial report to the Convention on Cluster Munitions "
        "(CCM), no due date set")


def test_an_allegation_through_its_lifecycle(story):
    # a filer described at length in free text is left out; a registered one is named
    assert file(story) == (
        "Allegation filed against South Sudan (SSD) under Article 1.1 of the Mine Ban Convention "
        "(APMBC): Allegations of non-compliance")
    assert story("allegations/a1", "ReviewOpened", summary=None) == (
        "Review opened of the allegation against South Sudan (SSD) under Article 1.1 (General "
        "obligations, paragraph 1) of the Mine Ban Convention (APMBC)")
    assert story("allegations/a1", "ClarificationRequested",
                 summary="Asked for updates on its investigations.") == (
        "Clarification requested from South Sudan (SSD) on the allegation under Article 1.1 of "
        "the Mine Ban Convention (APMBC): Asked for updates on its investigations")
    assert story("allegations/a1", "ResponseReceived", summary="Provided information.") == (
        "Response received from South Sudan (SSD) on the allegation under Article 1.1 of the "
        "Mine Ban Convention (APMBC): Provided information")
    assert story("allegations/a1", "InvestigationOpened",
                 summary="South Sudan investigated the allegations.") == (
        "Investigation opened of the allegation against South Sudan (SSD) under Article 1.1 of "
        "the Mine Ban Convention (APMBC): South Sudan investigated the allegations")
    assert story("allegations/a1", "FindingIssued", finding="The allegations were not credible.",
                 issued_by="SSD") == (
        "South Sudan (SSD) issued a finding on the allegation against it under Article 1.1 of the "
        "Mine Ban Convention (APMBC): The allegations were not credible")
    assert story("allegations/a1", "AllegationResolved", outcome="not_credible",
                 recommendation="In view of the information received from South Sudan, the "
                                "Committee recommended not to pursue the allegations further.") == (
        "Allegation against South Sudan (SSD) under Article 1.1 of the APMBC resolved as not "
        "credible: In view of the information received from South Sudan…")
    assert story("allegations/a1", "AllegationReopened", reason="New evidence.") == (
        "Allegation against South Sudan (SSD) under Article 1.1 (General obligations, paragraph 1) "
        "of the Mine Ban Convention (APMBC) reopened: New evidence")


def test_a_finding_by_another_party_names_both(story):
    story("allegations/a2", "AllegationFiled", against="HRV", provision="CCM:1", filed_by="CMC",
          place=None, occurred_on=None, summary="Alleged transfer.", evidence=None)
    assert story("allegations/a2", "FindingIssued", finding="Transfer confirmed.",
                 issued_by="CMC") == (
        "Cluster Munition Coalition (CMC) issued a finding on the allegation against Croatia (HRV) "
        "under Article 1 of the CCM: Transfer confirmed")


def test_corrections_and_retractions_name_the_entity_and_the_new_values(story):
    declare(story)
    declared = story.event_id("obligations/o1", "ObligationDeclared")
    assert story("obligations/o1", "EntryCorrected", corrects=declared,
                 fields={"deadline": "2018-09-01", "quantities": {"submunitions": 7235}},
                 reason="Misprint") == (
        "Correction to the stockpile destruction obligation of Croatia (HRV) under Article 3 of "
        'the CCM: deadline now 2018-09-01; quantities now {"submunitions":7235}')
    assert story("obligations/o1", "EntryRetracted", retracts=declared,
                 reason="Recorded twice") == (
        "Retraction of an entry on the stockpile destruction obligation of Croatia (HRV) under "
        "Article 3 of the Convention on Cluster Munitions (CCM): Recorded twice")


def test_a_corrected_name_is_used_from_then_on(story):
    story("parties/LAO", "PartyRegistered", code="LAO", name="Laos PDR", party_kind="state")
    registered = story.event_id("parties/LAO", "PartyRegistered")
    assert story("parties/LAO", "EntryCorrected", corrects=registered,
                 fields={"name": "Lao People's Democratic Republic"}, reason="Official name") == (
        "Correction to Lao People's Democratic Republic (LAO): name now Lao People's Democratic "
        "Republic")
    assert story("parties/LAO", "TreatyStatusChanged", instrument="CCM", status="ratified",
                 on="2009-03-18").startswith("Lao People's Democratic Republic (LAO) ratified")


def test_a_checkpoint_says_how_many_events_it_signs(story):
    assert story("checkpoints/1064", "CheckpointIssued", origin="ledger", tree_size=1064,
                 root_hash="q6fU=", state_digest="d", verifier_key="k", signed_note="n") == (
        "Checkpoint signed: the first 1,064 events hash to q6fU=")


# -- unknown names, long words, odd values ---------------------------------------------------------

def test_unknown_parties_instruments_and_provisions_fall_back_to_their_codes():
    story = Story()
    assert story("obligations/o9", "ObligationDeclared", party="XYZ", provision="ATT:7",
                 obligation_kind="other", description="d", quantities={}, deadline=None) == (
        "XYZ declared an obligation under ATT:7, no deadline stated")
    assert story("reports/ATT-XYZ-annual-2020", "ReportRegistered", party="XYZ",
                 instrument="ATT", report_kind="annual", period="2020", due_on="2021-05-31") == (
        "XYZ to submit its annual report for 2020 to the ATT by 31 May 2021")


def test_a_long_quote_is_cut_at_a_word_and_names_shorten_to_leave_it_room(story):
    long_name = "United Kingdom of Great Britain and Northern Ireland"
    story("parties/GBR", "PartyRegistered", code="GBR", name=long_name, party_kind="state")
    story("obligations/o2", "ObligationDeclared", party="GBR", provision="CCM:3",
          obligation_kind="stockpile_destruction", description="d", quantities={}, deadline=None)
    summary = story("obligations/o2", "ObligationProgressReported", quantities={},
                    summary="Has begun to destroy its stockpiles of cluster munitions " * 5)
    assert summary == (
        "United Kingdom of Great Britain and Northern Ireland (GBR) reported progress on its "
        "stockpile destruction obligation under the CCM: Has begun to destroy its…")
    assert len(summary) <= LIMIT


ODD_VALUES = [None, 0, -1.5, "", " \n\t ", [], ["VAP:8", 3, None], {}, {"a": [1]}, "{0}{party}",
              "CCM:", ":", "x" * 5000, "word " * 400, "1e999999999", "9" * 40, "2011-02-30",
              "\u202eevil\u0000", {"3": {"kind": [], "title": None}, "4": "x"}]
SAMPLE_FIELDS: dict[str, dict[str, Any]] = {
    "PartyRegistered": {"code": "HRV", "name": "Croatia", "party_kind": "state"},
    "TreatyStatusChanged": {"instrument": "CCM", "status": "ratified", "on": "2009-08-17"},
    "InstrumentRegistered": {"code": "CCM", "title": "T", "instrument_kind": "treaty",
                             "parent": "CCM", "adopted_on": "2008-05-30"},
    "ProvisionAdded": {"number": "3", "provision_kind": "article", "title": "T", "text": None,
                       "area": None},
    "CommitmentPledged": {"party": "HRV", "provisions": ["VAP:8"], "text": "t", "target": None,
                          "due_on": "2013-12-31"},
    "ProgressReported": {"status": "in_progress", "quantities": {}, "summary": "s"},
    "DueDateExtended": {"due_on": "2014-06-30", "reason": "r"},
    "CommitmentAssessed": {"outcome": "kept", "assessor": "self", "assessed_by": "HRV"},
    "CommitmentWithdrawn": {"reason": "r"},
    "DeadlineLapsed": {"due_on": "2013-12-31"},
    "FundingPledged": {"donor": "CMC", "recipient": "HRV", "amount": "10", "currency": "EUR",
                       "purpose": "p", "period": "2012", "provisions": ["CCM:6"]},
    "FundingDisbursed": {"amount": "5", "currency": "EUR"},
    "ObligationDeclared": {"party": "HRV", "provision": "CCM:3", "obligation_kind": "clearance",
                           "description": "d", "quantities": {}, "deadline": "2018-08-01"},
    "ObligationProgressReported": {"quantities": {}, "summary": "s"},
    "ExtensionRequested": {"requested_deadline": "2020-08-01", "reason": "r"},
    "ExtensionGranted": {"deadline": "2020-08-01"},
    "ExtensionRefused": {"reason": "r"},
    "CompletionDeclared": {},
    "ReportRegistered": {"party": "HRV", "instrument": "CCM", "report_kind": "annual",
                         "period": "2010", "due_on": "2011-04-30"},
    "ReportSubmitted": {"received_on": "2011-05-03", "document": None, "url": None,
                        "covers": [], "summary": "s"},
    "ReportAmended": {"received_on": "2011-06-01", "document": None, "summary": "s"},
    "AllegationFiled": {"against": "SSD", "provision": "APMBC:1.1", "filed_by": "CMC",
                        "place": None, "occurred_on": None, "summary": "s", "evidence": None},
    "ReviewOpened": {"summary": "s"},
    "ClarificationRequested": {"summary": "s"},
    "ResponseReceived": {"summary": "s"},
    "InvestigationOpened": {"summary": "s"},
    "FindingIssued": {"finding": "f", "issued_by": "SSD"},
    "AllegationResolved": {"outcome": "unfounded", "recommendation": "r"},
    "AllegationReopened": {"reason": "r"},
    "EntryCorrected": {"corrects": "e", "fields": {"name": "n"}, "reason": "r"},
    "EntryRetracted": {"retracts": "e", "reason": "r"},
    "CheckpointIssued": {"origin": "o", "tree_size": 3, "root_hash": "h", "state_digest": "d",
                         "verifier_key": "k", "signed_note": "n"},
    "StatementCodeAdded": {"code": "stockpile-existing", "label": "Has existing stockpiles",
                           "area": "stockpile_destruction"},
    "StatementRecorded": {"instrument": "VAP", "code": "stockpile-existing", "party": "HRV",
                          "described_as": "signatory", "provisions": ["CCM:3"],
                          "quantity": None, "territory": None, "text": "t"},
}
ENTITIES = {"PartyRegistered": "parties/HRV", "TreatyStatusChanged": "parties/HRV",
            "InstrumentRegistered": "instruments/CCM", "ProvisionAdded": "instruments/CCM",
            "FundingPledged": "fundings/f", "FundingDisbursed": "fundings/f",
            "CheckpointIssued": "checkpoints/3", "StatementCodeAdded": "instruments/CCM",
            "StatementRecorded": "statements/s"}
KINDS = ["commitments", "obligations", "reports", "allegations", "fundings", "parties",
         "instruments", "statements", "checkpoints", "other"]


def test_statements_name_the_party_how_the_document_describes_it_and_the_label(story):
    story("instruments/CCM", "StatementCodeAdded", code="stockpile-existing",
          label="Has existing stockpiles", area="stockpile_destruction")
    assert story("statements/s1", "StatementRecorded", instrument="VAP", code="stockpile-existing",
                 party="CMC", described_as="signatory", provisions=["CCM:3"], quantity=None,
                 territory=None, text="Reported to have existing stockpiles.") == (
        "Statement on Cluster Munition Coalition (CMC) as a signatory under Article 3 of the CCM "
        "(Has existing stockpiles): Reported to have existing stockpiles")
    story("instruments/CCM", "StatementCodeAdded", code="states-parties", label="States Parties",
          area="universalization")
    assert story("statements/f1", "StatementRecorded", instrument="CCM", code="states-parties",
                 party=None, described_as="state_party", provisions=[],
                 quantity={"value": "60", "unit": "States"}, territory=None,
                 text="60 States Parties.") == (
        "Stated figure of the Convention on Cluster Munitions (CCM) (States Parties 60 States): "
        "60 States Parties")


def test_an_allegation_with_no_user_named_says_so_and_where(story):
    assert story("allegations/u1", "AllegationFiled", against=None, territory="SSD",
                 provision="APMBC:1.1", filed_by="CMC", place=None, occurred_on=None,
                 summary="Use reported.", evidence=None) == (
        "Allegation filed by Cluster Munition Coalition (CMC) against an unnamed user in South "
        "Sudan (SSD) under Article 1.1 of the APMBC: Use reported")


def test_every_event_type_has_a_sample():
    assert set(SAMPLE_FIELDS) == set(TEMPLATES)


@pytest.mark.parametrize("type", sorted(SAMPLE_FIELDS))
def test_odd_values_in_any_field_or_state_still_give_one_short_line(story, type):
    """Corrections can put any JSON value in any field: the summary never fails."""
    fields = SAMPLE_FIELDS[type]
    entity = ENTITIES.get(type, "allegations/a" if "Allegation" in type else "obligations/o")
    keys = [*fields, "party", "provisions", "name", "title"]
    for kind, key, odd in itertools.product(KINDS, keys, ODD_VALUES):
        state = {**fields, "path": entity, "id": "x", "kind": kind, key: odd}
        story.names.learn(state)  # a party or instrument with odd values is learnt too
        change = Change(1, "e", type, entity, 2, "2011-09-01T10:00:00+00:00", None, "t", [],
                        None, {**fields, key: odd} if key in fields else fields)
        summary = summarise(change, state, story.names)
        assert 0 < len(summary) <= LIMIT and "\n" not in summary, (kind, key, odd, summary)
