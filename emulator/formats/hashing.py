"""Compact memory of keys seen in a large file: 64-bit hashes in sorted numpy arrays.

``check`` must notice a repeated order id or a customer with too many orders anywhere in
a 1 GB file without keeping millions of Python strings. Keys are hashed column-wise in
numpy (a position-weighted sum of the bytes, then a 64-bit finaliser) and kept in sorted
runs (:class:`_Partitions`): about 8 bytes per distinct key, 12 with a count, plus a 4 MB
filter. A false "repeated id" needs two keys with one hash: for ten million distinct
keys, a few chances in a million.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from emulator.formats.arrowbits import string_buffers

_WEIGHTS = np.random.default_rng(0x5EED).integers(1, 2**63, size=4096, dtype=np.uint64)
_WEIGHTS |= np.uint64(1)  # odd weights: every byte counts
_K_LENGTH = np.uint64(0x9E3779B97F4A7C15)
_K_NULL = np.uint64(0xD6E8FEB86659FD93)
_K_COMBINE = np.uint64(0xC2B2AE3D27D4EB4F)
_PARTS = 16
SMALL_SHARE = 8  # the small run spills into the large ones at an eighth of their size
_PART_STARTS = np.arange(_PARTS, dtype=np.uint64) << np.uint64(60)  # top 4 bits


def _mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads every input bit over the whole word."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def hash_strings(values: pa.Array) -> np.ndarray:
    """A 64-bit hash per value of a string array (nulls get one fixed hash).

    Byte ``k`` of every value long enough is weighted with ``_WEIGHTS[k]`` in one numpy
    pass per position, so short keys (order ids, customer ids) cost a few passes in all.
    """
    offsets, data = string_buffers(values)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    h = np.zeros(len(values), np.uint64)
    if len(values) and lengths.max() > 0:
        shortest = int(lengths.min())
        with np.errstate(over="ignore"):
            for k in range(int(lengths.max())):
                weight = _WEIGHTS[k % len(_WEIGHTS)]
                if k < shortest:
                    h += (data[starts + k].astype(np.uint64) + np.uint64(1)) * weight
                else:
                    rows = np.flatnonzero(lengths > k)
                    h[rows] += (data[starts[rows] + k].astype(np.uint64) + np.uint64(1)) * weight
    h = _mix(h ^ (lengths.astype(np.uint64) * _K_LENGTH))
    if values.null_count:
        h[np.asarray(values.is_null())] = _K_NULL
    return h


def hash_numbers(values: pa.Array) -> np.ndarray:
    """A 64-bit hash per value of an integer array (nulls get one fixed hash)."""
    numbers = np.asarray(values.fill_null(0).cast(pa.uint64()))
    h = _mix(numbers ^ _K_COMBINE)
    if values.null_count:
        h[np.asarray(values.is_null())] = _K_NULL
    return h


def combine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _mix(first * _K_COMBINE + second)


class _Run:
    """Sorted distinct hashes, with a count each when the owner needs counts."""

    def __init__(self, counted: bool) -> None:
        self.keys = np.zeros(0, np.uint64)
        self.counts = np.zeros(0, np.uint32) if counted else None

    def find(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each sorted hash of ``chunk`` is or would go, and whether it is there."""
        where = np.searchsorted(self.keys, chunk)
        found = where < len(self.keys)
        found[found] = self.keys[where[found]] == chunk[found]
        return where, found

    def insert(self, where: np.ndarray, new: np.ndarray, added: np.ndarray) -> None:
        """Put the sorted ``new`` hashes before positions ``where`` (a new, larger array)."""
        slots = where + np.arange(len(new))
        old = np.ones(len(self.keys) + len(new), bool)
        old[slots] = False
        keys = np.empty(len(old), np.uint64)
        keys[slots], keys[old] = new, self.keys
        self.keys = keys
        if self.counts is not None:
            counts = np.empty(len(old), np.uint32)
            counts[slots], counts[old] = added, self.counts
            self.counts = counts

    @classmethod
    def of(cls, keys: np.ndarray, counts: np.ndarray | None) -> _Run:
        run = cls(counts is not None)
        run.keys, run.counts = keys, counts
        return run

    def take(self, other: _Run) -> None:
        """Merge ``other`` (disjoint from this run) into this one."""
        self.insert(np.searchsorted(self.keys, other.keys), other.keys, other.counts)


class _Bits:
    """A one-hash Bloom filter: says for sure when a hash was never added.

    Most keys of a file are new (order ids); the filter spares them the binary search in
    the sorted runs, which for millions of keys is the slow part. 2^25 bits take 4 MB.
    """

    def __init__(self, bits: int = 25) -> None:
        self.mask = np.uint64((1 << bits) - 1)
        self.words = np.zeros(1 << (bits - 3), np.uint8)

    def test_and_set(self, keys: np.ndarray) -> np.ndarray:
        """Whether each hash may have been added before; all are added."""
        index = (keys >> np.uint64(7)) & self.mask  # bits below the partition's
        byte = (index >> np.uint64(3)).astype(np.int64)
        bit = np.left_shift(np.uint8(1), (index & np.uint64(7)).astype(np.uint8))
        maybe = (self.words[byte] & bit) != 0
        np.bitwise_or.at(self.words, byte, bit)
        return maybe


