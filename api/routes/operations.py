"""Operational endpoints under /-/: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import LedgerDep, ViewDep
from ledger.errors import StoreUnavailable

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    log_position: int
    projected_position: int


@router.get("/-/health")
def health() -> Health:
    """The process is up (the store is not touched)."""
    return Health(status="ok")


@router.get("/-/ready", responses={503: {"description": "the store is unreachable"}})
def ready(ledger: LedgerDep, view: ViewDep) -> Ready:
    """The store answers; how far the log and the read model have got."""
    try:
        position = ledger.recorder.max_notification_id() or 0
        projected = view.position()
    except Exception as error:  # any failure to reach the store means not ready
        raise StoreUnavailable(f"the store is unreachable: {error}") from None
    return Ready(status="ready", log_position=position, projected_position=projected)
