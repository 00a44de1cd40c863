"""Orders and contacts as versions in Arrow chunks, found through an in-memory key index.

Every flush of an upload writes the new state of the records it touched as one chunk (a few
inserts instead of a row per record). A record's current version is the one the counter's
:class:`KeyIndex` points to: sorted 64-bit hashes of the keys with the chunk and row of each
current version, 16 bytes a record. Hashes can collide, so a look-up checks its candidates
against the chunks' stored key columns (stored apart, small to read). The index is rebuilt
from those key columns when a counter is first used after a start, kept in memory, and
replaced as a whole (immutable) after each commit; an upload in progress works on its own
copy, so readers only ever see committed versions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.engine.arrays import bounds, combined, indices
from emulator.engine.tally import Tally
from emulator.formats.hashing import hash_strings
from emulator.store import Session, Store

CACHE_BYTES = 64 << 20
"""Recently used chunks kept decoded, up to this many bytes (a chunk holds one flush of an
upload, from a few rows to a hundred thousand)."""


@dataclass(frozen=True)
class KeyIndex:
    """Current versions by key hash: entry ``i`` is at ``rows[i]`` of chunk ``chunks[i]``;
    entries sorted by ``hashes``.

    Only hashes are held (16 bytes an entry): a hash may be shared by different keys, so a
    look-up yields candidates that :meth:`Records.find` checks against the stored keys.
    """

    hashes: np.ndarray
    chunks: np.ndarray
    rows: np.ndarray

    @classmethod
    def empty(cls) -> KeyIndex:
        none = np.zeros(0, np.int32)
        return cls(np.zeros(0, np.uint64), none, none)

    @classmethod
    def build(cls, versions: Sequence[tuple[int, pa.Array]]) -> KeyIndex:
        """From every chunk's keys, oldest first: the last version of each key wins."""
        if not versions:
            return cls.empty()
        keys = pa.concat_arrays([combined(k) for _, k in versions])
        chunks = np.concatenate([np.full(len(k), seq, np.int32) for seq, k in versions])
        rows = np.concatenate([np.arange(len(k), dtype=np.int32) for _, k in versions])
        hashes = hash_strings(keys)
        order = np.argsort(hashes, kind="stable")
        sorted_hashes = hashes[order]
        equal = sorted_hashes[1:] == sorted_hashes[:-1]
        shared = np.r_[equal, False] | np.r_[False, equal]
        if shared.any():  # versions of one key (or keys sharing a hash): the last one wins
            members = order[shared]
            last = pa.table({"key": keys.take(indices(members)), "at": members})
            latest = np.asarray(last.group_by("key").aggregate([("at", "max")]).column("at_max"))
            order = np.concatenate([order[~shared], latest])
            order = order[np.argsort(hashes[order], kind="stable")]
        return cls(hashes[order], chunks[order], rows[order])

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

    def candidates(self, hashed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every ``(query, entry)`` pair whose hashes are equal."""
        lo, hi = bounds(self.hashes, hashed)
        counts = hi - lo
        query = np.repeat(np.arange(len(hashed)), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        return query, np.repeat(lo, counts) + np.arange(len(query)) - first

    def replaced(self, superseded: np.ndarray, hashed: np.ndarray, seq: int) -> KeyIndex:
        """The index after chunk ``seq`` stored new versions (hashes ``hashed``, in row order)
        of the records whose current entries are ``superseded``."""
        hashes, chunks, rows = self.hashes, self.chunks, self.rows
        if len(superseded):
            hashes, chunks, rows = (np.delete(a, superseded) for a in (hashes, chunks, rows))
        order = np.argsort(hashed, kind="stable")
        fresh = hashed[order]
        at = np.searchsorted(hashes, fresh, "right")
        return KeyIndex(
            np.insert(hashes, at, fresh),
            np.insert(chunks, at, np.full(len(order), seq, np.int32)),
            np.insert(rows, at, order.astype(np.int32)),
        )


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

    @staticmethod
    def _gather(index: KeyIndex, entries: np.ndarray, read: Callable[[int], pa.Table]) -> pa.Table:
        """Rows of the chunks ``read`` returns, at these index entries, in that order."""
        chunks = index.chunks[entries]
        parts, places = [], []
        for seq in np.unique(chunks).tolist():
            mine = np.flatnonzero(chunks == seq)
            parts.append(read(seq).take(indices(index.rows[entries[mine]])))
            places.append(mine)
        table = pa.concat_tables(parts)
        order = np.argsort(np.concatenate(places), kind="stable")
        return table.take(indices(order)).combine_chunks()

    def rows(
        self, session: Session, counter_id: int, index: KeyIndex, entries: np.ndarray
    ) -> pa.Table:
        """The versions at these index entries, in that order."""
        if not len(entries):
            return self.schema.empty_table()
        return self._gather(index, entries, lambda seq: self.chunk(session, counter_id, seq))

    def find(
        self, session: Session, counter_id: int, index: KeyIndex, keys: pa.Array
    ) -> np.ndarray:
        """The index entry of each key, or -1: hash candidates checked against stored keys."""
        keys = combined(keys)
        found = np.full(len(keys), -1, np.int64)
        query, entry = index.candidates(hash_strings(keys))
        if len(entry):
            stored = self._gather(
                index,
                entry,
                lambda seq: session.records.chunk_keys(counter_id, self.kind, seq),
            ).column(0)
            same = np.asarray(pc.equal(stored, keys.take(indices(query))))
            found[query[same]] = entry[same]
        return found

    def load(self, session: Session, counter_id: int, index: KeyIndex, keys: pa.Array) -> pa.Table:
        """The current versions of the records with these keys (unknown keys are absent)."""
        found = self.find(session, counter_id, index, keys)
        return self.rows(session, counter_id, index, found[found >= 0])

    def all(
        self,
        session: Session,
        counter_id: int,
        index: KeyIndex,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Every current version, by key."""
        names = list(columns or self.schema.names)
        wanted = names if self.key in names else [*names, self.key]
        parts = list(self.stream(session, counter_id, index, wanted))
        table = pa.concat_tables(parts) if parts else self.schema.empty_table().select(wanted)
        table = table.sort_by(self.key).select(names)
        return table.combine_chunks()

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
        keys = combined(rows.column(self.key))
        superseded = self.find(session, counter_id, index, keys)
        seq = session.records.add(counter_id, self.kind, rows, self.key)
        return index.replaced(superseded[superseded >= 0], hash_strings(keys), seq)
