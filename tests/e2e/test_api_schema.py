"""schemathesis against the app's own OpenAPI description, on both stores: no 5xx, and every
response fits the schema it documents (status code, content type, body, headers)."""

from __future__ import annotations

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from api.settings import Settings
from api.tokens import TokenStore
from ledger.commands import Ledger
from tests.factories import setup_ccm

#: examples per operation: bounded so `make test` stays short; raise it for a deeper run
EXAMPLES = int(os.environ.get("LEDGER_SCHEMATHESIS_EXAMPLES", "8"))
#: the same examples every run in `make test`; LEDGER_SCHEMATHESIS_RANDOM=1 explores afresh
DERANDOMIZE = os.environ.get("LEDGER_SCHEMATHESIS_RANDOM") != "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@schemathesis.serializer("application/x-ndjson")
def ndjson_body(ctx: object, value: object) -> bytes:
    """The import route takes NDJSON text: send the generated string as it is."""
    return value.encode() if isinstance(value, str) else str(value).encode()


def test_the_api_keeps_to_its_openapi_description(database_url):
    ledger = Ledger(database_url)
    setup_ccm(ledger)  # something to find, so reads return bodies and writes can succeed
    ledger.close()
    token = TokenStore(database_url).create("fuzzer", ["admin"])
    # no write rate limit: the fuzzer writes as fast as it can (test_security.py tests the limit)
    app = create_app(Settings(database_url=database_url, poll_interval=0.05, tick_interval=0,
                              write_rate=0))
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 55
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
            def keeps_to_description(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                keeps_to_description()
            except Exception as error:
                raise AssertionError(f"{operation.label}: {error}") from error
