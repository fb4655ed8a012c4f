"""The request examples in the OpenAPI description are bodies the API accepts."""

from __future__ import annotations

import pytest

from api.routes.writes import EXAMPLES, WRITES, body_model


@pytest.mark.parametrize(("path", "command", "path_field"),
                         [(path, command, field) for path, command, field, _, _ in WRITES])
def test_each_write_route_documents_an_example_its_body_model_accepts(path, command, path_field):
    example = {k: v for k, v in EXAMPLES[command].items() if k != path_field}
    body_model(command, path_field).model_validate(example)
