"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the Merkle tree as immutable tiles of 256
hashes and the leaf bytes as entry bundles, so that any HTTP cache can serve the log and any
tlog client (Go's sumdb/tlog, Sunlight's) can compute proofs from them.

Hash i of tile N at level L is MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L]): the
complete subtree at tree level 8L with index N*256 + i, which the audit read model stores."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

WIDTH = 256
HEIGHT = 8  # tree levels per tile level: 256 = 2**8
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF  # entries in a bundle carry a big-endian uint16 length

_LEVEL = re.compile(r"0|[1-9][0-9]?")
_INDEX = re.compile(r"((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?")


@dataclass(frozen=True)
class Tile:
    """Tile `index` at tile level `level` holding `width` hashes (256: full; fewer: partial).
    An entry bundle is the level-0 tile's entries."""

    level: int
    index: int
    width: int = WIDTH

    @property
    def node_level(self) -> int:
        """The tree level of the subtrees whose hashes the tile holds."""
        return HEIGHT * self.level

    @property
    def first_node(self) -> int:
        """The index, at node_level, of the tile's first hash."""
        return self.index * WIDTH

    @property
    def tree_size(self) -> int:
        """The fewest leaves a tree needs for this tile to exist."""
        return (self.first_node + self.width) << self.node_level

    def path(self, entries: bool = False) -> str:
        """`tile/<L>/<N>[.p/<W>]`, or `tile/entries/<N>[.p/<W>]` for the bundle."""
        partial = f".p/{self.width}" if self.width < WIDTH else ""
        return f"tile/{'entries' if entries else self.level}/{format_index(self.index)}{partial}"


def format_index(index: int) -> str:
    """Zero-padded 3-digit path elements, all but the last starting with x: 1234067 is
    x001/x234/067."""
    text = f"{index % 1000:03d}"
    index //= 1000
    while index:
        text = f"x{index % 1000:03d}/{text}"
        index //= 1000
    return text


def parse_tile(level: str, rest: str) -> Tile | None:
    """The tile a path names (`level` the element after tile/, `rest` what follows it), or None
    unless the path is exactly the one the spec writes for it."""
    match = _INDEX.fullmatch(rest)
    if not _LEVEL.fullmatch(level) or int(level) > MAX_LEVEL or match is None:
        return None
    index = int(match.group(1).replace("x", "").replace("/", ""))
    width = int(match.group(2) or WIDTH)
    if (match.group(2) and width >= WIDTH) or format_index(index) != match.group(1):
        return None  # a partial tile holds 1 to 255 hashes; x000/005 is written 005
    return Tile(int(level), index, width)


def bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry with its length as a big-endian uint16."""
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise ValueError(f"an entry of {len(entry)} bytes is longer than a bundle can hold")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)
