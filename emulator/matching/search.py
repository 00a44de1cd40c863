"""Vectorised binary search inside many sorted slices of one array at once.

``np.searchsorted`` searches one sorted array. The visit index is sorted by
(key, time, row), so the visits of one key form a slice and, inside a slice of
equal keys, a run of equal times is sorted by row. Every question the matcher
asks ("the last visit of this key at or before t", "where does this new visit
go") is therefore a binary search inside a per-query slice ``values[lo:hi]``.
Doing all of them in lock-step -- one numpy pass per halving step -- costs
``O(q · log(longest slice))`` element operations and compares the stored values
themselves, so no bit-packing of keys or times is needed and every int64 time
(before 1970, after 2106, the extremes) is exact.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

Side = Literal["left", "right"]


def segmented_search(
    values: NDArray[np.int64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    targets: NDArray[np.int64],
    side: Side = "left",
) -> NDArray[np.int64]:
    """Insertion points of ``targets[i]`` in the sorted slice ``values[lo[i]:hi[i]]``.

    Returns absolute positions ``p[i]`` in ``[lo[i], hi[i]]`` with the meaning of
    ``lo[i] + np.searchsorted(values[lo[i]:hi[i]], targets[i], side)``: with
    ``side="left"`` every element before ``p`` is ``< target``, with ``side="right"``
    every element before ``p`` is ``<= target``. Each slice must be sorted; empty
    slices (``lo == hi``) are allowed. Locality is best when the queries are ordered
    by ``lo`` (the probes of neighbouring queries then share cache lines).
    """
    goes_right = np.less_equal if side == "right" else np.less
    base = np.array(lo, dtype=np.int64, copy=True)
    length = np.asarray(hi, dtype=np.int64) - base
    if base.size == 0 or values.size == 0:
        return base
    steps = int(length.max()).bit_length()
    last = values.size - 1
    for _ in range(steps):
        half = length >> 1
        probe = base + half
        # An empty slice may sit at the very end of ``values``; clamp its probe and
        # mask its answer so it never moves.
        right = goes_right(values.take(np.minimum(probe, last)), targets) & (length > 0)
        base = np.where(right, probe + 1, base)
        length = np.where(right, length - half - 1, half)
    return base
