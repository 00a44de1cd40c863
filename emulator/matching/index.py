"""``VisitIndex``: visits kept sorted by (identity key, start time, row) for linking.

The emulator keeps one index per kind of identity key (ClientIDs, phone MD5s,
e-mail MD5s: separate indexes, so keys of different kinds never collide) and
grows it as visits arrive in bulk loads. Linking a new upload then costs
``O(batch · log visits)`` instead of a fresh join over every visit (see the issue
"The reference attribution engine", item 3).

Keys are ``uint64`` (a ClientID, or the first 8 bytes of an MD5 read big-endian;
the caller hashes), times are ``int64`` epoch seconds of any sign and size, rows
are the caller's non-negative ``int64`` visit ids or row numbers (``-1`` is kept
free to mean "no visit").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.matching.search import segmented_search
from emulator.matching.sorting import sort_visits


def _frozen(array: NDArray) -> NDArray:
    array.flags.writeable = False
    return array


KEY_TIME_INT = (np.uint64, np.int64, np.int64)
"""Column types of visits (key, time, row) and of queries (key, time, not_before)."""


def as_columns(names: str, values: Sequence[ArrayLike], dtypes: Sequence[type]) -> list[NDArray]:
    """Parallel 1-D columns of the given dtypes; a ``ValueError`` naming them if lengths differ."""
    columns = [np.asarray(v, dtype=d).reshape(-1) for v, d in zip(values, dtypes, strict=True)]
    if len({c.size for c in columns}) > 1:
        sizes = ", ".join(str(c.size) for c in columns)
        raise ValueError(f"{names} differ in length: {sizes}")
    return columns


def visit_arrays(
    keys: ArrayLike, times: ArrayLike, rows: ArrayLike
) -> tuple[NDArray[np.uint64], NDArray[np.int64], NDArray[np.int64]]:
    """Coerce three parallel visit columns to ``uint64``/``int64``/``int64`` and check them."""
    k, t, r = as_columns("keys, times and rows", (keys, times, rows), KEY_TIME_INT)
    if r.size and r.min() < 0:
        raise ValueError("visit rows must be non-negative (-1 means 'no visit')")
    return k, t, r


@dataclass(frozen=True, eq=False)
class VisitIndex:
    """Visits sorted by (key, time, row); read-only arrays.

    ``keys``, ``times``, ``rows`` are the visits in that order. ``unique_keys`` are
    the distinct keys and ``starts`` (one longer) the offset of each key's first
    visit, so the visits of ``unique_keys[j]`` are ``starts[j]:starts[j + 1]``.
    Build with :meth:`build` or :meth:`empty`; grow with :meth:`merged`.
    """

    keys: NDArray[np.uint64]
    times: NDArray[np.int64]
    rows: NDArray[np.int64]
    unique_keys: NDArray[np.uint64]
    starts: NDArray[np.int64]

    @classmethod
    def _from_sorted(
        cls, keys: NDArray[np.uint64], times: NDArray[np.int64], rows: NDArray[np.int64]
    ) -> VisitIndex:
        if keys.size:
            first = np.flatnonzero(keys[1:] != keys[:-1]) + 1
            starts = np.concatenate(([0], first, [keys.size])).astype(np.int64)
        else:
            starts = np.zeros(1, dtype=np.int64)
        return cls(
            _frozen(keys),
            _frozen(times),
            _frozen(rows),
            _frozen(keys[starts[:-1]]),
            _frozen(starts),
        )

    @classmethod
    def empty(cls) -> VisitIndex:
        """An index with no visits: every lookup answers "no visit"."""
        return cls.build([], [], [])

    @classmethod
    def build(cls, keys: ArrayLike, times: ArrayLike, rows: ArrayLike) -> VisitIndex:
        """Index visits given as three parallel columns, in any order."""
        k, t, r = visit_arrays(keys, times, rows)
        return cls._from_sorted(*sort_visits(k, t, r))

    def __len__(self) -> int:
        return int(self.keys.size)

    def slices(self, keys: NDArray[np.uint64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(lo, hi)`` per key: its visits are ``lo:hi``.

        A key with no visits gets the empty slice at the place where it would be
        inserted. Sorted ``keys`` make the underlying ``searchsorted`` much faster.
        """
        slot = np.searchsorted(self.unique_keys, keys)
        if self.unique_keys.size == 0:
            return slot.astype(np.int64), slot.astype(np.int64)
        lo = self.starts[slot]
        known = self.unique_keys.take(np.minimum(slot, self.unique_keys.size - 1)) == keys
        hi = np.where(known, self.starts.take(np.minimum(slot + 1, self.unique_keys.size)), lo)
        return lo, hi

    def merged(self, keys: ArrayLike, times: ArrayLike, rows: ArrayLike) -> VisitIndex:
        """A new index holding these visits and the new ones.

        Only the new batch is sorted; it is then merged into the existing sorted
        run by insertion points (``O(batch · log visits)`` searches plus one linear
        copy), never re-sorting what is already indexed. The result equals
        ``build`` over the concatenation.
        """
        batch = VisitIndex.build(keys, times, rows)
        if len(batch) == 0:
            return self
        if len(self) == 0:
            return batch
        lo, hi = self.slices(batch.keys)
        first = segmented_search(self.times, lo, hi, batch.times, "left")
        after = segmented_search(self.times, first, hi, batch.times, "right")
        before = segmented_search(self.rows, first, after, batch.rows, "left")
        new_at = before + np.arange(len(batch))
        old_at = np.ones(len(self) + len(batch), dtype=bool)
        old_at[new_at] = False
        columns = []
        for old, new in (
            (self.keys, batch.keys),
            (self.times, batch.times),
            (self.rows, batch.rows),
        ):
            column = np.empty(old.size + new.size, dtype=old.dtype)
            column[new_at] = new
            column[old_at] = old
            columns.append(column)
        return VisitIndex._from_sorted(*columns)
