"""Atom, RSS and JSON Feed for every scope watchdogs follow, with RFC 5005 archive pages,
conditional GET and cache headers that make an HTTP cache in front safe."""

# no `from __future__ import annotations`: the route factories close over their Path patterns

import inspect
from collections.abc import Mapping
from typing import Annotated
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response

from api.deps import ReadDep
from api.feed_documents import FeedDocuments, Scope
from api.reads import ReadSide
from api.routes.changes import FilterDep, change_filter
from feeds.model import entity_page
from projections import queries
from projections.fold import REDUCERS
from projections.queries import FAMILIES, ChangeFilter
from projections.store import StateView

router = APIRouter(tags=["feeds"])
Format = Annotated[str, Path(pattern="^(atom|rss|json)$", description="atom, rss or json")]
Page = Annotated[int, Path(ge=1, le=10**12)]
CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"
ID = r"^[A-Za-z0-9._-]{1,200}$"
FEED = {200: {"content": {"application/atom+xml": {}, "application/rss+xml": {},
                          "application/feed+json": {}}},
        304: {"description": "not modified since the ETag or date given"},
        404: {"description": "no such scope or page"}}
KINDS = frozenset(REDUCERS) | {"EntryCorrected", "EntryRetracted"} | FAMILIES
#: the filters of `GET /v1/changes`, in the order a query feed's canonical query lists them
FILTERS = tuple(inspect.signature(change_filter).parameters)


def _scope(view: StateView, family: str, key: str) -> Scope:
    """The scope a feed URL names; 404 when the ledger does not know it."""
    if family == "kinds":
        if key not in KINDS:
            raise HTTPException(404, f"no kind {key!r}; kinds are event types or entity families")
        return Scope(f"kinds/{key}", f"Commitment Ledger: {key}", ChangeFilter(kind=key),
                     "/changes?" + urlencode({"kind": key}, quote_via=quote))
    if family == "actions":
        instrument, _, number = key.partition(":")
        state = queries.entity(view, f"instruments/{instrument}")
        if state is None or number not in state.get("provisions", {}):
            raise HTTPException(404, f"{key} is not a provision in the ledger")
        return Scope(f"actions/{key}", f"Commitment Ledger: {key}", ChangeFilter(action=key),
                     "/changes?" + urlencode({"action": key}, quote_via=quote))
    entity = f"{family}/{key}"
    state = queries.entity(view, entity)
    if state is None:
        raise HTTPException(404, f"{entity} is not in the ledger")
    title = state.get("name") or state.get("title") or entity
    if family == "parties":
        where = ChangeFilter(party=key)
    elif family == "instruments":
        where = ChangeFilter(instrument=key)
    else:
        where = ChangeFilter(entity=entity)
    return Scope(entity, f"Commitment Ledger: {title}", where, entity_page(entity))


def query_string(params: Mapping[str, str]) -> str:
    """The change-log filters among `params`, in one fixed order: a query feed's canonical query
    (its feed id, and the query of its page and archive links)."""
    return urlencode([(name, params[name]) for name in FILTERS if params.get(name)], quote_via=quote)


def _changes_scope(request: Request, where: ChangeFilter) -> Scope:
    """Every change, or a query feed: the changes matching the filters of `GET /v1/changes`."""
    query = query_string(request.query_params)
    if not query:
        return ALL
    named = ", ".join(f"{name} {value}" for name, value in parse_qsl(query))
    return Scope("changes", f"Commitment Ledger: changes ({named})", where, f"/changes?{query}", query)


ALL = Scope("changes", "Commitment Ledger: all changes", ChangeFilter(), "/changes")


def _serve(request: Request, documents: FeedDocuments, scope: Scope, fmt: str, page: int | None,
           if_none_match: str | None, if_modified_since: str | None) -> Response:
    document = documents.get(scope, fmt, page, str(request.base_url), request.url.query)
    if document is None:
        raise HTTPException(404, f"page {page} of {scope.path} does not exist yet")
    headers = document.headers(request.app.state.settings.feed_max_age)
    if document.not_modified(if_none_match, if_modified_since):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type=document.media_type, headers=headers)


def _route(family: str | None, archive: bool, pattern: str):  # noqa: ANN202 - a route
    def feed(request: Request, side: ReadSide, fmt: str, key: str = "", page: int | None = None,
             where: ChangeFilter = ChangeFilter(), if_none_match: str | None = None,
             if_modified_since: str | None = None) -> Response:
        scope = (_changes_scope(request, where) if family is None
                 else _scope(side.view, family, key))
        return _serve(request, side.feeds, scope, fmt, page, if_none_match, if_modified_since)

    kw = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("request", kw, annotation=Request),
                  inspect.Parameter("side", kw, annotation=ReadDep),
                  inspect.Parameter("fmt", kw, annotation=Format)]
    if family is not None:
        parameters.append(inspect.Parameter("key", kw, annotation=Annotated[str, Path(pattern=pattern)]))
    if archive:
        parameters.append(inspect.Parameter("page", kw, annotation=Page))
    if family is None:
        parameters.append(inspect.Parameter("where", kw, annotation=FilterDep))
    parameters += [
        inspect.Parameter("if_none_match", kw, default=None,
                          annotation=Annotated[str | None, Header(max_length=2000)]),
        inspect.Parameter("if_modified_since", kw, default=None,
                          annotation=Annotated[str | None, Header(max_length=100)]),
    ]
    feed.__signature__ = inspect.Signature(parameters, return_annotation=Response)
    return feed


def _add(path: str, family: str | None, archive: bool, pattern: str, summary: str) -> None:
    name = f"feed_{family or 'changes'}{'_archive' if archive else ''}"
    handler = _route(family, archive, pattern)
    router.add_api_route(path, handler, methods=["GET"], response_class=Response,
                         responses=FEED, summary=summary, operation_id=name)
    router.add_api_route(path, handler, methods=["HEAD"], response_class=Response,
                         operation_id=f"{name}_head", include_in_schema=False)


_add("/feeds/changes.{fmt}", None, False, ".*", "Every change, or the changes of a query")
_add("/feeds/changes/archive/{page}.{fmt}", None, True, ".*",
     "Every change, or the changes of a query: a page")
for _family, _pattern in (("parties", CODE), ("instruments", CODE), ("kinds", r"^[A-Za-z]{2,40}$"),
                          ("actions", r"^[A-Z0-9][A-Z0-9-]{1,19}:[A-Za-z0-9.()-]{1,20}$"),
                          ("commitments", ID), ("allegations", ID), ("obligations", ID),
                          ("reports", ID), ("fundings", ID)):
    _add(f"/feeds/{_family}/{{key}}.{{fmt}}", _family, False, _pattern, f"Changes: one of {_family}")
    _add(f"/feeds/{_family}/{{key}}/archive/{{page}}.{{fmt}}", _family, True, _pattern,
         f"Changes: one of {_family}, a page")

