"""One human line per change, for the change log, feeds and pages."""

from __future__ import annotations

from typing import Any

from projections.fold import Change

TEMPLATES: dict[str, str] = {
    "PartyRegistered": "{name} ({code}) registered as {party_kind}",
    "TreatyStatusChanged": "{subject}: {status_text} the {instrument} on {on}",
    "InstrumentRegistered": "{title} ({code}) registered",
    "ProvisionAdded": "{instrument} {number} added: {title}",
    "CommitmentPledged": "{party} pledged on {provisions_text}: {text}",
    "ProgressReported": "{party} reported progress ({status}) on commitment {ref}",
    "DueDateExtended": "Due date of commitment {ref} extended to {due_on}",
    "CommitmentAssessed": "Commitment {ref} of {party} assessed {outcome} ({assessor}, {assessed_by})",
    "CommitmentWithdrawn": "{party} withdrew commitment {ref}",
    "DeadlineLapsed": "{party}: {noun} {ref} due {due_on} lapsed unmet",
    "FundingPledged": "{donor} pledged {amount} {currency}{recipient_text}",
    "FundingDisbursed": "{amount} {currency} disbursed against funding {ref}",
    "ObligationDeclared": "{party}: {obligation_kind_text} obligation under {provision} declared{deadline_text}",
    "ObligationProgressReported": "{party} reported progress on obligation {ref}",
    "ExtensionRequested": "{party} requested an extension of obligation {ref} to {requested_deadline}",
    "ExtensionGranted": "Extension of obligation {ref} of {party} granted to {deadline}",
    "ExtensionRefused": "Extension of obligation {ref} of {party} refused",
    "CompletionDeclared": "{party} declared completion of obligation {ref}",
    "ReportRegistered": "{party}: {report_kind} report to the {instrument} for {period}{due_text}",
    "ReportSubmitted": "{party} submitted its {report_kind} report to the {instrument} for {period} (received {received_on})",
    "ReportAmended": "{party} amended its {report_kind} report to the {instrument} for {period}",
    "AllegationFiled": "Allegation against {against} under {provision} filed by {filed_by}",
    "ReviewOpened": "Review opened of allegation {ref} against {against}",
    "ClarificationRequested": "Clarification requested from {against} on allegation {ref}",
    "ResponseReceived": "Response received from {against} on allegation {ref}",
    "InvestigationOpened": "Investigation opened of allegation {ref} against {against}",
    "FindingIssued": "Finding issued by {issued_by} on allegation {ref} against {against}",
    "AllegationResolved": "Allegation {ref} against {against} resolved: {outcome}",
    "AllegationReopened": "Allegation {ref} against {against} reopened",
    "EntryCorrected": "Correction to {entity}: {fields_text}",
    "CheckpointIssued": "Checkpoint signed: the first {tree_size} events hash to {root_hash}",
    "EntryRetracted": "Retraction of an entry of {entity}: {reason}",
}
STATUS_TEXT = {
    "signed": "signed", "ratified": "ratified", "acceded": "acceded to",
    "entered_into_force": "became bound by (entry into force of)", "withdrew": "withdrew from",
}
NOUNS = {"commitments": "commitment", "obligations": "obligation", "reports": "report"}


def summarise(change: Change, state: dict[str, Any] | None) -> str:
    """The change in one line, with codes and ids from the event and its entity's state."""
    state = state or {}
    fields = change.fields
    values = _Values(fields, state)
    values.update(
        ref=change.entity.partition("/")[2],
        entity=change.entity,
        noun=NOUNS.get(change.kind, "entry"),
        subject=state.get("name") or state.get("code", ""),
        party=values["party"] or state.get("code", ""),
        against=values["against"],
        instrument=values["instrument"] or state.get("code", ""),
    )
    if change.type == "TreatyStatusChanged":
        values["status_text"] = STATUS_TEXT.get(fields["status"], fields["status"])
    elif change.type == "CommitmentPledged":
        values["provisions_text"] = ", ".join(fields["provisions"])
    elif change.type == "FundingPledged":
        recipient = fields.get("recipient")
        values["recipient_text"] = f" to {recipient}" if recipient else ""
    elif change.type == "ObligationDeclared":
        values["obligation_kind_text"] = fields["obligation_kind"].replace("_", " ")
        deadline = fields.get("deadline")
        values["deadline_text"] = f", deadline {deadline}" if deadline else " (no deadline stated)"
    elif change.type == "ReportRegistered":
        due = fields.get("due_on")
        values["due_text"] = f" due {due}" if due else " (no due date)"
    elif change.type == "EntryCorrected":
        values["fields_text"] = ", ".join(
            f"{name} = {value}" for name, value in fields["fields"].items()
        )
    return TEMPLATES[change.type].format_map(values)


class _Values(dict):
    """Template values: those set here, then the event's fields, then its entity's state; a
    value found nowhere renders empty."""

    def __init__(self, fields: dict[str, Any], state: dict[str, Any]) -> None:
        super().__init__()
        self.fields, self.state = fields, state

    def __missing__(self, key: str) -> Any:
        if key in self.fields:
            return self.fields[key]
        return self.state.get(key, "")
