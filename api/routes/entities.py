"""Public reads of current state, on either clock, and each entity's history with diffs."""

# no `from __future__ import annotations`: the route factories close over their Path patterns


from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from api.deps import ClockDep, ViewDep
from api.problems import Problem
from api.routes.writes import WRITES
from projections import queries

router = APIRouter(tags=["state"])

FAMILIES = {
    "parties": ("party", r"^[A-Z0-9][A-Z0-9-]{1,19}$", "HRV"),
    "instruments": ("instrument", r"^[A-Z0-9][A-Z0-9-]{1,19}$", "CCM"),
    "commitments": ("commitment", r"^[A-Za-z0-9._-]{1,200}$", "ccm-ratify-2011-PER"),
    "fundings": ("funding", r"^[A-Za-z0-9._-]{1,200}$", "apmbc-funding-2014"),
    "obligations": ("obligation", r"^[A-Za-z0-9._-]{1,200}$", "ccm-art3-HRV"),
    "reports": ("report", r"^[A-Za-z0-9._-]{1,200}$", "CCM-HRV-initial-2010"),
    "allegations": ("allegation", r"^[A-Za-z0-9._-]{1,200}$", "apmbc-cc-2019-SSD"),
    "statements": ("statement", r"^[A-Za-z0-9._-]{1,200}$", "ccm-beirut-4-states-parties"),
}
#: families whose list has a route of its own, with more filters
OWN_LIST = frozenset({"statements"})
NOT_FOUND = {404: {"model": Problem, "description": "no such entity (at that time)"}}


def _links(noun: str) -> dict[str, Any]:
    """OpenAPI links from one entity to its history and to every command on it (clients and
    schemathesis' stateful runs follow them)."""
    links = {"history": {"operationId": f"history_of_{noun}",
                         "parameters": {"id": "$response.body#/id"}}}
    for _, command, path_field, _, summary in WRITES:
        if path_field == noun:
            links[command] = {"operationId": command, "description": summary,
                              "parameters": {path_field: "$response.body#/id"}}
    return {200: {"links": links}}


def _list_route(kind: str) -> Any:
    def list_entities(
        view: ViewDep, clock: ClockDep,
        party: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}$")] = None,
        instrument: Annotated[str | None, Query(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}$")] = None,
    ) -> list[dict[str, Any]]:
        return queries.entities(view, kind, clock, party=party, instrument=instrument)

    list_entities.__doc__ = f"Every one of the {kind}, now or on either clock."
    return list_entities


def _get_route(kind: str, pattern: str, example: str) -> Any:
    def get_entity(
        request: Request, response: Response, view: ViewDep, clock: ClockDep,
        id: Annotated[str, Path(pattern=pattern, examples=[example])],
    ) -> dict[str, Any]:
        state = queries.entity(view, f"{kind}/{id}", clock)
        if state is None:
            if clock.effective_on and not clock.possible and queries.entity(
                    view, f"{kind}/{id}", replace(clock, possible=True)) is not None:
                raise HTTPException(404, f"{kind}/{id} is not certainly on record as effective "
                                         f"on {clock.effective_on}, only possibly (it dates from "
                                         "an interval not yet over then): ask with "
                                         "include=possible")
            raise HTTPException(404, f"{kind}/{id} is not in the ledger (at that time)")
        if clock.is_now:
            response.headers["ETag"] = f'"v{state["version"]}"'
        return state

    get_entity.__doc__ = (f"One of the {kind}: current state (with its version as ETag), as "
                          "known at a time or position, or as effective on a date.")
    return get_entity


def _history_route(kind: str, pattern: str, example: str) -> Any:
    def get_history(
        view: ViewDep, id: Annotated[str, Path(pattern=pattern, examples=[example])],
    ) -> list[dict[str, Any]]:
        rows = queries.history(view, f"{kind}/{id}")
        if not rows:
            raise HTTPException(404, f"{kind}/{id} is not in the ledger")
        return rows

    get_history.__doc__ = f"Every change of one of the {kind}, oldest first, with field diffs."
    return get_history


def first_link(noun: str) -> dict[Any, Any]:
    """An OpenAPI link from a list to the first entity in it (clients and schemathesis'
    stateful runs start their chains from lists this way)."""
    return {200: {"links": {f"first_{noun}": {
        "operationId": f"get_{noun}", "parameters": {"id": "$response.body#/0/id"}}}}}


for _kind, (_noun, _pattern, _example) in FAMILIES.items():
    if _kind not in OWN_LIST:
        router.add_api_route(f"/v1/{_kind}", _list_route(_kind), methods=["GET"],
                             operation_id=f"list_{_kind}", summary=f"List {_kind}",
                             responses=first_link(_noun))
    router.add_api_route(f"/v1/{_kind}/{{id}}", _get_route(_kind, _pattern, _example),
                         methods=["GET"], operation_id=f"get_{_noun}",
                         responses={**NOT_FOUND, **_links(_noun)},
                         summary=f"One {_noun}")
    router.add_api_route(f"/v1/{_kind}/{{id}}/history", _history_route(_kind, _pattern, _example),
                         methods=["GET"], operation_id=f"history_of_{_noun}", responses=NOT_FOUND,
                         summary=f"History of one {_noun}")
