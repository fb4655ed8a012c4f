"""One error shape everywhere: RFC 9457 `application/problem+json`, with the field and reason."""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

import orjson
import psycopg
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from ledger import errors
from ledger.storage import out_of_space
from pages.render import error_page

log = logging.getLogger("ledger.api")

MEDIA_TYPE = "application/problem+json"

#: HTTP status of each refusal; anything not listed is a 409 (the command conflicts with state)
STATUS: list[tuple[type[errors.LedgerError], int]] = [
    (errors.StaleVersion, 412),
    (errors.VersionConflict, 409),
    (errors.IdempotencyKeyReused, 422),
    (errors.InvalidValue, 422),
    (errors.AlreadyExists, 409),
    (errors.StoreUnavailable, 503),
    (errors.NotFound, 404),
]


class FieldError(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] = []


class ProblemException(Exception):
    """Raised by a route to answer with a problem that is not a ledger refusal."""

    def __init__(self, status: int, title: str, detail: str, code: str,
                 field_errors: list[tuple[str, str]] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code
        self.field_errors, self.headers = list(field_errors), headers


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem(
    request: Request, status: int, title: str, detail: str, code: str,
    field_errors: list[tuple[str, str]] = (), headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"/-/problems#{code}", "title": title, "status": status, "detail": detail,
        "instance": request.url.path,
    }
    if field_errors:
        body["errors"] = [{"field": f, "reason": r} for f, r in field_errors]
    if _wants_html(request):
        return HTMLResponse(error_page(body), status_code=status, headers=headers)
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE,
                    headers=headers)


def _wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, a feed or a download) gets the problem as a page."""
    path = request.url.path
    if path.startswith(("/v1/", "/feeds/", "/-/")) or path.endswith((".json", ".csv", ".ndjson")):
        return False
    return "text/html" in request.headers.get("accept", "")


def ledger_error(request: Request, error: errors.LedgerError) -> Response:
    if isinstance(error, errors.StoreUnavailable) and out_of_space(error):
        return store_full(request, error)
    status = next((code for cls, code in STATUS if isinstance(error, cls)), 409)
    if status == 404 and error.field not in request.path_params:
        status = 422  # the entity named in the body does not exist: the body is at fault
    name = type(error).__name__
    fields = [(error.field, str(error))] if error.field and status in (412, 422) else []
    retry = {"Retry-After": "5"} if status == 503 else None  # as for any unreachable store
    return problem(request, status, re.sub(r"(?<!^)(?=[A-Z])", " ", name), str(error),
                   _slug(name), fields, retry)


def validation_error(request: Request, error: RequestValidationError) -> Response:
    fields = []
    for item in error.errors():
        if item.get("type") == "json_invalid":  # loc is ("body", the offset where parsing failed)
            error_at = f"{item['ctx']['error']} at character {item['loc'][-1]}"
            fields.append(("body", f"not JSON: {error_at}"))
            continue
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body",)]
        fields.append((".".join(loc) or "body", item.get("msg", "invalid")))
    return problem(request, 422, "Invalid request", "the request does not have the expected "
                   "shape", "invalid-request", fields)


def http_error(request: Request, error: HTTPException) -> Response:
    titles = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed", 413: "Content Too Large", 406: "Not Acceptable",
              408: "Request Timeout"}
    if error.status_code == 400 and error.__cause__ is not None:
        return unreadable_body(request, error.__cause__)
    title = titles.get(error.status_code, "HTTP error")
    headers = dict(getattr(error, "headers", None) or {})
    if 300 <= error.status_code < 400:
        return Response(status_code=error.status_code, headers=headers)
    if error.status_code == 404 and request.url.path.startswith("/feeds/"):
        headers["Cache-Control"] = "public, max-age=30"  # a cache in front absorbs repeats
    return problem(request, error.status_code, title, str(error.detail),
                   _slug(title.replace(" ", "")), headers=headers or None)


def unreadable_body(request: Request, cause: BaseException) -> Response:
    """FastAPI answers 400 when a body cannot even be parsed (not UTF-8, nested too deep for the
    JSON parser): answer as for any malformed body, naming it."""
    reason = {UnicodeDecodeError: "not UTF-8", RecursionError: "nested too deeply"}.get(
        type(cause), "not readable JSON")
    return problem(request, 422, "Invalid request", "the request does not have the expected "
                   "shape", "invalid-request", [("body", reason)])


def store_full(request: Request, error: Exception) -> Response:
    log.warning("store full: %s", error)
    return problem(request, 507, "Insufficient Storage",
                   "the event store's disk is full, so nothing was recorded; try again once "
                   "space is freed", "store-full", headers={"Retry-After": "30"})


def store_unavailable(request: Request, error: Exception) -> Response:
    if out_of_space(error):
        return store_full(request, error)
    log.warning("store unavailable: %s", error)
    return problem(request, 503, "Store Unavailable",
                   "the event store cannot be reached; try again shortly", "store-unavailable",
                   headers={"Retry-After": "5"})


#: failures to reach the store that come from below the ledger's own vocabulary
STORE_ERRORS: tuple[type[Exception], ...] = (
    PersistenceError, psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout,
    sqlite3.OperationalError,
)


def unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error", extra={"path": request.url.path})
    return problem(request, 500, "Internal Server Error",
                   "the ledger could not answer this request",
                   "internal-server-error")


def problem_exception(request: Request, error: ProblemException) -> Response:
    return problem(request, error.status, error.title, error.detail, error.code,
                   error.field_errors, error.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ProblemException, problem_exception)
    app.add_exception_handler(errors.LedgerError, ledger_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    for error_class in STORE_ERRORS:
        app.add_exception_handler(error_class, store_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
