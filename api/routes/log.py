"""The raw event log and the full export, streamed; and bulk recording with NDJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import POSITION_MAX, LedgerDep, require
from api.importer import import_lines
from api.problems import Problem, ProblemException
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


class ImportResult(BaseModel):
    recorded: int
    skipped: int


@router.post(
    "/v1/import",
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-ndjson": {
        "schema": {"type": "string", "description": "NDJSON command lines (docs/commands.md)"}}}},
        "x-scope": "record"},
    responses={422: {"model": Problem, "description": "some lines were refused; each is named "
                     "in `errors`, every good line was recorded"}},
)
async def import_commands(
    request: Request, ledger: LedgerDep,
    principal: Annotated[Principal, Depends(require("record"))],
) -> ImportResult:
    """Record a batch of NDJSON commands with the rules of `ledger import`: every good line is
    recorded, every bad line is named; lines already recorded are skipped."""
    body = await request.body()
    report = await run_in_threadpool(import_lines, ledger, body.splitlines(), principal.name)
    if report.errors:
        raise ProblemException(
            422, "Some lines were refused",
            f"{report.recorded} recorded, {report.skipped} already recorded, "
            f"{len(report.errors)} refused", "lines-refused",
            [(f"line {e.line}" + (f" {e.field}" if e.field else ""), e.reason)
             for e in report.errors],
        )
    return ImportResult(recorded=report.recorded, skipped=report.skipped)
