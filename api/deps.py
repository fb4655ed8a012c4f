"""Dependencies of the routes: the ledger, the read model (the primary's or a replica's), the
settings and the caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timezone
from typing import Annotated, Literal

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.reads import MIN_POSITION, ReadSide
from api.settings import Settings
from api.tokens import Principal
from ledger.commands import Ledger
from projections.queries import Clock
from projections.store import StateView

#: the largest log position (a signed 64-bit integer in both stores)
POSITION_MAX = 2**63 - 1
#: free text in a query: no control characters (NUL breaks both stores' text search)
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]*$"


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger


async def read_side(
    request: Request,
    least: Annotated[int | None, Header(
        alias=MIN_POSITION, ge=0, le=POSITION_MAX,
        description="read at least this log position (a write's `Ledger-Position`): the "
                    "read waits up to LEDGER_READ_WAIT seconds (default 2) for the read model "
                    "to reach it, then answers from the primary, or 503 with Retry-After",
    )] = None,
) -> ReadSide:
    """The read models this read is answered from (api.reads); the response says which, and
    at what position."""
    side, position = await request.app.state.reads.choose(least)
    request.state.read_at = (side.name, position)
    return side


ReadDep = Annotated[ReadSide, Depends(read_side)]


async def get_view(side: ReadDep) -> StateView:
    """Async, so that it costs no thread hop (a sync dependency runs in the thread pool)."""
    return side.view


def get_settings_(request: Request) -> Settings:
    return request.app.state.settings


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ViewDep = Annotated[StateView, Depends(get_view)]
SettingsDep = Annotated[Settings, Depends(get_settings_)]


#: documents the bearer scheme in OpenAPI; `RequireToken` has already checked the token
bearer = HTTPBearer(auto_error=False, description="a token from `ledger token create`")


def require(scope: str) -> Callable[[Request], Principal]:
    """The authenticated caller (see `RequireToken`), if it holds `scope` (admin holds all)."""

    def check(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
    ) -> Principal:
        principal: Principal | None = request.scope.get("state", {}).get("principal")
        if principal is None:
            raise HTTPException(401, "writes need a valid bearer token")
        if not principal.may(scope):
            raise HTTPException(403, f"this needs a token with the {scope!r} scope")
        return principal

    return check


def parse_moment(text: str, field: str, start: bool = False) -> str:
    """RFC 3339 time (UTC if no offset) or a date, meaning the end of that day in UTC (its
    `start` for the first moment of a range)."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time.min if start else time.max,
                                      tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).isoformat()
    except ValueError:
        reason = "expected an RFC 3339 time such as 2011-08-20T12:00:00Z, or a date"
    except OverflowError:  # a time near year 1 or 9999 whose offset moves it out of range in UTC
        reason = "the time falls outside the years 1 to 9999 in UTC"
    raise RequestValidationError([{"loc": ("query", field), "type": "value_error", "msg": reason}])


def clock(
    as_known_at: Annotated[
        str | None,
        Query(description="what the ledger knew at this time (RFC 3339; a date means the end "
                          "of that day, UTC)", examples=["2011-08-20T00:00:00Z"],
              max_length=40),
    ] = None,
    at_position: Annotated[
        int | None, Query(ge=0, le=POSITION_MAX, description="what the ledger knew at this log position")
    ] = None,
    effective_on: Annotated[
        date | None,
        Query(description="the world as it stood on this date, as known now: a fact dated "
                          "by an interval counts from the interval's last day, when it is "
                          "certain", examples=["2011-06-30"]),
    ] = None,
    include: Annotated[
        Literal["possible"] | None,
        Query(description="with effective_on: also count facts whose interval has begun "
                          "but not ended by then (possibly true)"),
    ] = None,
) -> Clock:
    return Clock(
        known_at=parse_moment(as_known_at, "as_known_at") if as_known_at else None,
        known_at_position=at_position,
        effective_on=effective_on.isoformat() if effective_on else None,
        possible=include == "possible",
    )


ClockDep = Annotated[Clock, Depends(clock)]
