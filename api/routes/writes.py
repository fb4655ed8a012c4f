"""A POST route for every domain command, generated from one table: a validated body in, one
`Ledger.execute` call, the recorded events out. Scopes: `record`, `adjudicate`, `admin`."""

import inspect
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Header, Path, Request, Response
from pydantic import BaseModel, Field, create_model

from api import schemas
from api.deps import get_ledger, require
from api.problems import Problem
from api.schemas import COMMANDS, EffectiveOn, Source, creation_id
from ledger.entity import Provenance

router = APIRouter(tags=["recording"])

#: (path, command, path parameter naming the entity, scope, what it does)
WRITES: list[tuple[str, str, str | None, str, str]] = [
    ("/v1/parties", "register_party", None, "record", "Register a state or organisation"),
    ("/v1/parties/{party}/treaty-statuses", "change_treaty_status", "party", "record",
     "Record a change of treaty status"),
    ("/v1/instruments", "register_instrument", None, "record", "Register a treaty or action plan"),
    ("/v1/instruments/{instrument}/provisions", "add_provision", "instrument", "record",
     "Add an article or action"),
    ("/v1/commitments", "pledge_commitment", None, "record", "Record a pledge"),
    ("/v1/commitments/{commitment}/progress", "report_progress", "commitment", "record",
     "Record progress on a pledge"),
    ("/v1/commitments/{commitment}/due-date-extensions", "extend_due_date", "commitment", "record",
     "Extend a pledge's due date"),
    ("/v1/commitments/{commitment}/assessments", "assess_commitment", "commitment", "record",
     "Assess a pledge as kept, partially kept or broken"),
    ("/v1/commitments/{commitment}/withdrawal", "withdraw_commitment", "commitment", "record",
     "Record the withdrawal of a pledge"),
    ("/v1/fundings", "pledge_funding", None, "record", "Record a funding pledge"),
    ("/v1/fundings/{funding}/disbursements", "disburse_funding", "funding", "record",
     "Record a disbursement"),
    ("/v1/obligations", "declare_obligation", None, "record", "Record a declared obligation"),
    ("/v1/obligations/{obligation}/progress", "report_obligation_progress", "obligation", "record",
     "Record progress on an obligation"),
    ("/v1/obligations/{obligation}/extension-requests", "request_extension", "obligation",
     "record", "Record an extension request"),
    ("/v1/obligations/{obligation}/extension-grants", "grant_extension", "obligation",
     "adjudicate", "Record that an extension was granted"),
    ("/v1/obligations/{obligation}/extension-refusals", "refuse_extension", "obligation",
     "adjudicate", "Record that an extension was refused"),
    ("/v1/obligations/{obligation}/completion", "declare_completion", "obligation", "record",
     "Record a declaration of completion"),
    ("/v1/report-schedules", "schedule_report", None, "record", "Record that a report is due"),
    ("/v1/report-submissions", "submit_report", None, "record", "Record a report submission"),
    ("/v1/reports/{report}/amendments", "amend_report", "report", "record",
     "Record an amendment to a report"),
    ("/v1/allegations", "file_allegation", None, "record", "Record a compliance allegation"),
    ("/v1/allegations/{allegation}/review", "open_review", "allegation", "record",
     "Record that review of an allegation opened"),
    ("/v1/allegations/{allegation}/clarification-requests", "request_clarification",
     "allegation", "record", "Record a request for clarification"),
    ("/v1/allegations/{allegation}/responses", "receive_response", "allegation", "record",
     "Record a response received"),
    ("/v1/allegations/{allegation}/investigation", "open_investigation", "allegation",
     "adjudicate", "Record that an investigation opened"),
    ("/v1/allegations/{allegation}/findings", "issue_finding", "allegation", "adjudicate",
     "Record a finding"),
    ("/v1/allegations/{allegation}/resolution", "resolve_allegation", "allegation", "adjudicate",
     "Record the resolution of an allegation"),
    ("/v1/allegations/{allegation}/reopening", "reopen_allegation", "allegation", "adjudicate",
     "Record that an allegation was reopened"),
    ("/v1/instruments/{instrument}/statement-codes", "add_statement_code", "instrument", "record",
     "Add a code to the vocabulary statements are recorded in"),
    ("/v1/statements", "record_statement", None, "record",
     "Record what a document states about a party, or a document's own total"),
    ("/v1/corrections", "correct_entry", None, "record", "Correct an earlier entry"),
    ("/v1/retractions", "retract_entry", None, "record", "Retract an earlier entry"),
]

