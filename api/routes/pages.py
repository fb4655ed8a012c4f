"""Pages people read, each with a JSON twin at the same path plus `.json`: one query from
projections.overviews, one render from pages.render."""

# no `from __future__ import annotations`: the route factories close over their Path patterns

from datetime import date, datetime, timezone
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import ClockDep, ReadDep, ViewDep
from api.routes.changes import FilterDep
from api.routes.entities import FAMILIES
from pages.render import Frame, render
from projections import overviews

STYLESHEET = files("pages").joinpath("static/ledger.css").read_bytes()
CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"
Today = Annotated[date | None, Query(description="the day due dates are judged by")]


def canonical(request: Request) -> None:
    """A form submits its empty fields too: send the reader to the same query without them."""
    items = request.query_params.multi_items()
    if any(value == "" for _, value in items):
        kept = urlencode([(key, value) for key, value in items if value != ""])
        raise HTTPException(303, "the same page without its empty fields",
                            headers={"Location": request.url.path + (f"?{kept}" if kept else "")})


router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[Depends(canonical)])


def _today(value: date | None) -> str:
    return (value or datetime.now(timezone.utc).date()).isoformat()


def _respond(request: Request, template: str, frame: Frame, data: dict[str, Any]) -> Response:
    """The JSON twin when the path ends in .json, else the HTML page."""
    if request.url.path.endswith(".json"):
        return Response(orjson.dumps(data), media_type="application/json")
    return HTMLResponse(render(template, frame, data))


def _twin(path: str, json_path: str | None = None):  # noqa: ANN202 - a decorator
    """Register a page at `path` and its JSON twin (first, so `.json` never reads as an id)."""
    def register(handler):  # noqa: ANN001, ANN202
        router.add_api_route(json_path or f"{path}.json", handler, methods=["GET"])
        router.add_api_route(path, handler, methods=["GET"], response_class=HTMLResponse)
        return handler
    return register


