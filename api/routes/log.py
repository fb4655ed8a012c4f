"""The raw event log and the full export, streamed; and bulk recording with NDJSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import create_model
from starlette.concurrency import run_in_threadpool

from api.deps import POSITION_MAX, LedgerDep, require
from api.importer import ImportReport, import_lines
from api.problems import MEDIA_TYPE, FieldError, Problem
from api.tokens import Principal
from ledger.exchange import export_line, export_lines

router = APIRouter(tags=["log"])
NDJSON = {200: {"content": {"application/x-ndjson": {}}}}


@router.get("/v1/events", response_class=StreamingResponse, responses=NDJSON)
def events(
    ledger: LedgerDep,
    after: Annotated[int, Query(ge=0, le=POSITION_MAX, description="log position to read after")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StreamingResponse:
    """The raw event log after a position: NDJSON export lines, each with its `position`."""
    return StreamingResponse(
        (export_line(n, position=n.id) for n in ledger.read(after, limit)),
        media_type="application/x-ndjson",
    )


@router.get("/v1/export", response_class=StreamingResponse, responses=NDJSON)
def export(
    ledger: LedgerDep, format: Literal["ndjson", "cloudevents"] = "ndjson",
) -> StreamingResponse:
    """The whole log in order, as `ledger export` writes it (restorable with `ledger restore`)."""
    return StreamingResponse(export_lines(ledger.read_all(), format),
                             media_type="application/x-ndjson",
                             headers={"Content-Disposition": f'attachment; filename="ledger.{format}"'})


#: a refused import's problem+json carries the report beside the problem's own members
ImportProblem = create_model(
    "ImportProblem", __base__=Problem, __doc__="RFC 9457 problem details with the import report.",
    **{name: (info.annotation, info) for name, info in ImportReport.model_fields.items()},
)
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "every line was recorded or already recorded"},
    207: {"model": ImportReport, "description": "some lines were recorded and some refused: "
          "fix the refused lines and send them (or the whole file) again"},
    422: {"model": ImportProblem, "description": "some lines were refused and this request "
          "recorded nothing (always so with `atomic=true`); lines already recorded are named"},
    503: {"model": ImportProblem, "description": "the store failed; the report says what was "
          "recorded before it did: send the file again"},
}


@router.post(
    "/v1/import", response_model=ImportReport, response_model_exclude_none=True,
    responses=IMPORT_RESPONSES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-ndjson": {
        "schema": {"type": "string", "description": "NDJSON command lines (docs/commands.md)"}}}},
        "x-scope": "record"},
)
async def import_commands(
    request: Request, ledger: LedgerDep,
    principal: Annotated[Principal, Depends(require("record"))],
    atomic: Annotated[bool, Query(description="record every line or, if any is refused, none")]
    = False,
) -> Any:
    """Record a batch of NDJSON commands with the rules of `ledger import` and report each line:
    recorded (entity, events, log position), already recorded (same key) or refused (field and
    reason). 200: nothing refused; 207: some recorded, some refused; 422: nothing recorded."""
    body = await request.body()
    report = await run_in_threadpool(import_lines, ledger, body.splitlines(), principal.name,
                                     atomic=atomic)
    if report.interrupted:
        return _refused(request, report, 503, "Store Unavailable", "store-unavailable",
                        {"Retry-After": "5"})
    if report.refused and report.recorded:
        return Response(report.model_dump_json(exclude_none=True), status_code=207,
                        media_type="application/json")
    if report.refused:
        title = "The batch was refused" if atomic else "Every line was refused or already recorded"
        return _refused(request, report, 422, title, "lines-refused")
    return report


def _refused(request: Request, report: ImportReport, status: int, title: str, code: str,
             headers: dict[str, str] | None = None) -> Response:
    """The report as a problem: what was recorded, what was not and why."""
    body = ImportProblem(
        type=f"/-/problems#{code}", title=title, status=status, detail=report.summary(),
        instance=request.url.path, **dict(report),
        errors=[FieldError(field=f"line {e.line}" + (f" {e.field}" if e.field else ""),
                           reason=e.reason) for e in report.errors],
    )
    return Response(body.model_dump_json(exclude_none=True), status_code=status,
                    media_type=MEDIA_TYPE, headers=headers)