ENTITY_FAMILY = {
    "party": "parties", "instrument": "instruments", "commitment": "commitments",
    "funding": "fundings", "obligation": "obligations", "report": "reports",
    "allegation": "allegations", "statement": "statements",
}


class Recorded(BaseModel):
    """What a command recorded. A retry with the same Idempotency-Key gets the same body."""

    command: str = Field(examples=["pledge_commitment"])
    entity: str = Field(description="the entity's path", examples=["commitments/ccm-art3-PER"])
    events: list[str] = Field(description="ids of the events recorded")


ENVELOPE_FIELDS: dict[str, Any] = {
    "effective_on": (EffectiveOn | None, Field(None, description="when it happened in the world: "
                     "YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD")),
    "sources": (list[Source], Field(default=[], max_length=20,
                                    description="documents it rests on")),
    "note": (schemas.Note | None, None),
}


def body_model(command: str, path_field: str | None) -> type[BaseModel]:
    """The request body: the command's fields (less the one in the path) and the envelope."""
    data_model = COMMANDS[command]
    name = "".join(part.title() for part in command.split("_")) + "Request"
    if path_field is None:
        return create_model(name, __base__=data_model, **ENVELOPE_FIELDS)
    fields = {key: (info.annotation, info) for key, info in data_model.model_fields.items()
              if key != path_field}
    return create_model(name, __config__=schemas.Strict, **fields, **ENVELOPE_FIELDS)


def demo_examples() -> dict[str, dict[str, Any]]:
    """The first line of each command in the demo data, as an OpenAPI request example."""
    examples: dict[str, dict[str, Any]] = {}
    for file in sorted(resources.files("ledger.demo").iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".ndjson"):
            continue
        for line in file.read_bytes().splitlines():
            record = orjson.loads(line)
            if record["command"] not in examples:
                envelope = {k: record[k] for k in ("effective_on", "sources", "note") if record.get(k)}
                examples[record["command"]] = {**record["data"], **envelope}
    return examples


#: examples for the commands the demo data does not use (illustrative values, not facts)
ILLUSTRATIONS: dict[str, dict[str, Any]] = {
    "amend_report": {"report": "CCM-HRV-initial-2010", "received_on": "2011-09-30",
                     "summary": "Corrected the number of submunitions retained"},
    "assess_commitment": {"commitment": "ccm-ratify-2011-PER", "outcome": "kept",
                          "assessor": "independent", "assessed_by": "CMC"},
    "correct_entry": {"entity": "obligations/ccm-art3-HRV",
                      "event": "6f1c2d34-4b5e-4f60-8a71-92b3c4d5e6f7",
                      "fields": {"description": "Declared stockpile of cluster munitions"},
                      "reason": "The first entry misquoted the report"},
    "disburse_funding": {"funding": "apmbc-mine-action-funding-2014", "amount": "1000000",
                         "currency": "USD"},
    "extend_due_date": {"commitment": "ccm-ratify-2011-PER", "due_on": "2012-12-31",
                        "reason": "Ratification bill still before parliament"},
    "grant_extension": {"obligation": "ccm-art4-LAO", "deadline": "2025-08-01"},
    "refuse_extension": {"obligation": "ccm-art4-LAO", "reason": "Request lacked a work plan"},
    "reopen_allegation": {"allegation": "apmbc-cc-2019-SSD", "reason": "New information received"},
    "request_extension": {"obligation": "ccm-art4-LAO", "requested_deadline": "2025-08-01",
                          "reason": "Survey of contaminated land not complete"},
    "retract_entry": {"entity": "parties/LAO", "event": "6f1c2d34-4b5e-4f60-8a71-92b3c4d5e6f7",
                      "reason": "Recorded twice by mistake"},
    "schedule_report": {"party": "LAO", "instrument": "CCM", "kind": "annual", "period": "2011",
                        "due_on": "2012-04-30"},
    "withdraw_commitment": {"commitment": "ccm-ratify-2011-PER", "reason": "Pledge superseded"},
}
EXAMPLES = {**ILLUSTRATIONS, **demo_examples()}


