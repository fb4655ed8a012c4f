"""One sentence per change, for the change log, feeds and pages: who did what under which treaty,
named as a journalist would quote it, with what the event itself said.

"Croatia (HRV) reported progress on its stockpile destruction obligation under Article 3 of the
CCM: Has begun to destroy its stockpiles". A sentence holds at most LIMIT characters: treaty
references are shortened step by step (see `_provision`) until at least MIN_QUOTE characters of
the event's own words fit, and those words are cut at a word boundary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from projections.fold import Change, State
from projections.names import Names, Provision, one_line

LIMIT = 160
MIN_QUOTE = 60
#: small words a cut quote does not end on
HANGING = frozenset("a an and as at by for from in into of on or the to with".split())
#: levels of detail of treaty references, most detailed first
DETAILS = range(4)
PLAIN_NUMBER = re.compile(r"\d{1,30}(\.\d{1,30})?")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

#: (change, its fields, its entity's state, names, detail) -> the sentence's head and the
#: event's own words to quote after it (or None)
Template = Callable[[Change, dict[str, Any], State, Names, int], tuple[str, Any]]


def summarise(change: Change, state: State | None, names: Names) -> str:
    """The change in one sentence, with names from `names` and its entity's state."""
    template = TEMPLATES[change.type]
    state = state or {}
    for detail in DETAILS:
        head, quote = template(change, change.fields, state, names, detail)
        quote = one_line(quote).removesuffix(".")
        room = LIMIT - len(head) - 2
        if not quote and len(head) <= LIMIT:
            return _capital(head)
        if quote and room >= min(MIN_QUOTE, len(quote)):
            return _capital(f"{head}: {_clip(quote, room)}")
    return _capital(_clip(f"{head}: {quote}" if quote else head, LIMIT))


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _clip(text: str, room: int) -> str:
    """`text` in at most `room` characters, cut after a whole word, and not after a small one
    ("received from South Sudan…", not "received from South Sudan, the…")."""
    if len(text) <= room:
        return text
    cut = text[:room - 1]
    if text[room - 1] != " " and (space := cut.rfind(" ")) > room // 2:
        cut = cut[:space]
    words = cut.split(" ")
    while len(words) > 1 and words[-1].lower() in HANGING:
        words.pop()
    return " ".join(words).rstrip(" ,;:-(") + "…"


# -- words for values ------------------------------------------------------------------------

def _words(value: Any) -> str:
    """`not_credible` -> `not credible`."""
    return one_line(value).replace("_", " ")


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _date(value: Any) -> str:
    """`2011-08-20` -> `20 August 2011` (any other text as it is)."""
    text = one_line(value)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _money(amount: Any, currency: Any) -> str:
    """`USD 430,700,000`."""
    text = one_line(amount)
    if PLAIN_NUMBER.fullmatch(text):
        text = f"{Decimal(text):,}"
    return f"{one_line(currency)} {text}".strip()


def _who(names: Names, value: Any) -> str:
    """Who filed, found or assessed: a registered party by name; free text when short."""
    if names.is_party(value):
        return names.party(value)
    text = one_line(value)
    return text if len(text) <= 40 else ""


# -- references to treaties, at a level of detail -----------------------------------------------

def _provision(names: Names, ref: Any, detail: int) -> str:
    """`Article 3 (Storage and stockpile destruction) of the Convention on Cluster Munitions
    (CCM)`; without the title at detail 1; `of the CCM` at 2; `the CCM` at 3. A provision the
    instrument does not have shows as its reference, `CCM:3`."""
    provision = names.provision(ref)
    if provision is None:
        return one_line(ref)
    instrument = names.instrument(ref.partition(":")[0], short=detail >= 2)
    if detail == 3:
        return instrument
    if detail == 0 and provision.title:
        return f"{provision.heading} ({provision.title}) of {instrument}"
    return f"{provision.heading} of {instrument}"


def _provisions(names: Names, refs: Any, detail: int) -> str:
    """Several provisions, as `6 actions of the Vientiane Action Plan (VAP)` per instrument."""
    if isinstance(refs, list) and len(refs) == 1:  # the usual pledge
        return _provision(names, refs[0], detail)
    refs = [ref for ref in refs if isinstance(ref, str)] if isinstance(refs, list) else []
    by_instrument: dict[str, list[str]] = {}
    for ref in dict.fromkeys(refs):
        by_instrument.setdefault(ref.partition(":")[0], []).append(ref)
    parts = []
    for code, group in by_instrument.items():
        kinds = {p.kind if p else "" for p in map(names.provision, group)}
        if len(group) == 1:
            parts.append(_provision(names, group[0], detail))
        elif detail == 3:
            parts.append(names.instrument(code, short=True))
        else:
            noun = f"{kinds.pop()}s" if len(kinds) == 1 and "" not in kinds else "provisions"
            parts.append(f"{len(group)} {noun} of {names.instrument(code, short=detail >= 2)}")
    return " and ".join(parts)


