"""RFC 9162 section 2.1 Merkle tree hashing (identical to RFC 6962) for the audit log.

Hashing: a leaf is ``SHA-256(0x00 || bytes)``, an interior node ``SHA-256(0x01 || left || right)``,
and the tree over n > 1 leaves splits at k, the largest power of two smaller than n. The hash of
the empty tree is ``SHA-256("")``. Everything here works on *leaf hashes*, never on raw entries,
so a caller hashes each event envelope once with :func:`leaf_hash` and keeps only 32 bytes.

Proofs are written against ranges
---------------------------------
Every element of an RFC 9162 inclusion proof (PATH, 2.1.3.1) and consistency proof
(PROOF/SUBPROOF, 2.1.4.1) is ``MTH(D[start:end])`` for some range of leaves. Which ranges are
needed depends only on the sizes and index, not on the data, so this module splits each proof in
two steps:

1. :func:`inclusion_ranges` and :func:`consistency_ranges` list the ``(start, end)`` ranges;
2. :func:`inclusion_path` and :func:`consistency_path` call an abstract
   ``range_hash(start, end) -> bytes`` (type :data:`RangeHash`) for each of them.

:func:`inclusion_proof` and :func:`consistency_proof` are the naive list-based versions: their
``range_hash`` rehashes the slice of leaf hashes, which is O(n) per proof.

A store that keeps the hashes of complete, aligned subtrees -- the subtree of ``2**level`` leaves
starting at ``index * 2**level``, e.g. a table keyed by ``(level, index)`` -- serves proofs in
O(log n) lookups instead:

* every range in a proof is a node of the tree: it starts at a multiple of the smallest power of
  two not below its length, so it is either one complete aligned subtree or (only at the right
  edge of the tree) a short run of them; :func:`aligned_subtrees` lists them as ``(level, index)``
  keys (all keys of a proof can be fetched in one query) and :func:`range_hash_from_nodes` folds
  their hashes back into ``MTH(D[start:end])``;
* at most one range of an inclusion proof, and at most one of a consistency proof, touches the
  right edge, so a proof needs O(log n) stored hashes in total.

:func:`subtree_hash` computes one complete subtree from a callable that returns a run of leaf
hashes (to fill such a table), and :class:`CompactRange` keeps only the O(log n) right-edge
subtree roots of a growing log (to recompute a root while streaming an export, or to learn the
new complete subtrees as leaves are appended).

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows the bit-walking
algorithms of RFC 9162 2.1.3.2 and 2.1.4.2 and never raises on bad input: it returns False.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

RangeHash = Callable[[int, int], bytes]
"""``range_hash(start, end)`` returns ``MTH(D[start:end])``, the root of the leaves start..end-1."""

LeafRange = Callable[[int, int], Sequence[bytes]]
"""``leaves(start, end)`` returns the leaf hashes start..end-1."""

NodeHash = Callable[[int, int], bytes]
"""``node(level, index)`` returns the hash of the complete subtree of leaves
``[index * 2**level, (index + 1) * 2**level)``."""


# --- hashing ------------------------------------------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    """Hash one log entry, domain-separated from interior nodes by the 0x00 prefix."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children, domain-separated from leaves by the 0x01 prefix."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The RFC's k: the largest power of two strictly smaller than n (n >= 2)."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split point")
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees on the right edge of a growing log: O(log n) memory.

    ``peaks`` lists them left to right, one per set bit of ``size`` from the highest; appending
    a leaf merges equal-sized peaks exactly like a binary counter carries.
    """

    __slots__ = ("_size", "_peaks")

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []

    @classmethod
    def from_peaks(cls, size: int, peaks: Sequence[bytes]) -> CompactRange:
        """Resume from a stored state instead of replaying every leaf."""
        if size < 0 or len(peaks) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} peaks, not {len(peaks)}")
        compact = cls()
        compact._size = size
        compact._peaks = [bytes(peak) for peak in peaks]
        return compact

    @property
    def size(self) -> int:
        return self._size

    @property
    def peaks(self) -> tuple[bytes, ...]:
        return tuple(self._peaks)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the complete subtrees it finished as (level, index, hash).

        The leaf itself is level 0; a caller storing subtree hashes by (level, index) can insert
        the returned rows directly.
        """
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
        index = self._size
        finished = [(0, index, leaf)]
        current, carry, level = leaf, index, 0
        while carry & 1:
            current = node_hash(self._peaks.pop(), current)
            carry >>= 1
            level += 1
            finished.append((level, index >> level, current))
        self._peaks.append(current)
        self._size += 1
        return finished

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaf hashes."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of everything appended so far, folding the peaks right to left in O(log n)."""
        if not self._peaks:
            return EMPTY_ROOT
        result = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            result = node_hash(peak, result)
        return result


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH(D[n]) of a list of leaf hashes, in one pass and O(log n) memory."""
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


# --- subtrees and ranges ------------------------------------------------------------------------

def subtree_hash(leaves: LeafRange, start: int, level: int) -> bytes:
    """Hash of the complete subtree [start, start + 2**level) from a leaf-hash fetcher."""
    width = 1 << level
    if level < 0 or start < 0 or start % width:
        raise ValueError(f"[{start}, {start + width}) is not an aligned complete subtree")
    hashes = leaves(start, start + width)
    if len(hashes) != width:
        raise ValueError(f"expected {width} leaf hashes from {start}, got {len(hashes)}")
    return root(hashes)


def _check_tree_node(start: int, end: int) -> None:
    """Refuse ranges that are not nodes of a tree: their MTH would not be built from subtrees."""
    if not 0 <= start < end:
        raise ValueError(f"[{start}, {end}) is not a non-empty range")
    span = 1 << (end - start - 1).bit_length()  # smallest power of two >= the length
    if start % span:
        raise ValueError(f"[{start}, {end}) is not a node of any tree: {start} is not a multiple of {span}")


def aligned_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The (level, index) keys of the complete subtrees that make up the tree node [start, end).

    Largest first; for a complete subtree this is the single key of that subtree.
    """
    _check_tree_node(start, end)
    keys = []
    while start < end:
        level = (end - start).bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def range_hash_from_nodes(node: NodeHash, start: int, end: int) -> bytes:
    """MTH(D[start:end]) of a tree node from stored complete-subtree hashes, O(log n) lookups."""
    hashes = [node(level, index) for level, index in aligned_subtrees(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def list_range_hash(leaf_hashes: Sequence[bytes]) -> RangeHash:
    """The naive RangeHash over an in-memory list of leaf hashes (O(end - start) per call)."""
    def range_hash(start: int, end: int) -> bytes:
        if not 0 <= start < end <= len(leaf_hashes):
            raise ValueError(f"[{start}, {end}) is outside a list of {len(leaf_hashes)} leaves")
        return root(leaf_hashes[i] for i in range(start, end))
    return range_hash


# --- inclusion proofs (RFC 9162 2.1.3) ---------------------------------------------------------

def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PATH(index, D[tree_size]), sibling of the leaf first."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of {tree_size} leaves")
    ranges = []
    start, end = 0, tree_size
    while end - start > 1:  # PATH(m, D[n]) = PATH(m', half holding m) : MTH(other half)
        middle = start + split_point(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    ranges.reverse()  # collected from the root down; the RFC lists them from the leaf up
    return ranges


def inclusion_path(range_hash: RangeHash, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) from any source of range hashes."""
    return [range_hash(start, end) for start, end in inclusion_ranges(index, tree_size)]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) over the first tree_size of a list of leaf hashes."""
    if tree_size > len(leaf_hashes):
        raise ValueError(f"a tree of {tree_size} leaves needs more than {len(leaf_hashes)} leaf hashes")
    return inclusion_path(list_range_hash(leaf_hashes), index, tree_size)


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview)) and len(value) == HASH_SIZE


