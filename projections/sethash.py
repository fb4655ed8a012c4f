"""A set hash of read-model rows: the state digest that checkpoints sign, kept by the projector
in the transaction of each batch so that reading it costs one row at any size of log.

Each row of a table maps to a 2048-bit number, the first 256 bytes of SHAKE-256 over the
table's name, a newline and the row as a JSON array (little-endian). The digest's sum is the sum
of these numbers modulo 2^2048, over every row of every table. Adding a row adds its number,
removing one subtracts it, replacing one does both: the sum depends on which rows there are and
not on the order they were written in, so a projector can keep it batch by batch and anyone can
recompute it by reading the rows in any order. A wide sum is what keeps it collision-resistant:
with a narrow one (say 256 bits), rows chosen to cancel each other can be found by a
generalised birthday search. The published digest is the SHA-256 of the sum's 256 bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

#: bytes of each row's number and of the sum
WIDTH = 256
MODULUS = 1 << (8 * WIDTH)
#: how a checkpoint and `ledger digest` name this digest
KIND = "set-sha256"


def element(table: str, row: Sequence[Any]) -> int:
    """The number one row adds to the sum."""
    data = table.encode() + b"\n" + orjson.dumps(row)
    return int.from_bytes(hashlib.shake_256(data).digest(WIDTH), "little")


def total(table: str, rows: Iterable[Sequence[Any]]) -> int:
    """What the rows of one table add to the sum (not yet reduced)."""
    return sum(element(table, row) for row in rows)


def weighted(table: str, rows: Iterable[Sequence[Any]]) -> int:
    """What counted rows add: each row but its last value (a count, `n`) hashed, times that
    count; a count of zero adds nothing, as a row that is not there."""
    return sum(row[-1] * element(table, row[:-1]) for row in rows)


def published(sum_: int) -> str:
    """The hex digest of a sum."""
    return hashlib.sha256((sum_ % MODULUS).to_bytes(WIDTH, "little")).hexdigest()
