"""The C2SP tlog-tiles read path: the newest checkpoint, the tree's tiles and the entry bundles,
static and immutable so that any HTTP cache (deploy/nginx/ledger.conf) can serve them. Tiles
are raw bytes, so they stay out of the OpenAPI description (README, docs/audit.md)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse, Response

from api.deps import LedgerDep, ReadDep
from api.routes.audit import NOTE, latest_checkpoint, leaf_events
from audit import tiles
from projections.audit import AuditModel, leaf_bytes

router = APIRouter(tags=["audit"])
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
#: the checkpoint moves on: tlog-tiles asks that caches keep it no more than a few seconds
CHECKPOINT_CACHE = "public, max-age=5"
OCTETS = "application/octet-stream"


@router.get("/checkpoint", response_class=PlainTextResponse, responses=NOTE)
def checkpoint(side: ReadDep) -> PlainTextResponse:
    """The newest signed checkpoint and its cosignatures, where tlog-tiles clients look."""
    response = latest_checkpoint(side)
    response.headers["Cache-Control"] = CHECKPOINT_CACHE
    return response


@router.get("/tile/entries/{index:path}", include_in_schema=False)
def entry_bundle(side: ReadDep, ledger: LedgerDep, index: str) -> Response:
    """The leaf bytes of 256 leaves (or `.p/W`: W), each after its length as a uint16."""
    tile = _tile(side.audit, "0", index)
    events = leaf_events(side.audit, ledger, tile.first_node, tile.first_node + tile.width)
    try:
        body = tiles.bundle(leaf_bytes(event) for event in events)
    except ValueError as error:
        raise HTTPException(404, f"{error}: /v1/audit/entries serves it") from None
    return Response(body, media_type=OCTETS, headers=IMMUTABLE)


@router.get("/tile/{level}/{index:path}", include_in_schema=False)
def tile_hashes(side: ReadDep, level: str, index: str) -> Response:
    """256 hashes (or `.p/W`: W) of complete subtrees at tree level 8 * level."""
    tile = _tile(side.audit, level, index)
    hashes = side.audit.level_hashes(tile.node_level, tile.first_node, tile.first_node + tile.width)
    return Response(b"".join(hashes), media_type=OCTETS, headers=IMMUTABLE)


def _tile(audit: AuditModel, level: str, index: str) -> tiles.Tile:
    """The tile a path names, once the tree is big enough to hold it (else 404, uncached)."""
    tile = tiles.parse_tile(level, index)
    if tile is None:
        raise HTTPException(404, "not a tile path: see https://c2sp.org/tlog-tiles")
    if tile.tree_size > audit.size():
        raise HTTPException(404, f"the tree has fewer than the {tile.tree_size} leaves this "
                                 "tile needs")
    return tile