@router.get("/-/static/ledger.css")
def stylesheet() -> Response:
    return Response(STYLESHEET, media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


@_twin("/", "/index.json")
def home(request: Request, view: ViewDep, today: Today = None) -> Response:
    data = overviews.home(view, _today(today))
    frame = Frame("What changed", "/", overviews.names(view))
    return _respond(request, "home.html", frame, data)


@_twin("/changes")
def change_log(
    request: Request, view: ViewDep, where: FilterDep,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    query = {k: v for k, v in request.query_params.items() if k != "before"}
    data = overviews.change_log(view, where, before)
    twin = "/changes.json" + (f"?{request.url.query}" if request.url.query else "")
    frame = Frame("Change log", "/changes", overviews.names(view), "changes",
                  "these changes" if query else "every change", query, twin)
    return _respond(request, "changes.html", frame, {**data, "filters": query})


@_twin("/parties")
def parties(request: Request, view: ViewDep, clock: ClockDep) -> Response:
    data = overviews.parties(view, clock)
    return _respond(request, "parties.html", Frame("Parties", "/parties", overviews.names(view)),
                    data)


@_twin("/parties/{code}")
def party(request: Request, view: ViewDep, clock: ClockDep,
          code: Annotated[str, Path(pattern=CODE)], today: Today = None) -> Response:
    data = _found(overviews.party(view, code, _today(today), clock), f"parties/{code}")
    name = data["party"]["name"]
    frame = Frame(f"{name} ({code})", f"/parties/{code}", overviews.names(view),
                  f"parties/{code}", f"{name}'s changes")
    return _respond(request, "party.html", frame, {**data, "clock": clock})


@_twin("/instruments")
def instruments(request: Request, view: ViewDep) -> Response:
    names = overviews.names(view)
    data = {"instruments": list(names.instruments.values())}
    return _respond(request, "instruments.html", Frame("Treaties and action plans",
                                                       "/instruments", names), data)


@_twin("/instruments/{code}")
def instrument(request: Request, view: ViewDep, clock: ClockDep,
               code: Annotated[str, Path(pattern=CODE)], today: Today = None) -> Response:
    data = _found(overviews.instrument(view, code, _today(today), clock), f"instruments/{code}")
    frame = Frame(f"{data['instrument']['title']} ({code})", f"/instruments/{code}",
                  overviews.names(view), f"instruments/{code}", f"changes under the {code}")
    return _respond(request, "instrument.html", frame, {**data, "clock": clock})


def _entity_route(family: str, pattern: str):  # noqa: ANN202 - a route
    def entity(request: Request, view: ViewDep, side: ReadDep, clock: ClockDep,
               id: Annotated[str, Path(pattern=pattern)]) -> Response:
        path = f"{family}/{id}"
        data = _found(overviews.entity_page(view, path, clock), path)
        frame = Frame(_entity_title(data["entity"], overviews.names(view)), f"/{path}",
                      overviews.names(view), path, "this entry's changes")
        tree_size = side.audit.size()
        return _respond(request, "entity.html", frame,
                        {**data, "clock": clock, "tree_size": tree_size})
    return entity


for _family, (_noun, _pattern, _example) in FAMILIES.items():
    if _family not in ("parties", "instruments"):
        _twin(f"/{_family}/{{id}}")(_entity_route(_family, _pattern))


@_twin("/feeds")
def feed_catalogue(request: Request, view: ViewDep) -> Response:
    names = overviews.names(view)
    data = {"parties": names.parties, "instruments": names.as_dict()["instruments"],
            "kinds": FEED_KINDS}
    return _respond(request, "feeds.html", Frame("Feeds", "/feeds", names), data)


@_twin("/audit")
def audit(request: Request, view: ViewDep, side: ReadDep) -> Response:
    issued = overviews.checkpoints(view)
    keys = list(dict.fromkeys(c["verifier_key"] for c in issued))
    data = {"checkpoints": issued, "verifier_keys": keys, "url": str(request.base_url).rstrip("/"),
            "tree_size": side.audit.size()}
    frame = Frame("Audit", "/audit", overviews.names(view), "kinds/checkpoints", "new checkpoints")
    return _respond(request, "audit.html", frame, data)


#: the kinds a watchdog follows on their own, with what each feed holds
FEED_KINDS = {
    "commitments": "pledges, progress, extensions, assessments and withdrawals",
    "obligations": "obligations declared, progress, extensions and completion",
    "reports": "reports due, submitted and amended",
    "allegations": "allegations of non-compliance and every step of their review",
    "fundings": "funding pledged and disbursed",
    "DeadlineLapsed": "deadlines that passed unmet",
    "EntryCorrected": "corrections to recorded facts",
    "EntryRetracted": "retracted entries",
    "checkpoints": "signed checkpoints of the audit log",
}


def _found(data: dict[str, Any] | None, path: str) -> dict[str, Any]:
    if data is None:
        raise HTTPException(404, f"{path} is not in the ledger (at that time)")
    return data


def _entity_title(state: dict[str, Any], names: overviews.Names) -> str:
    """A heading that says what the entry is and whose, with names and codes."""
    def who(code: str | None) -> str:
        name = names.party(code)
        return f"{name} ({code})" if code and name != code else (code or "an unnamed party")

    kind = state["kind"]
    if kind == "commitments":
        return f"Pledge of {who(state['party'])} on {', '.join(state['provisions'])}"
    if kind == "obligations":
        what = state["obligation_kind"].replace("_", " ")
        return f"{what.capitalize()} obligation of {who(state['party'])} under {state['provision']}"
    if kind == "reports":
        what = state["report_kind"].replace("_", " ")
        return (f"{what.capitalize()} report of {who(state['party'])} to the "
                f"{state['instrument']} for {state['period']}")
    if kind == "allegations":
        against = who(state["against"]) if state["against"] else "an unnamed user"
        if state.get("territory"):
            against += f" in {who(state['territory'])}"
        return f"Allegation against {against} under {state['provision']}"
    if kind == "statements":
        label = names.code_label(state["instrument"], state["code"])
        if state["party"]:
            return f"Statement on {who(state['party'])}: {label}"
        quantity = state["quantity"] or {}
        stated = f": {quantity['value']} {quantity['unit']}" if quantity else ""
        return f"Stated figure of the {state['instrument']}, {label}{stated}"
    return f"Funding from {who(state['donor'])}: {state['amount']} {state['currency']}"
