"""C2SP tlog-proof bundles: the spec's layout, read back exactly, and checked offline."""

from __future__ import annotations

import base64

import pytest

from audit import merkle, signed_note
from audit.proof import HEADER, MalformedProof, Proof, format_proof, parse_proof, verify_proof

LEAVES = [f"leaf {i}".encode() for i in range(7)]
SIGNER, VERIFIER = signed_note.generate_key("proof.test/log")


def bundle_for(index: int, leaf: bytes | None = None) -> Proof:
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES]
    body = signed_note.format_checkpoint("proof.test/log", len(LEAVES), merkle.root(hashes))
    return Proof(index, tuple(merkle.inclusion_proof(hashes, index, len(LEAVES))),
                 signed_note.sign_note(body, SIGNER), LEAVES[index] if leaf is None else leaf)


def test_a_bundle_is_laid_out_as_the_spec_shows_and_reads_back():
    proof = bundle_for(5)
    text = format_proof(proof)
    lines = text.split("\n")
    assert lines[0] == HEADER and lines[1].startswith("extra ") and lines[2] == "index 5"
    assert lines[3:3 + len(proof.path)] == [base64.b64encode(node).decode() for node in proof.path]
    assert text.split("\n\n", 1)[1] == proof.checkpoint  # the checkpoint verbatim
    assert parse_proof(text) == proof
    assert parse_proof(format_proof(Proof(0, (), proof.checkpoint))).extra is None


def test_every_leaf_of_a_signed_tree_checks_out_offline():
    for index in range(len(LEAVES)):
        proof = parse_proof(format_proof(bundle_for(index)))
        assert verify_proof(proof, proof.extra, [VERIFIER]).size == len(LEAVES)


def test_another_leaf_another_index_or_another_key_is_refused():
    proof = bundle_for(3)
    with pytest.raises(MalformedProof, match="not included"):
        verify_proof(proof, b"leaf 4", [VERIFIER])
    with pytest.raises(MalformedProof, match="not included"):
        verify_proof(Proof(4, proof.path, proof.checkpoint, proof.extra), proof.extra, [VERIFIER])
    _, stranger = signed_note.generate_key("proof.test/log")
    with pytest.raises(signed_note.NoteError):
        verify_proof(proof, proof.extra, [stranger])


@pytest.mark.parametrize("text", [
    "c2sp.org/tlog-proof@v2\nindex 1\n\nnote\n",
    f"{HEADER}\nindex 01\n\nnote\n",
    f"{HEADER}\nextra !!\nindex 1\n\nnote\n",
    f"{HEADER}\nindex 1\nAAAA\n\nnote\n",  # a 3-byte hash
    f"{HEADER}\n1\n\nnote\n",
    f"{HEADER}\nindex 1\n",
])
def test_text_the_spec_does_not_write_is_refused(text):
    with pytest.raises(MalformedProof):
        parse_proof(text)
