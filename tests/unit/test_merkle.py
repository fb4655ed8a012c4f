"""RFC 9162 / RFC 6962 Merkle tree hashing, proofs and verification against published vectors.

Sources of the test vectors (hex values copied as data, nothing else):
- transparency-dev/merkle, testonly/constants.go: the 8 leaf inputs, the hash of every complete
  subtree of the 8-leaf tree (NodeHashes), the roots of the trees of size 0..8 (RootHashes) and
  the compact-range peaks of sizes 0..8 (CompactTrees).
- transparency-dev/merkle, proof/verify_test.go: explicit inclusion proofs (written there with
  1-based leaf numbers: {1,8}, {6,8}, {3,3}, {2,5}), explicit consistency proofs
  ({1,8}, {6,8}, {2,5}, {6,7}) and the list of corruptions a verifier must refuse.
- transparency-dev/merkle, proof/proof_test.go (TestInclusion, TestConsistency): which tree nodes
  make up the proofs for the 7-leaf tree of RFC 6962 and for larger trees (15, 31, 95 leaves).
These are the vectors of the original google/certificate-transparency C++ tests, carried into
Trillian and then transparency-dev/merkle.

The sources publish proofs for only some (index, size) and (first, second) pairs; for all the
others up to 8 leaves the expected proof is assembled from the *published* subtree hashes, along
ranges computed by a literal recursive transcription of RFC 9162 PATH and SUBPROOF kept in this
file, and must verify against the published roots while every corruption fails.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

import pytest

from audit import merkle
from audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    aligned_subtrees,
    consistency_path,
    consistency_proof,
    consistency_ranges,
    inclusion_path,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_hash_from_nodes,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# transparency-dev/merkle testonly/constants.go LeafInputs()
LEAF_INPUTS = [h(x) for x in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]

# transparency-dev/merkle testonly/constants.go NodeHashes(): (level, index) -> hash of the
# complete subtree of leaves [index * 2**level, (index + 1) * 2**level).
NODE_HASHES = {
    (0, 0): h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    (0, 1): h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    (0, 2): h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    (0, 3): h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    (0, 4): h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    (0, 5): h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    (0, 6): h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    (0, 7): h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    (1, 0): h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    (1, 1): h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
    (1, 2): h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
    (1, 3): h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    (2, 0): h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    (2, 1): h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    (3, 0): h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
}

# transparency-dev/merkle testonly/constants.go RootHashes(), indexed by tree size 0..8
# (the same roots appear as `roots` in proof/verify_test.go).
ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# transparency-dev/merkle proof/verify_test.go `inclusionProofs` (leaf numbers there are 1-based;
# here they are the 0-based index) and `consistencyProofs`.
PUBLISHED_INCLUSION = {
    (0, 8): [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
             h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
             h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")],
    (5, 8): [h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
             h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
             h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")],
    (2, 3): [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")],
    (1, 5): [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
             h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
             h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")],
    (0, 1): [],
}
PUBLISHED_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
             h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
             h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")],
    (6, 8): [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
             h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
             h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")],
    (2, 5): [h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
             h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")],
    (6, 7): [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
             h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
             h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")],
}

# transparency-dev/merkle proof/verify_test.go sha256SomeHash: an arbitrary wrong hash.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def node(level: int, index: int) -> tuple[int, int]:
    """The leaf range of the tree node the Go tests call id(level, index)."""
    return index << level, (index + 1) << level


# transparency-dev/merkle proof/proof_test.go TestInclusion: the nodes of each proof, with the
# "rehash" groups (the incomplete right-edge node, e.g. l = hash(i, j) = [4, 7)) merged into the
# single range the RFC hashes.
PUBLISHED_INCLUSION_NODES = {
    (0, 1): [],
    (0, 2): [node(0, 1)],
    (1, 2): [node(0, 0)],
    (1, 3): [node(0, 0), node(0, 2)],
    (0, 7): [node(0, 1), node(1, 1), (4, 7)],
    (1, 7): [node(0, 0), node(1, 1), (4, 7)],
    (2, 7): [node(0, 3), node(1, 0), (4, 7)],
    (3, 7): [node(0, 2), node(1, 0), (4, 7)],
    (4, 7): [node(0, 5), node(0, 6), node(2, 0)],
    (5, 7): [node(0, 4), node(0, 6), node(2, 0)],
    (6, 7): [node(1, 2), node(2, 0)],
    (2, 4): [node(0, 3), node(1, 0)],
    (3, 5): [node(0, 2), node(1, 0), node(0, 4)],
    (3, 6): [node(0, 2), node(1, 0), node(1, 2)],
    (4, 6): [node(0, 5), node(2, 0)],
    (10, 15): [node(0, 11), node(1, 4), (12, 15), node(3, 0)],
    (24, 31): [node(0, 25), node(1, 13), (28, 31), node(3, 2), node(4, 0)],
    (81, 95): [node(0, 80), node(1, 41), node(2, 21), (88, 95), node(4, 4), node(6, 0)],
}

# transparency-dev/merkle proof/proof_test.go TestConsistency, merged the same way.
PUBLISHED_CONSISTENCY_NODES = {
    (1, 2): [node(0, 1)],
    (1, 4): [node(0, 1), node(1, 1)],
    (1, 6): [node(0, 1), node(1, 1), node(1, 2)],
    (2, 3): [node(0, 2)],
    (2, 8): [node(1, 1), node(2, 1)],
    (3, 7): [node(0, 2), node(0, 3), node(1, 0), (4, 7)],
    (4, 7): [(4, 7)],
    (5, 7): [node(0, 4), node(0, 5), node(0, 6), node(2, 0)],
    (6, 7): [node(1, 2), node(0, 6), node(2, 0)],
    (7, 8): [node(0, 6), node(0, 7), node(1, 2), node(2, 0)],
    (2, 4): [node(1, 1)],
    (3, 5): [node(0, 2), node(0, 3), node(1, 0), node(0, 4)],
    (3, 6): [node(0, 2), node(0, 3), node(1, 0), node(1, 2)],
    (4, 6): [node(1, 2)],
    (1, 7): [node(0, 1), node(1, 1), (4, 7)],
    (10, 15): [node(1, 4), node(1, 5), (12, 15), node(3, 0)],
    (24, 31): [node(3, 2), (24, 31), node(4, 0)],
    (81, 95): [node(0, 80), node(0, 81), node(1, 41), node(2, 21), (88, 95), node(4, 4), node(6, 0)],
}
for size in range(1, 9):
    PUBLISHED_CONSISTENCY_NODES.setdefault((size, size), [])


# --- an independent, literal transcription of the RFC's recursive definitions ------------------

def rfc_k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_path(m: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[start:end]) as the ranges of its MTHs."""
    n = end - start
    if n == 1:
        return []
    k = rfc_k(n)
    if m < k:
        return rfc_path(m, start, start + k) + [(start + k, end)]
    return rfc_path(m - k, start + k, end) + [(start, start + k)]


