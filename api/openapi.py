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
            responses = operation.setdefault("responses", {})
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
