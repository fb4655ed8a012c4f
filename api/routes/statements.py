"""What documents state, filtered on every field, on both clocks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ClockDep, ViewDep
from api.routes.entities import first_link
from projections import queries

router = APIRouter(tags=["state"])
CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"


@router.get("/v1/statements", operation_id="list_statements", summary="List statements",
            responses=first_link("statement"))
def list_statements(
    view: ViewDep, clock: ClockDep,
    instrument: Annotated[str | None, Query(
        pattern=CODE, description="the instrument, or a treaty with its action plans",
        examples=["CCM"])] = None,
    action: Annotated[str | None, Query(
        pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}:[A-Za-z0-9.()-]{1,20}$",
        description="a provision the statement concerns", examples=["VAP:8"])] = None,
    code: Annotated[str | None, Query(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="what is stated, from the "
        "instrument's vocabulary (GET /v1/instruments/{code}: statement_codes)")] = None,
    party: Annotated[str | None, Query(pattern=CODE)] = None,
    described_as: Annotated[str | None, Query(
        pattern=r"^(state_party|signatory|state_not_party|state|organisation)$",
        description="how the document describes the party")] = None,
    territory: Annotated[str | None, Query(pattern=CODE)] = None,
    area: Annotated[str | None, Query(
        max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$",
        description="the area the statement's code is registered under",
        examples=["stockpile_destruction"])] = None,
    figures: Annotated[bool | None, Query(
        description="true: only documents' own totals (no party, a quantity); false: only "
                    "the rest")] = None,
) -> list[dict[str, Any]]:
    """Statements of documents about parties (and documents' own totals), each with its
    source down to paragraph and footnote; retracted ones are left out."""
    where = queries.StatementFilter(instrument, action, code, party, described_as, territory,
                                    area, figures)
    return queries.statements(view, clock, where)