def rfc_subproof(m: int, start: int, end: int, b: bool) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[start:end], b) as the ranges of its MTHs."""
    n = end - start
    if m == n:
        return [] if b else [(start, end)]
    k = rfc_k(n)
    if m <= k:
        return rfc_subproof(m, start, start + k, b) + [(start + k, end)]
    return rfc_subproof(m - k, start + k, end, False) + [(start, start + k)]


def rfc_mth(leaves: list[bytes], start: int, end: int, cache: dict | None = None) -> bytes:
    """RFC 9162 2.1.1 MTH(D[start:end]), recursively, optionally memoised by range."""
    if cache is not None and (start, end) in cache:
        return cache[start, end]
    n = end - start
    if n == 0:
        result = EMPTY_ROOT
    elif n == 1:
        result = leaves[start]
    else:
        k = rfc_k(n)
        left, right = rfc_mth(leaves, start, start + k, cache), rfc_mth(leaves, start + k, end, cache)
        result = node_hash(left, right)
    if cache is not None:
        cache[start, end] = result
    return result


def published_range_hash(start: int, end: int) -> bytes:
    """MTH of a node of the 8-leaf tree taken only from published values."""
    width = end - start
    if width & (width - 1) == 0 and start % width == 0:
        return NODE_HASHES[width.bit_length() - 1, start // width]
    if start == 0:
        return ROOTS[end]
    # The only incomplete node off the left edge in trees of up to 8 leaves is l = [4, 7) of the
    # 7-leaf tree; it is hash(i, j) of two published subtrees (proof/proof_test.go's rehash).
    assert (start, end) == (4, 7), (start, end)
    return node_hash(NODE_HASHES[1, 2], NODE_HASHES[0, 6])


INCLUSION_CASES = [(i, n) for n in range(1, 9) for i in range(n)]
CONSISTENCY_CASES = [(m, n) for n in range(1, 9) for m in range(1, n + 1)]


# --- corruptions, after transparency-dev/merkle proof/verify_test.go ---------------------------

def flipped(proof: list[bytes], i: int, bit: int = 3) -> list[bytes]:
    copy = list(proof)
    copy[i] = bytes([copy[i][0] ^ (1 << bit)]) + copy[i][1:]
    return copy


def inclusion_corruptions(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    yield "index - 1", (leaf, index - 1, size, proof, root)
    yield "index + 1", (leaf, index + 1, size, proof, root)
    yield "index ^ 2", (leaf, index ^ 2, size, proof, root)
    yield "size * 2", (leaf, index, size * 2, proof, root)
    yield "size // 2", (leaf, index, size // 2, proof, root)
    yield "wrong leaf", (b"WrongLeaf", index, size, proof, root)
    yield "another leaf", (leaf_hash(b"another"), index, size, proof, root)
    yield "empty root", (leaf, index, size, proof, EMPTY_ROOT)
    yield "some root", (leaf, index, size, proof, SOME_HASH)
    yield "trailing garbage", (leaf, index, size, proof + [b""], root)
    yield "trailing root", (leaf, index, size, proof + [root], root)
    yield "preceding garbage", (leaf, index, size, [b""] + proof, root)
    yield "preceding root", (leaf, index, size, [root] + proof, root)
    for i in range(len(proof)):
        yield f"proof[{i}] bit 3 flipped", (leaf, index, size, flipped(proof, i), root)
        last_byte = proof[:i] + [proof[i][:-1] + bytes([proof[i][-1] ^ 1])] + proof[i + 1:]
        yield f"proof[{i}] last byte flipped", (leaf, index, size, last_byte, root)
    if proof:
        yield "last element removed", (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        yield "element inserted", (leaf, index, size, [proof[0], SOME_HASH] + proof[1:], root)


def consistency_corruptions(first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes]):
    yield "first - 1", (first - 1, second, root1, root2, proof)
    yield "first + 1", (first + 1, second, root1, root2, proof)
    yield "first ^ 2", (first ^ 2, second, root1, root2, proof)
    yield "second * 2", (first, second * 2, root1, root2, proof)
    yield "second // 2", (first, second // 2, root1, root2, proof)
    yield "wrong first root", (first, second, SOME_HASH, root2, proof)
    yield "wrong second root", (first, second, root1, SOME_HASH, proof)
    yield "swapped roots", (first, second, root2, root1, proof)
    yield "empty proof", (first, second, root1, root2, [])
    yield "trailing garbage", (first, second, root1, root2, proof + [b""])
    yield "trailing first root", (first, second, root1, root2, proof + [root1])
    yield "trailing second root", (first, second, root1, root2, proof + [root2])
    yield "preceding garbage", (first, second, root1, root2, [b""] + proof)
    yield "preceding first root", (first, second, root1, root2, [root1] + proof)
    yield "preceding second root", (first, second, root1, root2, [root2] + proof)
    yield "preceding proof[0]", (first, second, root1, root2, [proof[0]] + proof)
    yield "truncated", (first, second, root1, root2, proof[:-1])
    for i in range(len(proof)):
        yield f"proof[{i}] bit 4 flipped", (first, second, root1, root2, flipped(proof, i, 4))


# --- hashing and roots -------------------------------------------------------------------------

def test_the_empty_tree_hashes_to_the_sha256_of_nothing():
    assert merkle.root([]) == EMPTY_ROOT == ROOTS[0]
    assert CompactRange().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_use_the_0x00_and_0x01_prefixes():
    import hashlib
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


@pytest.mark.parametrize("size", range(9))
def test_the_root_of_each_published_tree_size_matches(size):
    assert merkle.root(LEAVES[:size]) == ROOTS[size]


def test_every_published_complete_subtree_hash_matches():
    for (level, index), expected in NODE_HASHES.items():
        assert subtree_hash(lambda a, b: LEAVES[a:b], index << level, level) == expected


@pytest.mark.parametrize("size", range(9))
def test_the_compact_range_keeps_the_published_peaks_and_root(size):
    # transparency-dev/merkle testonly/constants.go CompactTrees()
    published = {0: [], 1: [(0, 0)], 2: [(1, 0)], 3: [(1, 0), (0, 2)], 4: [(2, 0)], 5: [(2, 0), (0, 4)],
                 6: [(2, 0), (1, 2)], 7: [(2, 0), (1, 2), (0, 6)], 8: [(3, 0)]}
    compact = CompactRange()
    compact.extend(LEAVES[:size])
    assert list(compact.peaks) == [NODE_HASHES[key] for key in published[size]]
    assert compact.root() == ROOTS[size] and compact.size == size


def test_appending_a_leaf_reports_every_complete_subtree_it_finishes():
    compact, seen = CompactRange(), {}
    for leaf in LEAVES:
        for level, index, value in compact.append(leaf):
            seen[level, index] = value
    assert seen == NODE_HASHES


def test_a_compact_range_resumes_from_stored_peaks():
    compact = CompactRange()
    compact.extend(LEAVES[:5])
    resumed = CompactRange.from_peaks(5, compact.peaks)
    resumed.extend(LEAVES[5:])
    assert resumed.root() == ROOTS[8]
    with pytest.raises(ValueError):
        CompactRange.from_peaks(5, compact.peaks[:1])


def test_a_subtree_must_be_complete_and_aligned():
    with pytest.raises(ValueError):
        subtree_hash(lambda a, b: LEAVES[a:b], 1, 1)
    with pytest.raises(ValueError):
        subtree_hash(lambda a, b: LEAVES[a:b], 8, 1)  # the fetcher returns too few leaves


def test_a_range_that_is_no_tree_node_is_refused():
    assert aligned_subtrees(4, 7) == [(1, 2), (0, 6)]
    assert aligned_subtrees(0, 8) == [(3, 0)]
    for start, end in [(1, 4), (2, 5), (3, 3), (6, 5)]:
        with pytest.raises(ValueError):
            aligned_subtrees(start, end)


# --- inclusion ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("index", "size"), sorted(PUBLISHED_INCLUSION))
def test_the_published_inclusion_proofs_are_reproduced_and_verify(index, size):
    proof = inclusion_proof(LEAVES, index, size)
    assert proof == PUBLISHED_INCLUSION[index, size]
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("index", "size"), sorted(PUBLISHED_INCLUSION_NODES))
def test_inclusion_proofs_are_made_of_the_published_tree_nodes(index, size):
    assert inclusion_ranges(index, size) == PUBLISHED_INCLUSION_NODES[index, size]


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_every_inclusion_proof_up_to_eight_leaves_is_made_of_published_hashes_and_verifies(index, size):
    assert inclusion_ranges(index, size) == rfc_path(index, 0, size)
    expected = [published_range_hash(a, b) for a, b in rfc_path(index, 0, size)]
    assert inclusion_proof(LEAVES, index, size) == expected
    assert verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])
    assert merkle.root_from_inclusion(LEAVES[index], index, size, expected) == ROOTS[size]


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_every_corrupted_inclusion_proof_up_to_eight_leaves_fails(index, size):
    proof = inclusion_proof(LEAVES, index, size)
    corruptions = inclusion_corruptions(index, size, proof, ROOTS[size], LEAVES[index])
    accepted = [name for name, args in corruptions if verify_inclusion(*args)]
    assert accepted == []


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_an_inclusion_claim_with_a_mismatched_leaf_or_root_never_verifies(index, size):
    # proof/verify_test.go TestVerifyInclusion probes
    assert not verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (8, 7), (-1, 3)])
def test_no_inclusion_proof_is_made_for_a_leaf_outside_the_tree(index, size):
    with pytest.raises(ValueError):
        inclusion_ranges(index, size)


def test_a_single_leaf_tree_needs_an_empty_proof_and_hashes_of_the_right_length():
    single = leaf_hash(b"data")
    assert verify_inclusion(single, 0, 1, [], single)
    assert not verify_inclusion(single, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], single)
    assert not verify_inclusion(single, 0, 1, [single], single)


# --- consistency -------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), sorted(PUBLISHED_CONSISTENCY))
def test_the_published_consistency_proofs_are_reproduced_and_verify(first, second):
    proof = consistency_proof(LEAVES, first, second)
    assert proof == PUBLISHED_CONSISTENCY[first, second]
    assert verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


@pytest.mark.parametrize(("first", "second"), sorted(PUBLISHED_CONSISTENCY_NODES))
def test_consistency_proofs_are_made_of_the_published_tree_nodes(first, second):
    assert consistency_ranges(first, second) == PUBLISHED_CONSISTENCY_NODES[first, second]


@pytest.mark.parametrize(("first", "second"), CONSISTENCY_CASES)
def test_every_consistency_proof_up_to_eight_leaves_is_made_of_published_hashes_and_verifies(first, second):
    ranges = [] if first == second else rfc_subproof(first, 0, second, True)
    assert consistency_ranges(first, second) == ranges
    expected = [published_range_hash(a, b) for a, b in ranges]
    assert consistency_proof(LEAVES, first, second) == expected
    assert verify_consistency(first, second, ROOTS[first], ROOTS[second], expected)


@pytest.mark.parametrize(("first", "second"), [(m, n) for m, n in CONSISTENCY_CASES if m < n])
def test_every_corrupted_consistency_proof_up_to_eight_leaves_fails(first, second):
    proof = consistency_proof(LEAVES, first, second)
    corruptions = consistency_corruptions(first, second, ROOTS[first], ROOTS[second], proof)
    accepted = [name for name, args in corruptions if verify_consistency(*args)]
    assert accepted == []


def test_the_edge_cases_of_consistency_follow_transparency_dev():
    # proof/verify_test.go TestVerifyConsistency, with 32-byte stand-ins for its "don't care" roots
    root1, root2 = b"1" * 32, b"2" * 32
    assert verify_consistency(0, 0, root1, root1, [])
    assert verify_consistency(0, 1, root1, root2, [])
    assert verify_consistency(1, 1, root2, root2, [])
    assert not verify_consistency(0, 0, root1, root2, [])
    assert not verify_consistency(1, 1, root1, root2, [])
    assert not verify_consistency(1, 0, root1, root2, [])  # time travel to the past
    assert not verify_consistency(2, 1, root1, root2, [])
    assert not verify_consistency(1, 2, root1, root2, [])  # empty proof
    for first, second in [(0, 0), (0, 1), (1, 1)]:  # matching roots but a non-empty proof
        assert not verify_consistency(first, second, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert consistency_ranges(0, 5) == [] and consistency_ranges(5, 5) == []
    with pytest.raises(ValueError):
        consistency_ranges(9, 8)


# --- proofs from stored subtree hashes ---------------------------------------------------------

Lookup = Callable[[int, int], bytes]


def counting(lookup: Lookup) -> tuple[Lookup, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []

    def wrapped(level: int, index: int) -> bytes:
        calls.append((level, index))
        return lookup(level, index)
    return wrapped, calls


def test_proofs_from_the_published_subtree_table_equal_the_list_based_proofs():
    stored, calls = counting(lambda level, index: NODE_HASHES[level, index])
    range_hash = partial(range_hash_from_nodes, stored)
    for index, size in INCLUSION_CASES:
        assert inclusion_path(range_hash, index, size) == inclusion_proof(LEAVES, index, size)
    for first, second in CONSISTENCY_CASES:
        assert consistency_path(range_hash, first, second) == consistency_proof(LEAVES, first, second)
    assert calls


# --- seeded random trees up to 1,000 leaves ----------------------------------------------------

def test_random_trees_up_to_a_thousand_leaves_prove_and_refuse_tampering():
    rng = random.Random(9162)
    leaves = [leaf_hash(i.to_bytes(4, "big") + rng.randbytes(rng.randrange(0, 40))) for i in range(1000)]
    cache: dict = {}
    roots = [rfc_mth(leaves, 0, n, cache) for n in range(1001)]

    compact = CompactRange()
    table: dict[tuple[int, int], bytes] = {}
    for n in range(1001):
        assert compact.root() == roots[n] == merkle.root(leaves[:n]), n
        if n < 1000:
            for level, index, value in compact.append(leaves[n]):
                table[level, index] = value

    stored, calls = counting(lambda level, index: table[level, index])
    from_table = partial(range_hash_from_nodes, stored)

    for _ in range(300):
        size = rng.randrange(1, 1001)
        index = rng.randrange(size)
        proof = inclusion_proof(leaves, index, size)
        assert proof == [rfc_mth(leaves, a, b, cache) for a, b in rfc_path(index, 0, size)]
        calls.clear()
        assert inclusion_path(from_table, index, size) == proof
        assert len(calls) <= 2 * size.bit_length()  # O(log n) stored hashes
        assert verify_inclusion(leaves[index], index, size, proof, roots[size])
        for i in range(len(proof)):
            tampered = flipped(proof, i, rng.randrange(8))
            assert not verify_inclusion(leaves[index], index, size, tampered, roots[size])
        for other in {index - 1, index + 1, rng.randrange(size)} - {index}:
            assert not verify_inclusion(leaves[index], other, size, proof, roots[size])
        assert not verify_inclusion(leaves[index], index, size, proof, roots[size - 1])
        assert not verify_inclusion(leaves[(index + 1) % 1000], index, size, proof, roots[size])
        if proof:
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], roots[size])
        assert not verify_inclusion(leaves[index], index, size, proof + [SOME_HASH], roots[size])

    for _ in range(300):
        second = rng.randrange(2, 1001)
        first = rng.randrange(1, second)
        proof = consistency_proof(leaves, first, second)
        assert proof == [rfc_mth(leaves, a, b, cache) for a, b in rfc_subproof(first, 0, second, True)]
        calls.clear()
        assert consistency_path(from_table, first, second) == proof
        assert len(calls) <= 2 * second.bit_length() + 2
        assert verify_consistency(first, second, roots[first], roots[second], proof)
        for i in range(len(proof)):
            tampered = flipped(proof, i, rng.randrange(8))
            assert not verify_consistency(first, second, roots[first], roots[second], tampered)
        assert not verify_consistency(first, second, roots[first - 1], roots[second], proof)
        assert not verify_consistency(first, second, roots[first], roots[second - 1], proof)
        assert not verify_consistency(first, second, roots[second], roots[first], proof)
        assert not verify_consistency(first, second, roots[first], roots[second], proof[:-1])
        assert not verify_consistency(first, second, roots[first], roots[second], proof + [SOME_HASH])
