"""The progress report of an instrument as a page, with JSON, Markdown and PDF twins: one cached
build from projections.report, one render from pages.report."""

# no `from __future__ import annotations`: FastAPI reads the Annotated parameters at runtime

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, ViewDep, parse_moment
from pages import report as render
from pages.render import Frame
from projections import overviews
from projections.queries import Clock, family
from projections.report import CACHE, moved

router = APIRouter(tags=["pages"], include_in_schema=False)
CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"
FORMATS = {"": "text/html; charset=utf-8", ".json": "application/json",
           ".md": "text/markdown; charset=utf-8", ".pdf": "application/pdf"}


def progress_report(
    request: Request, view: ViewDep, clock: ClockDep, code: Annotated[str, Path(pattern=CODE)],
    plan: Annotated[str | None, Query(pattern=CODE, description="the action plan whose action "
                                      "numbers the figures give (default: the first)")] = None,
    against_effective_on: Annotated[date | None, Query(
        description="what moved since the world as it stood on this date")] = None,
    against_as_known_at: Annotated[str | None, Query(
        max_length=40, description="what moved since the ledger knew this time")] = None,
) -> Response:
    """Sections per area of the action plan, every figure linked to its events; with an
    `against_` clock, what moved since then."""
    members = family(view, code)
    if code not in overviews.names(view).instruments or (plan and plan not in members):
        raise HTTPException(404, f"instruments/{code}{'/' + plan if plan else ''} is not in the "
                                 "ledger")
    report = CACHE.report(view, code, clock, plan)
    changed: list[dict[str, Any]] | None = None
    against = None
    if against_effective_on is not None or against_as_known_at is not None:
        earlier = Clock(
            known_at=(parse_moment(against_as_known_at, "against_as_known_at")
                      if against_as_known_at else clock.known_at),
            effective_on=(against_effective_on.isoformat() if against_effective_on
                          else clock.effective_on), possible=clock.possible)
        before = CACHE.report(view, code, earlier, plan)
        changed, against = moved(before, report), before["clock"]
    data = render.footnoted(report, changed, against)
    suffix = next((s for s in (".json", ".md", ".pdf") if request.url.path.endswith(s)), "")
    if suffix == ".json":
        return Response(orjson.dumps(data), media_type=FORMATS[suffix])
    if suffix == ".md":
        return Response(render.markdown(data, str(request.base_url)), media_type=FORMATS[suffix])
    page_path = f"/instruments/{code}/report"
    frame = Frame(f"Progress report: {code}", page_path, overviews.names(view),
                  f"instruments/{code}", f"changes under the {code}", dict(request.query_params))
    page = render.html(data, frame, clock)
    if suffix == ".pdf":
        from pages.pdf import pdf  # Playwright is imported only when a PDF is asked for

        return Response(pdf(page, str(request.base_url)), media_type=FORMATS[suffix])
    return HTMLResponse(page)


for _suffix in (".json", ".md", ".pdf", ""):
    router.add_api_route(f"/instruments/{{code}}/report{_suffix}", progress_report,
                         methods=["GET"], response_class=HTMLResponse if not _suffix else Response)
