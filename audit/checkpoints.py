"""Issuing signed checkpoints: the audit tree's size and root, and the state digest at exactly
that size, signed as a C2SP tlog-checkpoint note and recorded in the log."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from audit import signed_note
from audit.merkle import EMPTY_ROOT
from audit.verify import DIGEST_LINE
from ledger.commands import Outcome
from projections import queries
from projections.audit import NAME as AUDIT
from projections.digest import digest_in
from projections.runner import Projector
from projections.store import StateView

#: a checkpoint adds two leaves of its own: the checkpoint event and its receipt
CHECKPOINT_EVENTS = 2


@dataclass(frozen=True)
class TreeHead:
    size: int
    root_hash: bytes
    #: as its kind and hex value: `set-sha256:<hex>`
    state_digest: str


def tree_head(projector: Projector, attempts: int = 20) -> TreeHead:
    """Size, root and state digest read in one snapshot where both read models stand at the
    same log position (a concurrent projector may move one first: then read again)."""
    view, audit = projector.view, projector.audit
    for _ in range(attempts):
        projector.catch_up()
        with view.transaction(commit=False) as cursor:
            if view.dialect == "postgres":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            digest = digest_in(view, cursor)
            if digest.position != (view._max_tracking_id(AUDIT, cursor) or 0):
                continue
            size = audit._size(cursor)
            root = audit._range_hash(cursor, [(0, size)])[(0, size)] if size else EMPTY_ROOT
        return TreeHead(size, root, str(digest))
    raise RuntimeError("the read models kept moving apart; try again")


def issue_checkpoint(projector: Projector, signer_key: str, origin: str) -> tuple[str, Outcome]:
    """Sign the current tree head and record it; returns the signed note and the outcome."""
    return sign_and_record(projector, tree_head(projector), signer_key, origin)


def sign_and_record(projector: Projector, head: TreeHead, signer_key: str,
                    origin: str) -> tuple[str, Outcome]:
    """Sign a tree head as a checkpoint note and record it in the log."""
    signer = signed_note.parse_signer_key(signer_key)
    extensions = (f"{DIGEST_LINE}{head.state_digest}",)
    body = signed_note.format_checkpoint(origin, head.size, head.root_hash, extensions)
    note = signed_note.sign_note(body, signer_key)
    outcome = projector.ledger.record_checkpoint(
        origin=origin, tree_size=head.size,
        root_hash=base64.b64encode(head.root_hash).decode(), state_digest=head.state_digest,
        verifier_key=signer.verifier.key_string(), signed_note=note,
    )
    projector.catch_up()
    return note, outcome


def latest_checkpoint_size(view: StateView) -> int:
    """The tree size of the newest checkpoint in the read model (0 if none)."""
    sizes = [state["tree_size"] for state in queries.entities(view, "checkpoints")]
    return max(sizes, default=0)