class _Partitions:
    """Sorted distinct hashes behind a :class:`_Bits` filter: a small run that takes each
    batch's new hashes, and large runs, one per partition of the hash space, that the small
    run spills into when it reaches 1/:data:`SMALL_SHARE` of their size.

    A batch costs one search and one insertion in the small run (the large runs are only
    searched for the few hashes the filter cannot rule out); a spill rebuilds one partition
    at a time, which bounds the temporary copy.
    """

    def __init__(self, counted: bool) -> None:
        self.counted = counted
        self.large = [_Run(counted) for _ in range(_PARTS)]
        self.small = _Run(counted)
        self.bits = _Bits()
        self.spilled = 0

    def _runs(self, keys: np.ndarray) -> Iterator[tuple[_Run, slice]]:
        """The runs a sorted ``keys`` array has to be looked up in, with its slice for each."""
        yield self.small, slice(0, len(keys))
        bounds = np.append(np.searchsorted(keys, _PART_STARTS), len(keys))
        for p in np.flatnonzero(np.diff(bounds)).tolist():
            yield self.large[p], slice(int(bounds[p]), int(bounds[p + 1]))

    def add(self, unique: np.ndarray, added: np.ndarray) -> np.ndarray:
        """Count in the distinct sorted ``unique`` hashes, ``added`` times each; returns the
        counts they had before (without counts: 1 for a hash already present)."""
        before = np.zeros(len(unique), np.int64)
        more = added.astype(np.uint32)
        found = np.zeros(len(unique), bool)
        probe = np.flatnonzero(self.bits.test_and_set(unique))  # only these can be known
        for run, part in self._runs(unique[probe]) if len(probe) else ():
            rows = probe[part]
            where, hit = run.find(unique[rows])
            rows = rows[hit]
            found[rows] = True
            if run.counts is None:
                before[rows] = 1
            else:
                before[rows] = run.counts[where[hit]]
                run.counts[where[hit]] += more[rows]
        if not found.all():
            where, _ = self.small.find(unique[~found])
            self.small.insert(where, unique[~found], more[~found])
        if len(self.small.keys) * SMALL_SHARE > self.spilled:
            self._spill()
        return before

    def _spill(self) -> None:
        small = self.small
        for run, part in self._runs(small.keys):
            if run is not small:
                run.take(
                    _Run.of(small.keys[part], None if small.counts is None else small.counts[part])
                )
        self.spilled += len(small.keys)
        self.small = _Run(self.counted)

    def count_of(self, key: int) -> int:
        for run in (self.small, self.large[key >> 60]):
            where = int(np.searchsorted(run.keys, np.uint64(key)))
            if where < len(run.keys) and run.keys[where] == key:
                return 1 if run.counts is None else int(run.counts[where])
        return 0


class Keys:
    """One batch's key hashes, sorted once (in the reading threads, off the main one).

    ``unique`` are the distinct hashes in order, ``counts`` how often each occurs and
    ``first`` the earliest row of each.
    """

    def __init__(self, hashes: np.ndarray) -> None:
        self.hashes = hashes
        order = np.argsort(hashes)
        ordered = hashes[order]
        head = np.ones(len(ordered), bool)
        head[1:] = ordered[1:] != ordered[:-1]
        starts = np.flatnonzero(head)
        self.unique = ordered[starts]
        self.counts = np.diff(np.append(starts, len(ordered)))
        self.first = np.minimum.reduceat(order, starts) if len(order) else order


class SeenKeys:
    """Which keys of a batch were already seen (earlier in the file or the batch)."""

    def __init__(self) -> None:
        self._parts = _Partitions(counted=False)

    def add(self, keys: Keys) -> np.ndarray:
        """True for every occurrence of a hash after its first one in the whole file."""
        before = self._parts.add(keys.unique, keys.counts)
        repeat = np.ones(len(keys.hashes), bool)
        repeat[keys.first[before == 0]] = False
        return repeat


class KeyCounts:
    """Running counts per key; tells at which row of a batch a key passes a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts = _Partitions(counted=True)

    def add(self, keys: Keys) -> list[int]:
        """Rows (of this batch) where a key's count first exceeds ``limit``."""
        before = self._parts.add(keys.unique, keys.counts)
        crossing = np.flatnonzero((before <= self.limit) & (before + keys.counts > self.limit))
        return [
            int(np.flatnonzero(keys.hashes == keys.unique[u])[self.limit - int(before[u])])
            for u in crossing.tolist()
        ]

    def total(self, hashes: np.ndarray) -> np.ndarray:
        """Current counts of the given hashes (0 when never seen)."""
        return np.asarray([self._parts.count_of(int(h)) for h in hashes.tolist()], np.int64)
