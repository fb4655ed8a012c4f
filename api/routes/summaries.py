"""Summary views: per-instrument counts, the action-plan progress matrix, what is overdue."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from api.deps import ClockDep, ViewDep
from projections import queries

router = APIRouter(tags=["summaries"])
CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"
Today = Annotated[date | None, Query(description="the day due dates are judged by (default: "
                                                 "today, UTC)")]


def _today(value: date | None) -> str:
    return (value or datetime.now(timezone.utc).date()).isoformat()


def _known_instrument(view: Any, code: str) -> None:
    if queries.entity(view, f"instruments/{code}") is None:
        raise HTTPException(404, f"instruments/{code} is not in the ledger")


@router.get("/v1/summary/{instrument}")
def instrument_summary(
    view: ViewDep, clock: ClockDep, instrument: Annotated[str, Path(pattern=CODE, examples=["CCM"])],
    today: Today = None,
) -> dict[str, Any]:
    """Who is where under one treaty: treaty status, obligations declared, begun, completed and
    overdue by kind, reports on time, late or missing, allegations by state."""
    _known_instrument(view, instrument)
    return queries.instrument_summary(view, instrument, _today(today), clock)


@router.get("/v1/matrix/{plan}")
def progress_matrix(
    view: ViewDep, clock: ClockDep, plan: Annotated[str, Path(pattern=CODE, examples=["VAP"])],
) -> dict[str, Any]:
    """Party x action of an action plan: pledged, reported or completed."""
    _known_instrument(view, plan)
    return queries.progress_matrix(view, plan, clock)


#: an `/v1/overdue` cursor: the due date and path of the last entry of the page before
AFTER = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}~(commitments|obligations|reports)/[A-Za-z0-9._-]{1,200}$"


@router.get("/v1/overdue")
def overdue(
    request: Request, response: Response, view: ViewDep, clock: ClockDep, today: Today = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="entries per page")] = 100,
    after: Annotated[str | None, Query(
        pattern=AFTER, description="continue after this entry (`due date~path`, as the "
        "`next` link of the page before gives it)")] = None,
) -> list[dict[str, Any]]:
    """Commitments, obligations and reports whose due date passed unmet, by due date: a page
    of at most `limit`; a `Link: <...>; rel="next"` header continues the listing."""
    cursor = tuple(after.split("~", 1)) if after else None
    found = queries.overdue(view, _today(today), clock, limit=limit + 1, after=cursor)
    if len(found) > limit:
        found = found[:limit]
        last = f"{found[-1]['due_on']}~{found[-1]['path']}"
        response.headers["Link"] = f'<{request.url.include_query_params(after=last)}>; rel="next"'
    return found
