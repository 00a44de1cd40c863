"""Sorting visits by (key, time, row) faster than ``np.lexsort``.

On 2 cores without AVX-512, numpy's ``np.sort`` of 10M ``uint64`` takes about
0.2 s while ``np.argsort`` of the same keys takes 1.2-1.7 s and ``np.lexsort``
of three columns 4.6 s. So the permutation is carried *inside* the sorted
values: the key (shifted right if it must make room) and the position are packed
into one ``uint64``, sorted with ``np.sort`` and unpacked. A second, nearly
sorted pass orders each key's visits by time; rare leftovers (distinct keys that
shared a shifted prefix, visits with equal key and time) are put right by a
small ``np.lexsort`` over just those runs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_U64 = np.uint64


def _sort_runs(
    order: NDArray[np.intp], coarse: NDArray, fine: NDArray, unsorted: NDArray[np.bool_]
) -> NDArray[np.intp] | None:
    """Within runs of equal ``coarse`` holding a flagged pair, reorder ``order`` by ``fine``.

    ``coarse`` is the sort key already applied (aligned with ``order``);
    ``unsorted[i]`` flags the pair ``(i, i + 1)``. Changes ``order`` in place and
    returns the positions it rewrote, or ``None`` when nothing was flagged.
    """
    if not unsorted.any():
        return None
    run = np.zeros(order.size, dtype=np.int64)
    np.cumsum(coarse[1:] != coarse[:-1], out=run[1:])
    flagged = np.zeros(int(run[-1]) + 1, dtype=bool)
    flagged[run[1:][unsorted]] = True
    at = np.flatnonzero(flagged[run])
    members = order[at]
    order[at] = members[np.lexsort((fine[members], run[at]))]
    return at


def by_key(keys: NDArray[np.uint64]) -> tuple[NDArray[np.intp], NDArray[np.uint64]]:
    """A permutation sorting ``keys``, and the sorted keys (ties in any order).

    The fast replacement for ``np.argsort`` that the whole package uses.
    """
    n = keys.size
    if n == 0:
        return np.empty(0, dtype=np.intp), keys.copy()
    position_bits = (n - 1).bit_length()
    low = int(keys.min())
    shift = max(0, (int(keys.max()) - low).bit_length() - (64 - position_bits))
    packed = keys - _U64(low)
    packed >>= _U64(shift)
    packed <<= _U64(position_bits)
    packed |= np.arange(n, dtype=_U64)
    packed.sort()
    order = (packed & _U64((1 << position_bits) - 1)).astype(np.intp)
    sorted_keys = keys[order]
    if shift:
        prefix = packed >> _U64(position_bits)
        mixed = (sorted_keys[1:] != sorted_keys[:-1]) & (prefix[1:] == prefix[:-1])
        at = _sort_runs(order, prefix, keys, mixed)
        if at is not None:
            sorted_keys[at] = keys[order[at]]
    return order, sorted_keys


def _dense_ranks(sorted_values: NDArray) -> NDArray[np.int64]:
    """0 for the first run of equal values, 1 for the next, ... (input sorted)."""
    rank = np.zeros(sorted_values.size, dtype=np.int64)
    np.cumsum(sorted_values[1:] != sorted_values[:-1], out=rank[1:])
    return rank


def unique_inverse(
    values: NDArray[np.uint64],
) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
    """``np.unique(values, return_inverse=True)``, several times faster on large input."""
    order, sorted_values = by_key(values)
    rank = _dense_ranks(sorted_values)
    inverse = np.empty(values.size, dtype=np.int64)
    inverse[order] = rank
    first = np.ones(values.size, dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=first[1:])
    return sorted_values[first], inverse


def _time_codes(times: NDArray[np.int64], bits: int) -> NDArray[np.uint64]:
    """Order-preserving ``uint64`` codes of ``times`` that fit in ``bits`` bits.

    The offset from the earliest time when the span fits (the usual case: 2**44
    seconds is half a million years even beside 2**20 distinct keys), otherwise
    the dense rank of each time, which fits because there are no more distinct
    times than visits.
    """
    first, last = int(times.min()), int(times.max())
    if (last - first).bit_length() <= bits:
        # Wrap-around subtraction in uint64 is exact because the true offset fits.
        return times.view(_U64) - _U64(first % 2**64)
    return np.unique(times, return_inverse=True)[1].astype(_U64)


def sort_visits(
    keys: NDArray[np.uint64], times: NDArray[np.int64], rows: NDArray[np.int64]
) -> tuple[NDArray[np.uint64], NDArray[np.int64], NDArray[np.int64]]:
    """The three visit columns sorted by (key, time, row)."""
    if keys.size == 0:
        return keys.copy(), times.copy(), rows.copy()
    order, sorted_keys = by_key(keys)
    rank = _dense_ranks(sorted_keys)
    rank_bits = int(rank[-1]).bit_length()
    by_key_times = times[order]
    packed = _time_codes(by_key_times, 64 - rank_bits)
    if rank_bits:
        packed |= rank.astype(_U64) << _U64(64 - rank_bits)
    # Only each key's few visits are out of order now: a stable sort is quick.
    within = np.argsort(packed, kind="stable")
    order = order[within]
    packed = packed[within]
    _sort_runs(order, packed, rows, packed[1:] == packed[:-1])
    # Keys stay where they were (the second pass moves visits inside one key);
    # times only move among equal times, so only rows follow the final order.
    return sorted_keys, by_key_times[within], rows[order]
