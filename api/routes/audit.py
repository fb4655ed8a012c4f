"""Verifiable history: signed checkpoints, inclusion and consistency proofs, and the leaf bytes."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, Field

from api.deps import POSITION_MAX, LedgerDep, ReadDep, ViewDep
from api.reads import ReadSide
from audit import proof as tlog_proof
from ledger.commands import Ledger, Logged
from ledger.exchange import export_line
from projections import queries
from projections.audit import AuditModel, leaf_bytes

router = APIRouter(tags=["audit"])
NOTE = {200: {"content": {"text/plain": {}}, "description": "a C2SP signed note"},
        404: {"description": "no such checkpoint"}}
BEYOND = {404: {"description": "the tree is smaller than asked"}}
Size = Annotated[int, Query(ge=0, le=POSITION_MAX)]


def _checkpoints(view: Any) -> list[dict[str, Any]]:
    return sorted(queries.entities(view, "checkpoints"), key=lambda c: c["tree_size"])


def _cosigned(side: ReadSide, state: dict[str, Any]) -> str:
    """The checkpoint's signed note with the witnesses' cosignatures gathered so far."""
    return side.cosignatures.cosigned(state)


class CheckpointSummary(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64")
    state_digest: str = Field(description="`set-sha256:<hex>` (the set hash, docs/audit.md); "
                              "checkpoints issued before it: the bare hex of the ordered digest")
    origin: str
    verifier_key: str
    recorded_at: str
    url: str


@router.get("/v1/audit/checkpoint", response_class=PlainTextResponse, responses=NOTE)
def latest_checkpoint(side: ReadDep) -> PlainTextResponse:
    """The newest signed checkpoint (origin, tree size, root hash, state digest; signature),
    with the cosignatures of the witnesses that have cosigned it so far."""
    issued = _checkpoints(side.view)
    if not issued:
        raise HTTPException(404, "no checkpoint has been issued yet")
    return PlainTextResponse(_cosigned(side, issued[-1]))


@router.get("/v1/audit/checkpoints")
def list_checkpoints(view: ViewDep) -> list[CheckpointSummary]:
    """Every checkpoint ever issued, oldest first."""
    return [CheckpointSummary(url=f"/v1/audit/checkpoints/{c['tree_size']}",
                              **{k: c[k] for k in CheckpointSummary.model_fields if k != "url"})
            for c in _checkpoints(view)]


@router.get("/v1/audit/checkpoints/{tree_size}", response_class=PlainTextResponse,
            responses=NOTE)
def one_checkpoint(side: ReadDep,
                   tree_size: Annotated[int, Field(ge=0, le=POSITION_MAX)]) -> PlainTextResponse:
    """The checkpoint issued at one tree size, as signed, with its witnesses' cosignatures."""
    state = queries.entity(side.view, f"checkpoints/{tree_size}")
    if state is None:
        raise HTTPException(404, f"no checkpoint was issued at tree size {tree_size}")
    return PlainTextResponse(_cosigned(side, state))


@router.get("/v1/audit/keys", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}})
def verifier_keys(view: ViewDep) -> PlainTextResponse:
    """Every verifier key that has signed a checkpoint, one per line (vkey format)."""
    keys = dict.fromkeys(c["verifier_key"] for c in _checkpoints(view))
    return PlainTextResponse("".join(f"{key}\n" for key in keys))


class Proof(BaseModel):
    hashes: list[str] = Field(description="base64 SHA-256 hashes, RFC 9162 order")


class InclusionProof(Proof):
    leaf_index: int
    tree_size: int


class ConsistencyProof(Proof):
    first: int
    second: int


def _check_size(audit: AuditModel, size: int) -> None:
    if size > audit.size():
        raise HTTPException(404, f"the tree has fewer than {size} leaves")


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@router.get("/v1/audit/proofs/inclusion", responses=BEYOND)
def inclusion_proof(side: ReadDep, index: Size, tree_size: Size) -> InclusionProof:
    """RFC 9162 2.1.3 inclusion proof of leaf `index` in the tree of `tree_size` leaves."""
    audit = side.audit
    if index >= tree_size:
        raise HTTPException(404, "the leaf index must be below the tree size")
    _check_size(audit, tree_size)
    return InclusionProof(leaf_index=index, tree_size=tree_size,
                          hashes=_b64(audit.inclusion(index, tree_size)))


@router.get("/v1/audit/proofs/consistency", responses=BEYOND)
def consistency_proof(side: ReadDep, first: Size, second: Size) -> ConsistencyProof:
    """RFC 9162 2.1.4 proof that the tree of `second` leaves extends the one of `first`."""
    audit = side.audit
    if first > second:
        raise HTTPException(404, "first must not exceed second")
    _check_size(audit, second)
    return ConsistencyProof(first=first, second=second,
                            hashes=_b64(audit.consistency(first, second)))


@router.get("/v1/audit/proofs/{event_id}.tlog-proof", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}},
                             "description": "a C2SP tlog-proof bundle"},
                       404: {"description": "no such event, or no checkpoint covers it yet"}})
def proof_bundle(side: ReadDep, ledger: LedgerDep, event_id: UUID) -> PlainTextResponse:
    """One event's C2SP tlog-proof: its leaf index, the inclusion path in the newest checkpoint's
    tree, that signed checkpoint, and the leaf bytes as `extra`; `ledger verify-proof` checks it
    offline."""
    audit = side.audit
    index = audit.leaf_index(str(event_id))
    if index is None:
        raise HTTPException(404, f"no event {event_id} in the audit tree")
    issued = _checkpoints(side.view)
    if not issued or issued[-1]["tree_size"] <= index:
        raise HTTPException(404, f"no checkpoint covers leaf {index} yet")
    size = issued[-1]["tree_size"]
    leaf = leaf_bytes(leaf_events(audit, ledger, index, index + 1)[0])
    bundle = tlog_proof.Proof(index, tuple(audit.inclusion(index, size)),
                              _cosigned(side, issued[-1]), leaf)
    return PlainTextResponse(tlog_proof.format_proof(bundle))


@router.get("/v1/audit/entries", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def entries(
    side: ReadDep, ledger: LedgerDep, start: Size = 0,
    end: Annotated[int | None, Query(ge=1, le=POSITION_MAX)] = None,
) -> StreamingResponse:
    """The leaf bytes of leaves start..end-1 (at most 1,000), one per line: each line is exactly
    what its leaf hashes (docs/audit.md)."""
    audit = side.audit
    end = min(end if end is not None else start + 1000, start + 1000, audit.size())
    stored = leaf_events(audit, ledger, start, end)
    return StreamingResponse((export_line(n) for n in stored), media_type="application/x-ndjson")


def leaf_events(audit: AuditModel, ledger: Ledger, start: int, end: int) -> list[Logged]:
    """The stored events of leaves start..end-1 that the audit tree holds."""
    leaves = audit.leaves(start, end)
    # leaves are dense over the log: their events are the next len(leaves) in it
    return ledger.read(leaves[0].position - 1, len(leaves)) if leaves else []
