"""Shapes of commands: lengths, formats, enums, country and currency codes (meaning is checked by
the aggregates). One model per command's `data`, and the NDJSON line that carries it."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, Union
from uuid import uuid4

import pycountry
from iso4217 import Currency
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    create_model,
    field_validator,
)

# -- reusable field types ------------------------------------------------------------------


def _check_currency(code: str) -> str:
    try:
        Currency(code)
    except ValueError:
        raise ValueError(f"{code} is not an ISO 4217 currency code") from None
    return code


def _within_minor_units(amount: str, info: ValidationInfo) -> str:
    """More than zero, with at most the currency's ISO 4217 minor units (JPY 0, USD 2, BHD 3).
    The currency is declared before the amount, so it has been checked by now."""
    if Decimal(amount) == 0:
        raise ValueError("the amount must be more than zero")
    code = info.data.get("currency")
    places = len(amount.partition(".")[2])
    # funds and metals (XDR, XAU) have no minor unit in ISO 4217: the pattern's 4 places hold
    units = Currency(code).exponent if code else None
    if units is not None and places > units:
        raise ValueError(f"{code} amounts have at most {units} decimal places (ISO 4217)")
    return amount


def _check_period(value: str) -> str:
    start, _, end = value.partition("/")
    first = date.fromisoformat(start)
    if end and date.fromisoformat(end) < first:
        raise ValueError("the range ends before it starts")
    return value


#: one line of text: no control characters (NUL cannot be stored in PostgreSQL text)
LINE = r"^[^\x00-\x1f\x7f]*$"
#: prose may also hold tabs and line breaks
PROSE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(min_length=1, max_length=5000, pattern=PROSE)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=LINE)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}$")]
#: a state (ISO 3166-1 alpha-3) or an organisation; whether it is registered is the ledger's check
PartyCode = Code
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_check_currency)]
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
Provision = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}:[A-Za-z0-9.()-]{1,20}$")]
ReportId = Annotated[str, StringConstraints(min_length=5, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")]
EntityPath = Annotated[
    str,
    StringConstraints(
        pattern=r"^(parties|instruments|commitments|fundings|obligations|reports|allegations|statements)/[A-Za-z0-9._-]{1,200}$"
    ),
]
Day = date
URL = Annotated[str, StringConstraints(pattern=r"^https?://[^\s\x00-\x1f\x7f]{1,2000}$")]
#: money: a plain decimal string ("430700000", "12.50"): no sign, exponent, separators or spaces
Amount = Annotated[
    str,
    StringConstraints(strip_whitespace=False, pattern=r"^(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?$"),
    AfterValidator(_within_minor_units),
    Field(description="a decimal string with at most the currency's ISO 4217 minor units "
                      "(JPY 0, USD 2, BHD 3): no sign, exponent, separators or spaces"),
]
#: integers are stored as JSON numbers of at most 64 bits
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
#: NaN and infinities are not JSON: the store would keep them as null
Finite = Annotated[float, Field(allow_inf_nan=False)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=LINE)]
Quantities = dict[Name, Int64 | Finite]
#: how deep a corrected field's value may nest
DEPTH = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what PROSE refuses


def _storable(value: Any, depth: int = 0) -> Any:
    """Refuse JSON values the store cannot keep exactly: integers beyond 64 bits, NaN and
    infinities, control characters, nesting deeper than DEPTH."""
    if depth > DEPTH:
        raise ValueError(f"values may nest at most {DEPTH} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _storable(key, depth + 1)
            _storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(item, depth + 1)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError("numbers must fit in 64 bits")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, str) and _CONTROL.search(value):
        raise ValueError("text must not hold control characters")
    return value


JSONObject = Annotated[dict[Name, Any], AfterValidator(_storable)]
EffectiveOn = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(/[0-9]{4}-[0-9]{2}-[0-9]{2})?$"),
    AfterValidator(_check_period),
]

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Source(BaseModel):
    model_config = Strict
    title: ShortText
    document: ShortText | None = None
    paragraph: Annotated[str, StringConstraints(min_length=1, max_length=50,
                                                pattern=LINE)] | None = None
    footnote: Annotated[str, StringConstraints(min_length=1, max_length=50,
                                               pattern=LINE)] | None = None
    url: URL | None = None
    retrieved_on: Day | None = None


# -- command data --------------------------------------------------------------------------


class Data(BaseModel):
    model_config = Strict


class RegisterParty(Data):
    kind: Literal["state", "organisation"]
    code: Code
    name: ShortText

    @field_validator("code")
    @classmethod
    def _code_fits_kind(cls, code: str, info: ValidationInfo) -> str:
        is_country = pycountry.countries.get(alpha_3=code) is not None
        if info.data.get("kind") == "state" and not is_country:
            raise ValueError(f"{code} is not an ISO 3166-1 alpha-3 country code")
        if info.data.get("kind") == "organisation" and is_country:
            raise ValueError(f"{code} is a country code; give the organisation a code of its own")
        return code


class ChangeTreatyStatus(Data):
    party: PartyCode
    instrument: Code
    #: `state_party` where the source does not say whether the party ratified or acceded
    status: Literal["signed", "ratified", "acceded", "state_party", "entered_into_force", "withdrew"]
    on: Day


class RegisterInstrument(Data):
    code: Code
    title: ShortText
    kind: Literal["treaty", "action_plan"]
    parent: Code | None = None
    adopted_on: Day | None = None


class AddProvision(Data):
    instrument: Code
    number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.()-]{1,20}$")]
    kind: Literal["article", "action"]
    title: ShortText
    text: Text | None = None
    area: ShortText | None = None


class PledgeCommitment(Data):
    id: EntityId | None = None
    party: PartyCode
    provisions: Annotated[list[Provision], Field(min_length=1, max_length=50)]
    text: Text
    target: Text | None = None
    #: left out for open-ended pledges (offers of assistance): they never lapse
    due_on: Day | None = None


class ReportProgress(Data):
    commitment: EntityId
    status: Literal["in_progress", "stalled"]
    quantities: Quantities | None = None
    summary: Text | None = None


class ExtendDueDate(Data):
    commitment: EntityId
    due_on: Day
    reason: Text


class AssessCommitment(Data):
    commitment: EntityId
    outcome: Literal["kept", "partially_kept", "broken"]
    assessor: Literal["self", "independent"]
    assessed_by: ShortText


class WithdrawCommitment(Data):
    commitment: EntityId
    reason: Text


class PledgeFunding(Data):
    id: EntityId | None = None
    donor: PartyCode
    recipient: PartyCode | None = None
    currency: CurrencyCode  # before amount, whose decimal places it sets
    amount: Amount
    purpose: Text | None = None
    period: ShortText | None = None
    provisions: Annotated[list[Provision], Field(max_length=50)] | None = None


class DisburseFunding(Data):
    funding: EntityId
    currency: CurrencyCode  # before amount, whose decimal places it sets
    amount: Amount


class DeclareObligation(Data):
    id: EntityId | None = None
    party: PartyCode
    provision: Provision
    kind: Literal[
        "stockpile_destruction", "clearance", "victim_assistance", "retention", "legislation",
        "other",
    ]
    description: Text
    quantities: Quantities | None = None
    #: left out when the source states none (the obligation then never lapses)
    deadline: Day | None = None


class ReportObligationProgress(Data):
    obligation: EntityId
    quantities: Quantities | None = None
    summary: Text


class RequestExtension(Data):
    obligation: EntityId
    requested_deadline: Day
    reason: Text


class GrantExtension(Data):
    obligation: EntityId
    deadline: Day


class RefuseExtension(Data):
    obligation: EntityId
    reason: Text


class DeclareCompletion(Data):
    obligation: EntityId


ReportKind = Literal["initial", "annual", "voluntary", "progress", "statement", "extension_request"]
Period = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


class ScheduleReport(Data):
    party: PartyCode
    instrument: Code
    kind: ReportKind
    period: Period
    due_on: Day


class SubmitReport(Data):
    party: PartyCode
    instrument: Code
    kind: ReportKind
    period: Period
    received_on: Day
    document: ShortText | None = None
    url: URL | None = None
    covers: Annotated[list[Provision], Field(max_length=100)] | None = None
    summary: Text | None = None


class AmendReport(Data):
    report: ReportId
    received_on: Day
    document: ShortText | None = None
    summary: Text


class FileAllegation(Data):
    id: EntityId | None = None
    #: left out when the source names no user
    against: PartyCode | None = None
    provision: Provision
    filed_by: ShortText
    place: ShortText | None = None
    #: the registered party (a state) where the use or breach was reported
    territory: PartyCode | None = None
    occurred_on: Day | None = None
    summary: Text
    evidence: Text | None = None


class AllegationStep(Data):
    allegation: EntityId
    summary: Text


class OpenReview(Data):
    allegation: EntityId
    summary: Text | None = None


class IssueFinding(Data):
    allegation: EntityId
    finding: Text
    issued_by: ShortText


class ResolveAllegation(Data):
    allegation: EntityId
    outcome: Literal["not_credible", "unfounded", "confirmed", "remedied"]
    recommendation: Text | None = None


class ReopenAllegation(Data):
    allegation: EntityId
    reason: Text


StatementCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class AddStatementCode(Data):
    instrument: Code
    code: StatementCode
    label: ShortText
    area: ShortText | None = None


class Quantity(Data):
    #: a plain decimal string ("64448458", "1.9"): no sign, exponent, separators or spaces
    value: Annotated[str, StringConstraints(strip_whitespace=False,
                                            pattern=r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?$")]
    unit: Name


class RecordStatement(Data):
    id: EntityId | None = None
    instrument: Code
    code: StatementCode
    #: left out for a document's own total (then give a quantity) or a fact with no party named
    party: PartyCode | None = None
    described_as: Literal["state_party", "signatory", "state_not_party", "state",
                          "organisation"] | None = None
    provisions: Annotated[list[Provision], Field(max_length=50)] | None = None
    quantity: Quantity | None = None
    territory: PartyCode | None = None
    text: Text


class CorrectEntry(Data):
    entity: EntityPath
    event: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    fields: Annotated[JSONObject, Field(min_length=1, max_length=50)]
    reason: Text


class RetractEntry(Data):
    entity: EntityPath
    event: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
    reason: Text


COMMANDS: dict[str, type[Data]] = {
    "register_party": RegisterParty,
    "change_treaty_status": ChangeTreatyStatus,
    "register_instrument": RegisterInstrument,
    "add_provision": AddProvision,
    "pledge_commitment": PledgeCommitment,
    "report_progress": ReportProgress,
    "extend_due_date": ExtendDueDate,
    "assess_commitment": AssessCommitment,
    "withdraw_commitment": WithdrawCommitment,
    "pledge_funding": PledgeFunding,
    "disburse_funding": DisburseFunding,
    "declare_obligation": DeclareObligation,
    "report_obligation_progress": ReportObligationProgress,
    "request_extension": RequestExtension,
    "grant_extension": GrantExtension,
    "refuse_extension": RefuseExtension,
    "declare_completion": DeclareCompletion,
    "schedule_report": ScheduleReport,
    "submit_report": SubmitReport,
    "amend_report": AmendReport,
    "file_allegation": FileAllegation,
    "open_review": OpenReview,
    "request_clarification": AllegationStep,
    "receive_response": AllegationStep,
    "open_investigation": AllegationStep,
    "issue_finding": IssueFinding,
    "resolve_allegation": ResolveAllegation,
    "reopen_allegation": ReopenAllegation,
    "add_statement_code": AddStatementCode,
    "record_statement": RecordStatement,
    "correct_entry": CorrectEntry,
    "retract_entry": RetractEntry,
}

Note = Annotated[str, StringConstraints(max_length=2000, pattern=PROSE)]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class Envelope(BaseModel):
    """What every command line carries besides its data."""

    model_config = Strict
    key: IdempotencyKey
    effective_on: EffectiveOn | None = None
    sources: Annotated[list[Source], Field(max_length=20)] = []
    note: Note | None = None


def _line_model(name: str, data_model: type[Data]) -> type[BaseModel]:
    model_name = "".join(part.title() for part in name.split("_")) + "Line"
    return create_model(
        model_name, __base__=Envelope, command=(Literal[name], ...), data=(data_model, ...)
    )


CommandLine = TypeAdapter(
    Annotated[
        Union[tuple(_line_model(name, model) for name, model in COMMANDS.items())],  # noqa: UP007
        Field(discriminator="command"),
    ]
)


def entity_id_for(key: str | None) -> str:
    """An id for a created entity the recorder did not name: stable for a given idempotency key."""
    if key is None:
        return uuid4().hex[:16]
    return "k" + hashlib.sha256(key.encode()).hexdigest()[:15]


def creation_id(data: dict[str, Any], key: str | None) -> dict[str, Any]:
    """Fill in `id` of a creating command when it was left out."""
    if "id" in data and data["id"] is None:
        return {**data, "id": entity_id_for(key)}
    return data


def command_schema() -> dict[str, Any]:
    """The JSON Schema of one NDJSON command line (written to docs/commands.schema.json)."""
    schema = CommandLine.json_schema()
    schema["title"] = "Commitment Ledger command (one NDJSON line)"
    return schema

