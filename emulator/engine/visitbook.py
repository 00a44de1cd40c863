"""Every counter's visit table in memory: built from the stored chunks on first use, grown by
each load, swapped in only after the load commits.

Building a table needs only that counter's chunks, under that counter's own lock: other
counters answer meanwhile. ``warm`` builds them all ahead of time (``crmemu serve`` does it in
the background at start).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from emulator.engine.arrays import differs, indices, numbers
from emulator.engine.visits import VISIT_SCHEMA, VisitTable
from emulator.errors import ApiError
from emulator.store import Session, Store

CHUNK_ROWS = 1 << 18
"""Visits per stored chunk."""


class VisitBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._tables: dict[int, VisitTable] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, counter_id: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(counter_id, threading.Lock())

    def table(self, counter_id: int) -> VisitTable:
        table = self._tables.get(counter_id)
        if table is not None:
            return table
        with self._lock(counter_id):
            table = self._tables.get(counter_id)
            if table is None:
                table = VisitTable.from_chunks(self.store.read().visits.load(counter_id))
                self._tables[counter_id] = table
            return table

    def warm(self, counter_ids: Iterable[int]) -> None:
        for counter_id in counter_ids:
            self.table(counter_id)

    def forget(self, counter_id: int | None = None) -> None:
        with self._guard:
            if counter_id is None:
                self._tables.clear()
            else:
                self._tables.pop(counter_id, None)

    def add(self, session: Session, counter_id: int, batches: Iterable[pa.Table]) -> VisitTable:
        """Store the visits not loaded yet (inside the caller's transaction) and return the
        grown table; the caller installs it with :meth:`install` once committed.

        Re-loading an identical visit is a no-op; a visit id sent again with other data, in
        this load or an earlier one, is a conflict (409) and nothing is loaded.
        """
        table = self.table(counter_id)
        fresh = [_fresh(table, batch.cast(VISIT_SCHEMA)) for batch in batches]
        load = _unique(pa.concat_tables(fresh)) if fresh else VISIT_SCHEMA.empty_table()
        if not len(load):
            return table
        seq = session.visits.next_seq(counter_id)
        for start in range(0, len(load), CHUNK_ROWS):
            session.visits.add(counter_id, seq, load.slice(start, CHUNK_ROWS))
            seq += 1
        return table.with_visits(load)

    def install(self, counter_id: int, table: VisitTable) -> None:
        self._tables[counter_id] = table


def _conflict(visit_id: int, earlier: bool) -> ApiError:
    where = (
        "is already loaded with different data" if earlier else "appears twice with different data"
    )
    return ApiError("conflict", f"visit {visit_id} {where}")


def _unique(batch: pa.Table) -> pa.Table:
    """The load without its own repeats (a repeat with other data is a conflict)."""
    ids = numbers(batch.column("visit_id"))
    order = np.argsort(ids, kind="stable")
    repeat = np.zeros(len(ids), bool)
    repeat[order[1:]] = ids[order[1:]] == ids[order[:-1]]
    for row in np.flatnonzero(repeat).tolist():
        first = order[np.searchsorted(ids[order], ids[row])]
        if _row_differs(batch, int(first), batch, row):
            raise _conflict(int(ids[row]), earlier=False)
    return batch.filter(pa.array(~repeat)) if repeat.any() else batch


def _row_differs(a: pa.Table, i: int, b: pa.Table, j: int) -> bool:
    return a.slice(i, 1).to_pylist() != b.slice(j, 1).to_pylist()


def _fresh(table: VisitTable, batch: pa.Table) -> pa.Table:
    """The visits of ``batch`` that ``table`` does not hold; a held id with other data is a
    conflict."""
    ids = numbers(batch.column("visit_id"))
    held = table.has(ids)
    if not held.any():
        return batch
    rows = np.flatnonzero(held)
    stored = table.rows(table.positions(ids[rows]))
    sent = batch.take(indices(rows))
    changed = np.zeros(len(rows), bool)
    for name in VISIT_SCHEMA.names:
        changed |= differs(stored.column(name).combine_chunks(), sent.column(name).combine_chunks())
    if changed.any():
        raise _conflict(int(ids[rows[np.argmax(changed)]]), earlier=True)
    return batch.filter(pa.array(~held))