def make_route(command: str, path_field: str | None, scope: str) -> Any:
    model = body_model(command, path_field)
    example = {k: v for k, v in EXAMPLES.get(command, {}).items() if k != path_field}
    body_annotation: Any = model
    if example:
        summary = ("from the demo data (ledger/demo)" if command not in ILLUSTRATIONS
                   else "illustrative values")
        body_annotation = Annotated[model, Body(openapi_examples={
            "example": {"summary": summary, "value": example}})]

    def record(request: Request, response: Response, body: Any, principal: Any,
               idempotency_key: str | None, if_match: str | None, **path: str) -> Recorded:
        ledger = get_ledger(request)
        fields = body.model_dump(mode="json")
        provenance = Provenance(
            recorded_by=principal.name, effective_on=fields.pop("effective_on"),
            sources=tuple({k: v for k, v in s.items() if v is not None}
                          for s in fields.pop("sources")),
            note=fields.pop("note"),
        )
        key = f"http/{principal.name}/{idempotency_key}" if idempotency_key else None
        data = creation_id({**fields, **path}, key)
        expected = None
        if if_match is not None and path_field is not None:
            expected = (f"{ENTITY_FAMILY[path_field]}/{path[path_field]}", parse_etag(if_match))
        outcome = ledger.execute(command, data, provenance_=provenance, key=key,
                                 expected=expected)
        response.status_code = 201
        response.headers["Location"] = f"/v1/{outcome.result}"
        if outcome.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        else:
            response.headers["Ledger-Position"] = str(outcome.position)
        return Recorded(command=outcome.command, entity=outcome.result, events=outcome.events)

    parameters = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter("response", inspect.Parameter.KEYWORD_ONLY, annotation=Response),
        inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY,
                          annotation=Annotated[Any, Depends(require(scope))]),
        inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body_annotation),
        inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[str | None, Header(
                              max_length=200, pattern=r"^[\x21-\x7e]+$",
                              description="retrying with the same key records nothing new")]),
        inspect.Parameter("if_match", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[str | None, Header(
                              max_length=40, pattern=r'^(W/)?"v[0-9]+"$',
                              description='the entity version last seen, as its ETag: "v3"')]),
    ]
    if path_field is not None:
        parameters.append(inspect.Parameter(
            path_field, inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str, Path(pattern=_path_pattern(path_field), max_length=200)]))
    record.__signature__ = inspect.Signature(parameters, return_annotation=Recorded)
    return record


def parse_etag(value: str) -> int:
    return int(value.removeprefix("W/").strip('"').removeprefix("v"))


def _path_pattern(field: str) -> str:
    return r"^[A-Z0-9][A-Z0-9-]{1,19}$" if field in ("party", "instrument") else r"^[A-Za-z0-9._-]+$"


ERRORS = {
    401: {"model": Problem, "description": "no valid bearer token"},
    403: {"model": Problem, "description": "the token lacks the scope"},
    404: {"model": Problem, "description": "the entity in the path is unknown"},
    409: {"model": Problem, "description": "the command breaks a rule of the entity's lifecycle"},
    412: {"model": Problem, "description": "If-Match names a version that is no longer current"},
    413: {"model": Problem, "description": "the body is too large"},
    422: {"model": Problem, "description": "the body is malformed or names unknown entities"},
    503: {"model": Problem, "description": "the store is unreachable"},
}

for path, command, path_field, scope, summary in WRITES:
    router.add_api_route(
        path, make_route(command, path_field, scope), methods=["POST"], status_code=201,
        response_model=Recorded, summary=summary, operation_id=command,
        description=f"Command `{command}` (docs/commands.md). Needs the `{scope}` scope.",
        responses=ERRORS, openapi_extra={"x-scope": scope},
    )