def _under(reference: str) -> str:
    return f" under {reference}" if reference else ""


def _party(state: State, names: Names, key: str = "party") -> str:
    return names.party(state.get(key))


def _obligation(state: State, names: Names, detail: int, article: str, owner: str = "") -> str:
    """`its stockpile destruction obligation under Article 3 of the CCM` (`article` is `its`,
    `the` or `a`; `owner` such as ` of Croatia (HRV)` follows the noun)."""
    kind = _words(state.get("obligation_kind"))
    noun = "obligation" if kind in ("", "other") else f"{kind} obligation"
    head = _a(noun) if article == "a" else f"{article} {noun}"
    return f"{head}{owner}{_under(_provision(names, state.get('provision'), detail))}"


REPORT_NOUNS = {"statement": "statement", "extension_request": "extension request"}


def _report(state: State) -> str:
    """`annual report for 2010`; `initial report` when its period says nothing more."""
    kind = one_line(state.get("report_kind"))
    period = one_line(state.get("period"))
    noun = REPORT_NOUNS.get(kind) or f"{_words(kind)} report".strip()
    return f"{noun} for {period}" if period and period != kind else noun


def _subject(state: State, names: Names, detail: int) -> str:
    """The entity a correction or retraction is about, as a noun phrase."""
    kind = state.get("kind")
    if kind == "parties":
        return names.party(state.get("id"))
    if kind == "instruments":
        return names.instrument(state.get("id"), short=detail >= 2)
    if kind == "commitments":
        return (f"the commitment of {_party(state, names)}"
                f"{_under(_provisions(names, state.get('provisions'), detail))}")
    if kind == "fundings":
        return (f"the {_money(state.get('amount'), state.get('currency'))} pledge of "
                f"{_party(state, names, 'donor')}")
    if kind == "obligations":
        return _obligation(state, names, detail, "the", f" of {_party(state, names)}")
    if kind == "reports":
        return (f"the {_report(state)} of {_party(state, names)} to "
                f"{names.instrument(state.get('instrument'), short=detail >= 2)}")
    if kind == "allegations":
        party, under = _against(state, names, detail)
        return f"the allegation against {party}{under}"
    if kind == "statements":
        return f"the {_statement(state, names, detail)}"
    return one_line(state.get("path"))


DESCRIBED = {"state_party": "a State Party", "signatory": "a signatory",
             "state_not_party": "a State not party", "state": "a state",
             "organisation": "an organisation"}


def _statement(state: State, names: Names, detail: int) -> str:
    """`statement on Canada (CAN) as a signatory under Article 3 of the CCM (Has stockpiles)`,
    or `stated figure of the CCM (States Parties 60 States)`."""
    label = names.code_label(state.get("instrument"), state.get("code"))
    if state.get("party"):
        described = DESCRIBED.get(one_line(state.get("described_as")))
        as_ = f" as {described}" if described else ""
        where = _provisions(names, state.get("provisions"), detail) or names.instrument(
            state.get("instrument"), short=detail >= 2)
        return f"statement on {_party(state, names)}{as_}{_under(where)} ({label})"
    quantity = state.get("quantity") if isinstance(state.get("quantity"), dict) else {}
    value = f" {one_line(quantity.get('value'))} {one_line(quantity.get('unit'))}" if quantity else ""
    where = (f" in {names.party(state['territory'])}" if state.get("territory") else "")
    noun = "stated figure" if quantity else "statement"
    return (f"{noun} of {names.instrument(state.get('instrument'), short=detail >= 2)}"
            f"{where} ({label}{value})")


# -- one template per event type -------------------------------------------------------------

PARTY_KINDS = {"state": "a state", "organisation": "an organisation"}
STATUSES = {
    "signed": "{party} signed {instrument}", "ratified": "{party} ratified {instrument}",
    "acceded": "{party} acceded to {instrument}", "withdrew": "{party} withdrew from {instrument}",
    "entered_into_force": "{instrument} entered into force for {party}",
    "state_party": "{party} was a State Party to {instrument}",
    "": "{party}: status under {instrument} now {status}",
}
INSTRUMENT_KINDS = {"treaty": "a treaty", "action_plan": "an action plan"}
ASSESSMENTS = {"self": "a self-assessment", "independent": "an independent assessment"}


