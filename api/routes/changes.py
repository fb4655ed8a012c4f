"""The change log for journalists: filters, cursor paging, CSV and NDJSON downloads streamed in
constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import PLAIN_TEXT, POSITION_MAX, ViewDep, parse_moment
from projections.queries import ChangeFilter, changes
from projections.store import StateView

router = APIRouter(tags=["change log"])

CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"
#: the CSV columns, in order (documented in the README)
CSV_COLUMNS = ("position", "event_id", "recorded_at", "effective_on", "type", "entity", "party",
               "instrument", "provisions", "summary", "recorded_by", "sources", "note", "diff",
               "leaf_index")
PAGE = 1000


def change_filter(
    party: Annotated[str | None, Query(pattern=CODE, examples=["LAO"])] = None,
    instrument: Annotated[str | None, Query(pattern=CODE, examples=["CCM"])] = None,
    action: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}:[A-Za-z0-9.()-]{1,20}$",
                                        description="a provision", examples=["VAP:14"])] = None,
    kind: Annotated[str | None, Query(pattern=r"^[A-Za-z]{1,40}$", description="an event type "
                                      "(ReportSubmitted) or an entity family (reports)")] = None,
    entity: Annotated[str | None, Query(pattern=r"^[a-z]+/[A-Za-z0-9._-]{1,200}$")] = None,
    recorded_from: Annotated[str | None, Query(
        max_length=40, description="recorded at or after this time (RFC 3339; a date means the "
        "start of that day, UTC)")] = None,
    recorded_to: Annotated[str | None, Query(
        max_length=40, description="recorded at or before this time (RFC 3339; a date means "
        "the end of that day, UTC)")] = None,
    effective_from: date | None = None,
    effective_to: date | None = None,
    q: Annotated[str | None, Query(max_length=200, pattern=PLAIN_TEXT,
                                   description="words, all required")] = None,
    code: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$",
                                      description="statements with this code",
                                      examples=["stockpile-existing"])] = None,
    described_as: Annotated[str | None, Query(
        pattern=r"^(state_party|signatory|state_not_party|state|organisation)$",
        description="statements describing their party so")] = None,
    named: Annotated[bool | None, Query(description="statements naming a party (true) or "
                                        "none, a document's own totals among them (false)")] = None,
    certain_by: Annotated[date | None, Query(description="facts certainly in effect by this date "
                                             "(dated by an interval: its last day)")] = None,
) -> ChangeFilter:
    return ChangeFilter(
        party=party, instrument=instrument, action=action, kind=kind, entity=entity,
        recorded_from=(parse_moment(recorded_from, "recorded_from", start=True)
                       if recorded_from else None),
        recorded_to=parse_moment(recorded_to, "recorded_to") if recorded_to else None,
        effective_from=effective_from.isoformat() if effective_from else None,
        effective_to=effective_to.isoformat() if effective_to else None, q=q, code=code,
        described_as=described_as, named=named,
        certain_by=certain_by.isoformat() if certain_by else None,
    )


FilterDep = Annotated[ChangeFilter, Depends(change_filter)]


class ChangePage(BaseModel):
    changes: list[dict[str, Any]]
    next: str | None = None


@router.get("/v1/changes")
def list_changes(
    request: Request, view: ViewDep, where: FilterDep,
    after: Annotated[int, Query(ge=0, le=POSITION_MAX, description="log position to continue after")] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
) -> ChangePage:
    """Change-log rows matching every filter, oldest first; `next` continues the listing."""
    rows = changes(view, where, after=after, limit=limit)
    following = None
    if len(rows) == limit:
        following = str(request.url.include_query_params(after=rows[-1]["position"]))
    return ChangePage(changes=rows, next=following)


def _pages(view: StateView, where: ChangeFilter, decoded: bool = True) -> Iterator[list[Any]]:
    """Every matching row, a page at a time (a response chunk each: one per row made the
    server, not the query, the bottleneck)."""
    after = 0
    while rows := changes(view, where, after=after, limit=PAGE, decoded=decoded):
        yield rows
        after = rows[-1]["position"]


def _csv_lines(view: StateView, where: ChangeFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for page in _pages(view, where, decoded=False):  # the stored diff is the column's JSON
        writer.writerows([
            row["position"], row["event_id"], row["recorded_at"], row["effective_on"] or "",
            row["type"], row["entity"], row["party"] or "", row["instrument"] or "",
            row["provisions"], row["summary"], row["recorded_by"],
            "; ".join(_source_text(s) for s in orjson.loads(row["sources"])), row["note"] or "",
            row["diff"], "" if row["leaf_index"] is None else row["leaf_index"],
        ] for row in page)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _source_text(source: dict[str, Any]) -> str:
    where = ", ".join(f"{k} {source[k]}" for k in ("document", "paragraph", "footnote")
                      if source.get(k))
    return f"{source['title']} ({where})" if where else source["title"]


@router.get("/v1/changes.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
def changes_csv(view: ViewDep, where: FilterDep) -> StreamingResponse:
    """Every matching change as CSV (columns in the README), streamed."""
    return StreamingResponse(_csv_lines(view, where), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="changes.csv"'})


@router.get("/v1/changes.ndjson", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def changes_ndjson(view: ViewDep, where: FilterDep) -> StreamingResponse:
    """Every matching change, one JSON object per line, streamed."""
    lines = (b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in page)
             for page in _pages(view, where))
    return StreamingResponse(lines, media_type="application/x-ndjson")
