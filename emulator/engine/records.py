"""Orders and contacts as versions in Arrow chunks, found through an in-memory key index.

Every flush of an upload writes the new state of the records it touched as one chunk (a few
inserts instead of a row per record). A record's current version is the one the counter's
:class:`KeyIndex` points to: sorted 64-bit hashes of the keys, the keys themselves (hashes
can collide) and the chunk and row of each current version. The index is rebuilt from the
chunks' key columns when a counter is first used after a start, kept in memory, and replaced
as a whole (immutable) after each commit; an upload in progress works on its own copy, so
readers only ever see committed versions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.engine.arrays import combined, indices
from emulator.engine.tally import Tally
from emulator.formats.hashing import hash_strings
from emulator.store import Session, Store

CACHE_BYTES = 64 << 20
"""Recently used chunks kept decoded, up to this many bytes (a chunk holds one flush of an
upload, from a few rows to a hundred thousand)."""


@dataclass(frozen=True)
class KeyIndex:
    """Current versions by key: entry ``i`` is key ``keys[i]`` at ``rows[i]`` of chunk
    ``chunks[i]``; entries sorted by ``hashes``."""

    hashes: np.ndarray
    keys: pa.Array
    chunks: np.ndarray
    rows: np.ndarray

    @classmethod
    def empty(cls) -> KeyIndex:
        none = np.zeros(0, np.int64)
        return cls(np.zeros(0, np.uint64), pa.array([], pa.string()), none, none)

    @classmethod
    def build(cls, versions: Sequence[tuple[int, pa.Array]]) -> KeyIndex:
        """From every chunk's keys, oldest first: the last version of each key wins."""
        index = cls.empty()
        for seq, keys in versions:
            index = index.replaced(keys, seq)
        return index

    def __len__(self) -> int:
        return len(self.hashes)

    def by_chunk(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(chunk, rows of its current versions)`` for every chunk still holding one."""
        if not len(self.chunks):
            return
        order = np.argsort(self.chunks, kind="stable")
        chunks = self.chunks[order]
        starts = np.flatnonzero(np.r_[True, chunks[1:] != chunks[:-1]])
        for start, stop in zip(starts, [*starts[1:], len(chunks)], strict=True):
            yield int(chunks[start]), np.sort(self.rows[order[start:stop]])

    def find(self, keys: pa.Array) -> np.ndarray:
        """The entry of each key, or -1."""
        keys = combined(keys)
        hashed = hash_strings(keys)
        lo = np.searchsorted(self.hashes, hashed, "left")
        hi = np.searchsorted(self.hashes, hashed, "right")
        found = np.full(len(keys), -1, np.int64)
        single = np.flatnonzero(hi - lo == 1)
        if len(single):
            same = pc.equal(self.keys.take(indices(lo[single])), keys.take(indices(single)))
            hit = single[np.asarray(pc.fill_null(same, False))]
            found[hit] = lo[hit]
        for query in np.flatnonzero(hi - lo > 1).tolist():  # colliding hashes: compare keys
            wanted = keys[query].as_py()
            for entry in range(int(lo[query]), int(hi[query])):
                if self.keys[entry].as_py() == wanted:
                    found[query] = entry
        return found

    def replaced(self, keys: pa.Array, seq: int) -> KeyIndex:
        """The index after chunk ``seq`` stored new versions of ``keys`` (its rows, in order)."""
        keys = combined(keys)
        if not len(keys):
            return self
        old = self.find(keys)
        keep = np.ones(len(self), bool)
        keep[old[old >= 0]] = False
        hashed = hash_strings(keys)
        order = np.argsort(hashed, kind="stable")
        new_hashes = hashed[order]
        base = np.flatnonzero(keep)
        old_hashes = self.hashes[base]
        at = np.searchsorted(old_hashes, new_hashes, "right") + np.arange(len(order))
        total = len(base) + len(order)
        source = np.empty(total, np.int64)
        is_new = np.zeros(total, bool)
        is_new[at] = True
        source[~is_new] = base
        source[is_new] = -1 - order
        take_old = source >= 0
        hashes = np.empty(total, np.uint64)
        hashes[take_old] = self.hashes[source[take_old]]
        hashes[~take_old] = new_hashes
        chunks = np.full(total, seq, np.int64)
        chunks[take_old] = self.chunks[source[take_old]]
        rows = -1 - source
        rows[take_old] = self.rows[source[take_old]]
        all_keys = pa.concat_arrays([self.keys, keys])
        key_source = np.where(take_old, source, len(self) + (-1 - source))
        return KeyIndex(hashes, all_keys.take(indices(key_source)), chunks, rows)


class Records:
    """The orders or the contacts of every counter: versions in chunks, indexes in memory."""

    def __init__(
        self, store: Store, kind: str, schema: pa.Schema, key: str, counted: str | None = None
    ) -> None:
        self.store = store
        self.kind = kind
        self.schema = schema
        self.key = key
        self.counted = counted
        """A column whose values' records are tallied (orders per customer)."""
        self._indexes: dict[int, KeyIndex] = {}
        self._tallies: dict[int, Tally] = {}
        self._chunks: OrderedDict[tuple[int, int], pa.Table] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def index(self, counter_id: int) -> KeyIndex:
        """The committed index of a counter (built from its chunks on first use)."""
        index = self._indexes.get(counter_id)
        if index is None:
            versions = self.store.read().records.keys(counter_id, self.kind)
            index = KeyIndex.build(versions)
            self._indexes[counter_id] = index
        return index

    def install(self, counter_id: int, index: KeyIndex, moved: Tally | None = None) -> None:
        """Readers now see ``index``; ``moved`` is what the upload changed in the tally."""
        self._indexes[counter_id] = index
        with self._lock:
            tally = self._tallies.get(counter_id)
            if tally is not None and moved is not None:
                self._tallies[counter_id] = tally.plus(moved)

    def tally(self, session: Session, counter_id: int) -> Tally:
        """Committed records per value of the counted column (built once, by chunks)."""
        with self._lock:
            found = self._tallies.get(counter_id)
        if found is not None:
            return found
        assert self.counted is not None
        index = self.index(counter_id)
        tally = Tally.of(
            hash_strings(combined(part.column(self.counted)))
            for part in self.stream(session, counter_id, index, [self.counted])
        )
        with self._lock:
            self._tallies[counter_id] = tally
        return tally

    def forget(self, counter_id: int | None = None) -> None:
        with self._lock:
            if counter_id is None:
                self._indexes.clear()
                self._tallies.clear()
                self._chunks.clear()
                self._cached_bytes = 0
            else:
                self._indexes.pop(counter_id, None)
                self._tallies.pop(counter_id, None)
                for cached in [k for k in self._chunks if k[0] == counter_id]:
                    self._cached_bytes -= self._chunks.pop(cached).nbytes

    def chunk(self, session: Session, counter_id: int, seq: int) -> pa.Table:
        with self._lock:
            found = self._chunks.get((counter_id, seq))
            if found is not None:
                self._chunks.move_to_end((counter_id, seq))
                return found
        table = session.records.chunk(counter_id, self.kind, seq)
        if not self.store.db.writing:  # inside a write it may be uncommitted: never shared
            self._cache(counter_id, seq, table)
        return table

    def _cache(self, counter_id: int, seq: int, table: pa.Table) -> None:
        with self._lock:
            self._chunks[(counter_id, seq)] = table
            self._cached_bytes += table.nbytes
            while self._cached_bytes > CACHE_BYTES and len(self._chunks) > 1:
                _, dropped = self._chunks.popitem(last=False)
                self._cached_bytes -= dropped.nbytes

    def rows(
        self, session: Session, counter_id: int, index: KeyIndex, entries: np.ndarray
    ) -> pa.Table:
        """The versions at these index entries, in that order."""
        if not len(entries):
            return self.schema.empty_table()
        chunks = index.chunks[entries]
        parts, places = [], []
        for seq in np.unique(chunks).tolist():
            mine = np.flatnonzero(chunks == seq)
            table = self.chunk(session, counter_id, seq)
            parts.append(table.take(indices(index.rows[entries[mine]])))
            places.append(mine)
        table = pa.concat_tables(parts)
        order = np.argsort(np.concatenate(places), kind="stable")
        return table.take(indices(order)).combine_chunks()

    def load(self, session: Session, counter_id: int, index: KeyIndex, keys: pa.Array) -> pa.Table:
        """The current versions of the records with these keys (unknown keys are absent)."""
        found = index.find(combined(keys))
        return self.rows(session, counter_id, index, found[found >= 0])

    def all(
        self,
        session: Session,
        counter_id: int,
        index: KeyIndex,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Every current version, by key."""
        order = np.asarray(pc.sort_indices(index.keys)) if len(index) else np.zeros(0, np.int64)
        table = self.rows(session, counter_id, index, order)
        return table.select(list(columns)) if columns else table

    def stream(
        self, session: Session, counter_id: int, index: KeyIndex, columns: Sequence[str]
    ) -> Iterator[pa.Table]:
        """Every current version, a chunk at a time (memory bounded by a chunk)."""
        for seq, rows in index.by_chunk():
            table = session.records.chunk(counter_id, self.kind, seq).select(list(columns))
            yield table.take(indices(rows))

    def write(self, session: Session, counter_id: int, index: KeyIndex, rows: pa.Table) -> KeyIndex:
        """Store new versions (one chunk) and return the index that points to them."""
        if not len(rows):
            return index
        rows = rows.select(self.schema.names).cast(self.schema).combine_chunks()
        seq = session.records.add(counter_id, self.kind, rows, self.key)
        return index.replaced(rows.column(self.key), seq)
