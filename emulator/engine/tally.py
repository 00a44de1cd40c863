"""Records per value of one column (orders per customer), kept as sorted 64-bit hashes.

The per-customer order cap needs how many orders each customer of an upload already has. A
:class:`Tally` answers that without holding the customers' keys: 16 bytes per customer, built
once per counter by streaming the stored chunks and then moved along by each upload's changes.
Two customers whose keys share a 64-bit hash would share a count, so a tally only chooses
whom to look at: the cap counts those customers' stored orders exactly (:mod:`.cap`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from emulator.engine.arrays import search


@dataclass(frozen=True)
class Tally:
    hashes: np.ndarray
    """Sorted, distinct."""
    counts: np.ndarray

    @classmethod
    def empty(cls) -> Tally:
        return cls(np.zeros(0, np.uint64), np.zeros(0, np.int64))

    @classmethod
    def of(cls, hashed: Iterable[np.ndarray], sign: int = 1) -> Tally:
        """How often each hash occurs over ``hashed`` (times ``sign``)."""
        parts = [np.unique(h, return_counts=True) for h in hashed if len(h)]
        if not parts:
            return cls.empty()
        return _merged(
            np.concatenate([h for h, _ in parts]), sign * np.concatenate([c for _, c in parts])
        )

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        tallies = [t for t in tallies if len(t)]
        if len(tallies) < 2:
            return tallies[0] if tallies else cls.empty()
        return _merged(
            np.concatenate([t.hashes for t in tallies]),
            np.concatenate([t.counts for t in tallies]),
        )

    def __len__(self) -> int:
        return len(self.hashes)

    def get(self, hashes: np.ndarray) -> np.ndarray:
        """The count of each hash (0 when absent)."""
        if not len(self.hashes):
            return np.zeros(len(hashes), np.int64)
        at = search(self.hashes, hashes)
        inside = at < len(self.hashes)
        hit = np.zeros(len(hashes), bool)
        hit[inside] = self.hashes[at[inside]] == hashes[inside]
        return np.where(hit, self.counts[np.minimum(at, len(self.counts) - 1)], 0)

    def most(self) -> int:
        return int(self.counts.max(initial=0))

    def plus(self, other: Tally) -> Tally:
        return Tally.total([self, other])


def _merged(hashes: np.ndarray, counts: np.ndarray) -> Tally:
    order = np.argsort(hashes, kind="stable")
    hashes, counts = hashes[order], counts[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    summed = np.add.reduceat(counts, starts) if len(starts) else counts
    keep = summed != 0
    return Tally(hashes[starts][keep], summed[keep].astype(np.int64))
