"""Operational endpoints under /-/: liveness, readiness, and the read models' status."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.deps import LedgerDep, ViewDep
from ledger.commands import Ledger
from ledger.errors import StoreUnavailable
from pages.render import Frame, render
from projections.leases import holders
from projections.overviews import Names
from projections.runner import READ_MODELS
from projections.store import NAME, SCHEMA_VERSION, StateView, schema_version

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class LeaseHolder(BaseModel):
    host: str
    pid: int
    since: str = Field(description="when it took the lease (RFC 3339, UTC)")
    expires_at: str = Field(description="when the lease ends unless renewed (every second)")


class ReadModel(BaseModel):
    name: str
    position: int = Field(description="the last log position projected into it")
    lag: int = Field(description="log positions not projected yet: the log's last position "
                                 "minus this one")
    holder: LeaseHolder | None = Field(
        description="the projection worker holding its lease (PostgreSQL); none on SQLite, "
                    "where no lease is taken, or while no worker holds it")


class Status(BaseModel):
    log_position: int
    read_models: list[ReadModel]
    schema_version: int | None = Field(
        description="the schema version of the state read model in the store; while it is not "
                    "`expected_schema_version`, an older version's read models answer and a "
                    "rebuild beside them is due or under way (/-/ready answers 503)")
    expected_schema_version: int = Field(description="the schema version this version reads")


class Ready(Status):
    status: str
    projected_position: int = Field(description="the state read model's position")


def status_of(ledger: Ledger, view: StateView) -> Status:
    """Positions, lags and lease holders, or 503 if the store cannot be reached."""
    try:
        head = ledger.recorder.max_notification_id() or 0
        held = holders(view)
        positions = {name: view.max_tracking_id(name) or 0 for name in READ_MODELS}
        version = schema_version(view)
    except Exception as error:  # any failure to reach the store means not ready
        raise StoreUnavailable(f"the store is unreachable: {error}") from None
    return Status(log_position=head, schema_version=version, expected_schema_version=SCHEMA_VERSION,
                  read_models=[
        ReadModel(name=name, position=position, lag=head - position,
                  holder=LeaseHolder(**vars(held[name])) if name in held else None)
        for name, position in positions.items()])


@router.get("/-/health")
def health() -> Health:
    """The process is up (the store is not touched)."""
    return Health(status="ok")


@router.get("/-/ready", responses={503: {"description": "the store is unreachable"}})
def ready(ledger: LedgerDep, view: ViewDep) -> Ready:
    """The store answers and holds read models of this version's schema; how far the log and
    each read model have got, and who projects it."""
    status = status_of(ledger, view)
    if status.schema_version != SCHEMA_VERSION:
        raise StoreUnavailable(
            f"the state read model has schema version {status.schema_version}, and this version "
            f"reads {SCHEMA_VERSION}: it is being rebuilt beside the serving one "
            "(docs/deploy.md#rebuilds-and-upgrades-without-downtime)")
    return Ready(**vars(status), status="ready",
                 projected_position=next(m.position for m in status.read_models if m.name == NAME))


@router.get("/-/status.json", responses={503: {"description": "the store is unreachable"}})
def status(ledger: LedgerDep, view: ViewDep) -> Status:
    """Each read model's position, lag behind the log, and lease holder (`/-/status` as a page)."""
    return status_of(ledger, view)


@router.get("/-/status", response_class=HTMLResponse, include_in_schema=False)
def status_page(ledger: LedgerDep, view: ViewDep) -> HTMLResponse:
    frame = Frame("Status", "/-/status", Names({}, {}))
    return HTMLResponse(render("status.html", frame, status_of(ledger, view).model_dump()))
