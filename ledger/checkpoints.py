"""Signed checkpoints of the audit tree, recorded in the log they vouch for."""

from __future__ import annotations

from typing import Any

from ledger.entity import Entity


class Checkpoint(Entity):
    """One signed tree head: the first `tree_size` events hash to `root_hash`, and replaying
    them gives read models whose digest is `state_digest`."""

    kind = "checkpoints"

    class CheckpointIssued(Entity.Created):
        origin: str
        tree_size: int
        root_hash: str
        state_digest: str
        verifier_key: str
        signed_note: str

        def change(self, aggregate: Any) -> None:
            aggregate.tree_size = self.tree_size

    @classmethod
    def issue(cls, origin: str, tree_size: int, root_hash: str, state_digest: str,
              verifier_key: str, signed_note: str) -> Checkpoint:
        return cls._start(
            cls.CheckpointIssued, str(tree_size), origin=origin, tree_size=tree_size,
            root_hash=root_hash, state_digest=state_digest, verifier_key=verifier_key,
            signed_note=signed_note,
        )