def _party_registered(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    kind = one_line(f.get("party_kind"))
    return f"{n.party(s.get('id'))} registered as {PARTY_KINDS.get(kind) or _a(_words(kind))}", None


def _treaty_status(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    status = one_line(f.get("status"))
    head = STATUSES.get(status, STATUSES[""]).format(
        party=n.party(s.get("id")), instrument=n.instrument(f.get("instrument"), short=d >= 2),
        status=_words(status))
    on = "by" if status == "state_party" else "on"
    return head + (f" {on} {_date(f.get('on'))}" if f.get("on") else ""), None


def _instrument_registered(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    kind = one_line(f.get("instrument_kind"))
    head = f"{n.instrument(s.get('id'))} registered as {INSTRUMENT_KINDS.get(kind) or _a(_words(kind))}"
    if f.get("parent"):
        head += f" of {n.instrument(f['parent'], short=d >= 2)}"
    return head + (f", adopted on {_date(f['adopted_on'])}" if f.get("adopted_on") else ""), None


def _provision_added(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    provision = Provision.of(f.get("number"), f.get("provision_kind"), f.get("title"))
    return f"{provision.heading} of {n.instrument(s.get('id'), short=d >= 2)} added", provision.title


def _commitment_pledged(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    due = f", due {_date(f['due_on'])}" if f.get("due_on") else ""
    return (f"{_party(s, n)} pledged{_under(_provisions(n, s.get('provisions'), d))}{due}",
            f.get("text"))


def _progress_reported(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    under = _under(_provisions(n, s.get("provisions"), d))
    if f.get("status") == "in_progress":
        return f"{_party(s, n)} reported progress on its commitment{under}", f.get("summary")
    return (f"{_party(s, n)} reported its commitment{under} {_words(f.get('status'))}",
            f.get("summary"))


def _due_date_extended(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"Due date of {_subject(s, n, d)} extended to {_date(f.get('due_on'))}",
            f.get("reason"))


def _commitment_assessed(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    how = ASSESSMENTS.get(one_line(f.get("assessor")), "an assessment")
    by = _who(n, f.get("assessed_by"))
    return (f"{_subject(s, n, d)} assessed as {_words(f.get('outcome'))} in {how}"
            f"{f' by {by}' if by else ''}", None)


def _commitment_withdrawn(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"{_party(s, n)} withdrew its commitment"
            f"{_under(_provisions(n, s.get('provisions'), d))}", f.get("reason"))


def _deadline_lapsed(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    due, party = _date(f.get("due_on")), _party(s, n)
    if c.kind == "commitments":
        return (f"{party} missed the {due} due date of its commitment"
                f"{_under(_provisions(n, s.get('provisions'), d))}", None)
    if c.kind == "obligations":
        return f"{party} missed the {due} deadline of {_obligation(s, n, d, 'its')}", None
    if c.kind == "reports":
        return (f"{party} missed the {due} due date of its {_report(s)} to "
                f"{n.instrument(s.get('instrument'), short=d >= 2)}", None)
    return f"The {due} due date of {_subject(s, n, d)} passed unmet", None


def _funding_pledged(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    to = f" to {n.party(f['recipient'])}" if f.get("recipient") else ""
    period = f" for {one_line(f['period'])}" if f.get("period") else ""
    return (f"{_party(s, n, 'donor')} pledged {_money(f.get('amount'), f.get('currency'))}"
            f"{to}{period}", f.get("purpose"))


def _funding_disbursed(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    to = f" to {n.party(s['recipient'])}" if s.get("recipient") else ""
    return (f"{_party(s, n, 'donor')} disbursed {_money(f.get('amount'), f.get('currency'))} "
            f"of its {_money(s.get('amount'), s.get('currency'))} pledge{to}", None)


def _obligation_declared(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    deadline = f"deadline {_date(f['deadline'])}" if f.get("deadline") else "no deadline stated"
    return f"{_party(s, n)} declared {_obligation(s, n, d, 'a')}, {deadline}", None


def _obligation_progress(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"{_party(s, n)} reported progress on {_obligation(s, n, d, 'its')}",
            f.get("summary"))


def _extension_requested(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"{_party(s, n)} requested an extension to {_date(f.get('requested_deadline'))} of "
            f"{_obligation(s, n, d, 'its')}", f.get("reason"))


def _extension_granted(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"{_party(s, n)} was granted an extension to {_date(f.get('deadline'))} of "
            f"{_obligation(s, n, d, 'its')}", None)


def _extension_refused(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"{_party(s, n)} was refused an extension of {_obligation(s, n, d, 'its')}",
            f.get("reason"))


def _completion_declared(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return f"{_party(s, n)} declared completion of {_obligation(s, n, d, 'its')}", None


def _report_registered(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    due = f" by {_date(f['due_on'])}" if f.get("due_on") else ", no due date set"
    return (f"{_party(s, n)} to submit its {_report(s)} to "
            f"{n.instrument(s.get('instrument'), short=d >= 2)}{due}", None)


def _report_submitted(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    verb = "submitted" if c.type == "ReportSubmitted" else "amended"
    return (f"{_party(s, n)} {verb} its {_report(s)} to "
            f"{n.instrument(s.get('instrument'), short=d >= 2)} on {_date(f.get('received_on'))}",
            f.get("summary"))


def _against(s: State, n: Names, d: int) -> tuple[str, str]:
    """The party an allegation is against (an unnamed user, where the source names none),
    and ` under` its provision."""
    party = _party(s, n, "against") if s.get("against") else "an unnamed user"
    if s.get("territory") and s.get("territory") != s.get("against"):
        party += f" in {_party(s, n, 'territory')}"
    return party, _under(_provision(n, s.get("provision"), d))


def _allegation_filed(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    party, under = _against(s, n, d)
    by = _who(n, f.get("filed_by"))
    return f"Allegation filed{f' by {by}' if by else ''} against {party}{under}", f.get("summary")


def _allegation_step(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    party, under = _against(s, n, d)
    heads = {
        "ReviewOpened": f"Review opened of the allegation against {party}{under}",
        "ClarificationRequested": f"Clarification requested from {party} on the allegation{under}",
        "ResponseReceived": f"Response received from {party} on the allegation{under}",
        "InvestigationOpened": f"Investigation opened of the allegation against {party}{under}",
        "AllegationResolved": f"Allegation against {party}{under} resolved as "
                              f"{_words(f.get('outcome'))}",
        "AllegationReopened": f"Allegation against {party}{under} reopened",
    }
    return heads[c.type], f.get("summary") or f.get("recommendation") or f.get("reason")


def _finding_issued(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    party, under = _against(s, n, d)
    by = _who(n, f.get("issued_by"))
    if by == party:
        return f"{party} issued a finding on the allegation against it{under}", f.get("finding")
    who = f"{by} issued a finding" if by else "Finding issued"
    return f"{who} on the allegation against {party}{under}", f.get("finding")


def _entry_corrected(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    fields = f.get("fields") if isinstance(f.get("fields"), dict) else {}
    corrected = "; ".join(f"{_words(name)} now {one_line(value) or 'empty'}"
                          for name, value in fields.items())
    return f"Correction to {_subject(s, n, d)}", corrected


def _entry_retracted(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return f"Retraction of an entry on {_subject(s, n, d)}", f.get("reason")


def _statement_code_added(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return (f"Statement code {one_line(f.get('code'))} of "
            f"{n.instrument(s.get('id'), short=d >= 2)} added", f.get("label"))


def _statement_recorded(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    return _statement(s, n, d), f.get("text")


def _checkpoint_issued(c: Change, f: dict, s: State, n: Names, d: int) -> tuple[str, Any]:
    size = f.get("tree_size")
    size = f"{size:,}" if isinstance(size, int) else one_line(size)
    return f"Checkpoint signed: the first {size} events hash to {one_line(f.get('root_hash'))}", None


TEMPLATES: dict[str, Template] = {
    "PartyRegistered": _party_registered,
    "TreatyStatusChanged": _treaty_status,
    "InstrumentRegistered": _instrument_registered,
    "ProvisionAdded": _provision_added,
    "CommitmentPledged": _commitment_pledged,
    "ProgressReported": _progress_reported,
    "DueDateExtended": _due_date_extended,
    "CommitmentAssessed": _commitment_assessed,
    "CommitmentWithdrawn": _commitment_withdrawn,
    "DeadlineLapsed": _deadline_lapsed,
    "FundingPledged": _funding_pledged,
    "FundingDisbursed": _funding_disbursed,
    "ObligationDeclared": _obligation_declared,
    "ObligationProgressReported": _obligation_progress,
    "ExtensionRequested": _extension_requested,
    "ExtensionGranted": _extension_granted,
    "ExtensionRefused": _extension_refused,
    "CompletionDeclared": _completion_declared,
    "ReportRegistered": _report_registered,
    "ReportSubmitted": _report_submitted,
    "ReportAmended": _report_submitted,
    "AllegationFiled": _allegation_filed,
    **{name: _allegation_step for name in (
        "ReviewOpened", "ClarificationRequested", "ResponseReceived", "InvestigationOpened",
        "AllegationResolved", "AllegationReopened",
    )},
    "FindingIssued": _finding_issued,
    "EntryCorrected": _entry_corrected,
    "EntryRetracted": _entry_retracted,
    "StatementCodeAdded": _statement_code_added,
    "StatementRecorded": _statement_recorded,
    "CheckpointIssued": _checkpoint_issued,
}
