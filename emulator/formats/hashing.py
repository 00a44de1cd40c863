"""Compact memory of keys seen in a large file: 64-bit hashes in sorted numpy arrays.

``check`` must notice a repeated order id or a customer with too many orders anywhere in
a 1 GB file without keeping millions of Python strings. Keys are hashed column-wise in
numpy (a position-weighted sum of the bytes, then a 64-bit finaliser) and kept in 256
sorted partitions, so adding a batch touches each partition once and costs about 8 bytes
per distinct key (12 with a count). With 64-bit hashes a false "repeated id" needs a
collision, about one chance in 10^7 for ten million distinct keys.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from emulator.formats.arrowbits import string_buffers

_WEIGHTS = np.random.default_rng(0x5EED).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(
    1
)
_K_LENGTH = np.uint64(0x9E3779B97F4A7C15)
_K_NULL = np.uint64(0xD6E8FEB86659FD93)
_K_COMBINE = np.uint64(0xC2B2AE3D27D4EB4F)
_PARTS = 256


def _mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads every input bit over the whole word."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def hash_strings(values: pa.Array) -> np.ndarray:
    """A 64-bit hash per value of a string array (nulls get one fixed hash)."""
    offsets, data = string_buffers(values)
    lengths = np.diff(offsets)
    base = int(offsets[0])
    total = int(offsets[-1]) - base
    with np.errstate(over="ignore"):
        if total:
            position = np.arange(total, dtype=np.int64) - np.repeat(offsets[:-1] - base, lengths)
            weighted = (data[base : base + total].astype(np.uint64) + np.uint64(1)) * _WEIGHTS[
                position % len(_WEIGHTS)
            ]
            sums = np.concatenate([np.zeros(1, np.uint64), np.cumsum(weighted, dtype=np.uint64)])
            h = sums[offsets[1:] - base] - sums[offsets[:-1] - base]
        else:
            h = np.zeros(len(values), np.uint64)
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


class _Partitions:
    """Sorted unique hashes in 256 partitions by their top byte, with a count each."""

    def __init__(self) -> None:
        self.keys = [np.zeros(0, np.uint64) for _ in range(_PARTS)]
        self.counts = [np.zeros(0, np.uint32) for _ in range(_PARTS)]

    def add(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count ``hashes`` in; per distinct hash of the batch: hash, count before, count added."""
        unique, added = np.unique(hashes, return_counts=True)
        before = np.zeros(len(unique), np.int64)
        part = (unique >> np.uint64(56)).astype(np.int64)
        bounds = np.searchsorted(part, np.arange(_PARTS + 1))
        for p in np.flatnonzero(np.diff(bounds)).tolist():
            lo, hi = bounds[p], bounds[p + 1]
            chunk, keys, counts = unique[lo:hi], self.keys[p], self.counts[p]
            where = np.searchsorted(keys, chunk)
            found = where < len(keys)
            found[found] = keys[where[found]] == chunk[found]
            before[lo:hi][found] = counts[where[found]]
            counts = counts.copy()
            np.add.at(counts, where[found], added[lo:hi][found].astype(np.uint32))
            new = ~found
            if new.any():
                merged = np.concatenate([keys, chunk[new]])
                order = np.argsort(merged, kind="stable")
                self.keys[p] = merged[order]
                self.counts[p] = np.concatenate([counts, added[lo:hi][new].astype(np.uint32)])[
                    order
                ]
            else:
                self.counts[p] = counts
        return unique, before, added

    def __len__(self) -> int:
        return sum(len(k) for k in self.keys)


class SeenKeys:
    """Which keys of a batch were already seen (earlier in the file or the batch)."""

    def __init__(self) -> None:
        self._parts = _Partitions()

    def add(self, hashes: np.ndarray) -> np.ndarray:
        """True for every occurrence of a hash after its first one in the whole file."""
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        unique, before, _ = self._parts.add(hashes)
        first_in_batch = np.ones(len(ordered), bool)
        first_in_batch[1:] = ordered[1:] != ordered[:-1]
        earlier = before[np.searchsorted(unique, ordered)] > 0
        repeat = ~first_in_batch | earlier
        out = np.empty(len(hashes), bool)
        out[order] = repeat
        return out


class KeyCounts:
    """Running counts per key; tells at which row of a batch a key passes a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts = _Partitions()

    def add(self, hashes: np.ndarray) -> list[tuple[int, int]]:
        """Rows (of this batch) where a key's count first exceeds ``limit``, with its hash index."""
        unique, before, added = self._parts.add(hashes)
        crossing = np.flatnonzero((before <= self.limit) & (before + added > self.limit))
        out = []
        for u in crossing.tolist():
            rows = np.flatnonzero(hashes == unique[u])
            out.append((int(rows[self.limit - int(before[u])]), u))
        return out

    def total(self, hashes: np.ndarray) -> np.ndarray:
        """Current counts of the given hashes (0 when never seen)."""
        out = np.zeros(len(hashes), np.int64)
        part = (hashes >> np.uint64(56)).astype(np.int64)
        for i, (h, p) in enumerate(zip(hashes.tolist(), part.tolist(), strict=True)):
            keys = self._parts.keys[p]
            where = int(np.searchsorted(keys, np.uint64(h)))
            if where < len(keys) and keys[where] == h:
                out[i] = int(self._parts.counts[p][where])
        return out
