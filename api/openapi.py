"""The OpenAPI description, made accurate where FastAPI's defaults are not: every error is
`application/problem+json` and every operation lists the errors it can give. /docs shows it with
Swagger UI from packaged files, so it works with no internet and a strict CSP."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.problems import MEDIA_TYPE, Problem
from api.reads import MIN_POSITION, POSITION, READ_FROM

COMMON = {
    "422": "the request does not have the expected shape (each field and reason in `errors`)",
    "503": "the store is unreachable; try again shortly",
}
WRITES = {
    "401": "no valid bearer token",
    "403": "the token lacks the scope",
    "409": "the command conflicts with the entity's current state",
    "408": "the body did not arrive within LEDGER_BODY_TIMEOUT seconds",
    "413": "the body is too large",
    "429": "this token wrote too often: try again after `Retry-After` seconds",
    "507": "the store's disk is full: nothing was recorded; try again once space is freed",
}
#: what every read answers besides its body (api.reads)
READ_HEADERS = {
    POSITION: {"description": "the log position the answer reflects at least: the read "
                              "model's position when the read began",
               "schema": {"type": "integer", "minimum": 0}},
    READ_FROM: {"description": "which read models answered: `replica` (LEDGER_READ_DATABASE_URL) "
                               "or `primary`",
                "schema": {"type": "string", "enum": ["primary", "replica"]}},
}
#: what a write answers besides its body (api.routes.writes)
WRITE_POSITION = {"description": "the log position of the last event this write recorded (not "
                                 "on an idempotent replay): send it as `Ledger-Min-Position` to "
                                 "read the write back", "schema": {"type": "integer", "minimum": 1}}
NOT_REACHED = ("the store is unreachable, or the read model did not reach `Ledger-Min-Position` "
               "within LEDGER_READ_WAIT seconds; try again after `Retry-After` seconds")


#: swagger-ui-dist 5 as fastapi-offline ships it, and our docs.js that starts it
SWAGGER = StaticFiles(packages=[("fastapi_offline", "static"), ("api", "static/swagger")])
#: the page links only files of this origin: Swagger UI runs under the pages' CSP, with no
#: 'unsafe-inline' (it sets styles through the DOM, which CSP allows)
DOCS_PAGE = files("api").joinpath("static/docs.html").read_text(encoding="utf-8")


def install(app: FastAPI) -> None:
    """The accurate description at /openapi.json, shown at /docs (the app is made with
    docs_url=None and redoc_url=None: FastAPI's own pages load Swagger UI from a CDN)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _describe(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount("/-/static/swagger", SWAGGER, name="swagger")
    app.add_api_route("/docs", _docs, include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/redoc", _redoc, include_in_schema=False, response_class=RedirectResponse)


def _docs() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE)


def _redoc() -> RedirectResponse:
    """The one reference is /docs; /redoc, FastAPI's other page, leads there."""
    return RedirectResponse("docs", status_code=301)


def _describe(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, summary=app.summary,
                       description=app.description, routes=app.routes)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Problem"].pop("$defs", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem_content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            errors = dict(COMMON)
            if "{" in path:
                errors["404"] = "no such entity"
            if method == "post":
                errors.update(WRITES)
                errors.setdefault("412", "If-Match names a version that is no longer current")
            reads = any(p["name"] == MIN_POSITION for p in operation.get("parameters", ()))
            if reads:
                errors["503"] = NOT_REACHED
            responses = operation.setdefault("responses", {})
            if reads:
                for status, response in responses.items():
                    if status[0] in "23":
                        response.setdefault("headers", {}).update(READ_HEADERS)
            if method == "post" and "201" in responses:
                responses["201"].setdefault("headers", {})[POSITION] = WRITE_POSITION
            for status, description in errors.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _problem_content(response, problem_content)
    return spec


def _problem_content(response: dict[str, Any], plain: dict[str, Any]) -> dict[str, Any]:
    """A route's own problem model (a Problem with more members) stays; any other is a Problem."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return {MEDIA_TYPE: {"schema": schema}} if schema.get("$ref", "").endswith("Problem") else plain
