"""How a ledger process sets Python's garbage collector for work through many events at once."""

from __future__ import annotations

import gc

#: allocations (less deallocations) between collections of the youngest generation; Python's
#: 700 made the collector about a fifth of the CPU time of `ledger import`
YOUNG_THRESHOLD = 10_000


def collect_seldom() -> None:
    """Leave what start-up built out of every later collection, and collect the youngest
    generation after YOUNG_THRESHOLD allocations: a batch of commands or events makes many
    objects that live until the batch ends, which Python's default scans again and again."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
