"""C2SP tlog-proof bundles (https://c2sp.org/tlog-proof): one event's proof of inclusion that
anyone can check offline with the log's verifier key: the leaf index, the RFC 9162 inclusion
path and the signed checkpoint, with the leaf bytes themselves as the `extra` data (never
trusted: they must hash, through the path, to the signed root)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from audit import merkle, signed_note

HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class MalformedProof(ValueError):
    """The text is not a tlog-proof bundle."""


@dataclass(frozen=True)
class Proof:
    index: int
    path: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim
    extra: bytes | None = None


def format_proof(proof: Proof) -> str:
    """The bundle's text: header, extra, index, one base64 hash a line, a blank line, the note."""
    lines = [HEADER]
    if proof.extra is not None:
        lines.append(f"extra {base64.b64encode(proof.extra).decode()}")
    lines.append(f"index {proof.index}")
    lines += [base64.b64encode(node).decode() for node in proof.path]
    return "\n".join(lines) + "\n\n" + proof.checkpoint


def parse_proof(text: str) -> Proof:
    """Read a bundle back, refusing anything format_proof would not write."""
    head, blank, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not blank or lines.pop(0) != HEADER:
        raise MalformedProof(f"a tlog proof starts with {HEADER!r} and has a blank line")
    try:
        extra = (base64.b64decode(lines.pop(0).removeprefix("extra "), validate=True)
                 if lines and lines[0].startswith("extra ") else None)
        index = (lines.pop(0).removeprefix("index ")
                 if lines and lines[0].startswith("index ") else "")
        path = tuple(base64.b64decode(line, validate=True) for line in lines)
    except binascii.Error:
        raise MalformedProof("a line is not base64") from None
    if not _DECIMAL.fullmatch(index):
        raise MalformedProof("the index line is missing or not a decimal")
    if any(len(node) != merkle.HASH_SIZE for node in path):
        raise MalformedProof(f"every proof line is a {merkle.HASH_SIZE}-byte hash")
    return Proof(int(index), path, checkpoint, extra)


def verify_proof(proof: Proof, leaf: bytes, verifier_keys: signed_note.VerifierKeys,
                 ) -> signed_note.Checkpoint:
    """The checkpoint that includes `leaf` at the proof's index, once its signature and the
    inclusion path check out; raises NoteError or MalformedProof otherwise."""
    checkpoint = signed_note.open_checkpoint(proof.checkpoint, verifier_keys)
    if not merkle.verify_inclusion(merkle.leaf_hash(leaf), proof.index, checkpoint.size,
                                   proof.path, checkpoint.root_hash):
        raise MalformedProof(f"leaf {proof.index} is not included in the tree of "
                             f"{checkpoint.size} signed by the checkpoint")
    return checkpoint