def root_from_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root implied by an inclusion proof (RFC 9162 2.1.3.2), or None if it cannot fit."""
    if not (0 <= index < tree_size and _is_hash(leaf) and all(_is_hash(p) for p in proof)):
        return None
    fn, sn, result = index, tree_size - 1, bytes(leaf)
    for sibling in proof:
        if sn == 0:
            return None  # more proof than tree
        if fn & 1 or fn == sn:
            result = node_hash(bytes(sibling), result)
            while not fn & 1 and fn != 0:  # skip levels where this node has no right sibling
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, bytes(sibling))
        fn >>= 1
        sn >>= 1
    return result if sn == 0 else None


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """True when proof shows leaf_hash at index in the tree of tree_size leaves with this root."""
    computed = root_from_inclusion(leaf_hash, index, tree_size, proof)
    return computed is not None and _is_hash(root) and computed == bytes(root)


# --- consistency proofs (RFC 9162 2.1.4) -------------------------------------------------------

def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose MTHs form PROOF(first, D[second]), deepest first; empty when trivial."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} leaves to {second}")
    if first == 0 or first == second:
        return []
    ranges = []
    start, end, m, whole = 0, second, first, True  # SUBPROOF(m, D[start:end], whole)
    while True:
        n = end - start
        if m == n:
            if not whole:  # the old tree is a subtree the verifier does not already hold
                ranges.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    ranges.reverse()
    return ranges


def consistency_path(range_hash: RangeHash, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) from any source of range hashes."""
    return [range_hash(start, end) for start, end in consistency_ranges(first, second)]


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) over a list of at least `second` leaf hashes."""
    if second > len(leaf_hashes):
        raise ValueError(f"a tree of {second} leaves needs more than {len(leaf_hashes)} leaf hashes")
    return consistency_path(list_range_hash(leaf_hashes), first, second)


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """True when proof shows the tree of `second` leaves extends the tree of `first` leaves.

    Size 0 is consistent with every tree (with an empty proof), and equal sizes need equal roots
    and an empty proof, as transparency-dev/merkle decides these cases the RFC leaves open.
    """
    if not (0 <= first <= second and _is_hash(first_root) and _is_hash(second_root)):
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    if first == second:
        return not proof and bytes(first_root) == bytes(second_root)
    if first == 0:
        return not proof
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if first & (first - 1) == 0:  # the old tree is a complete subtree: its root starts the walk
        path.insert(0, bytes(first_root))
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old, new = path[0], path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old = node_hash(node, old)
            new = node_hash(node, new)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            new = node_hash(new, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and old == bytes(first_root) and new == bytes(second_root)
