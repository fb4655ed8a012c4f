"""`make bench`: every benchmark, each printing its figures and ratios measured in one run."""

from __future__ import annotations

import sys

from benchmarks import rebuild

if __name__ == "__main__":
    sys.argv = [sys.argv[0], *sys.argv[1:]]
    rebuild.main()
