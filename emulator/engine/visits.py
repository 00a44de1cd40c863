"""A counter's visits in memory: columns sorted by visit id, plus one link index per key kind.

Built from the stored chunks (:class:`emulator.store.chunks.VisitChunks`) in a few array
operations, so a restarted server answers its first upload without decoding a document per
visit, and grown by merging each new load. Tables are immutable: a load makes a new one and
swaps it in, so readers of the old one are never disturbed.

Index kinds (spec §5.1, §7.1): ClientIDs; e-mail and phone MD5s captured by advanced
matching (the first 8 bytes of the MD5); Direct click ids (yclid); UserIDs and e-commerce
PurchaseIds (the first 8 bytes of their MD5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator import matching
from emulator.dates import from_ts
from emulator.domain import Visit
from emulator.engine.arrays import search
from emulator.engine.attribution import Attribution, attributed
from emulator.engine.keys import hex_keys, text_keys
from emulator.matching.sorting import by_key

VISIT_SCHEMA = pa.schema(
    [
        pa.field("visit_id", pa.int64()),
        pa.field("client_id", pa.uint64()),
        pa.field("start_time", pa.int64()),
        pa.field("duration", pa.int64()),
        pa.field("traffic_source", pa.string()),
        pa.field("source_detail", pa.string()),
        pa.field("utm_source", pa.string()),
        pa.field("utm_medium", pa.string()),
        pa.field("utm_campaign", pa.string()),
        pa.field("utm_term", pa.string()),
        pa.field("utm_content", pa.string()),
        pa.field("yclid", pa.uint64()),
        pa.field("user_id", pa.string()),
        pa.field("purchase_id", pa.string()),
        pa.field("device", pa.string()),
        pa.field("region", pa.string()),
        pa.field("email_md5", pa.list_(pa.string())),
        pa.field("phone_md5", pa.list_(pa.string())),
    ]
)
"""A visit as stored and indexed; ``start_time`` in Unix seconds. Field names are
:class:`~emulator.domain.Visit`'s."""


class IndexKind(StrEnum):
    CLIENT_ID = "client_id"
    MD5 = "md5"
    YCLID = "yclid"
    USER_ID = "user_id"
    PURCHASE_ID = "purchase_id"
    ECOMMERCE = "ecommerce"
    """ClientIDs of visits with an e-commerce purchase (the e-commerce preference, §5.2)."""


def _numpy(column: pa.ChunkedArray | pa.Array, dtype: type) -> np.ndarray:
    """A numeric column as numpy, nulls as 0 (a view of the column's buffer when it can be)."""
    if isinstance(column, pa.ChunkedArray) and column.num_chunks == 1:
        column = column.chunk(0)
    if isinstance(column, pa.Array) and not column.null_count:
        return column.to_numpy().astype(dtype, copy=False)
    return np.asarray(pc.fill_null(column, 0).to_numpy(), dtype=dtype)


def _exploded(lists: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Row of every list item, and the items."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    return np.asarray(pc.list_parent_indices(lists), np.int64), pc.list_flatten(lists)


def identity_columns(
    table: pa.Table,
) -> dict[IndexKind, tuple[np.ndarray, np.ndarray]]:
    """``(row, key)`` pairs per key kind other than the ClientID (most visits carry none)."""
    found: dict[IndexKind, tuple[np.ndarray, np.ndarray]] = {}
    md5_rows, md5_keys = [], []
    for name in ("email_md5", "phone_md5"):
        rows, items = _exploded(table.column(name))
        md5_rows.append(rows)
        md5_keys.append(hex_keys(items))
    found[IndexKind.MD5] = (np.concatenate(md5_rows), np.concatenate(md5_keys))
    yclid = table.column("yclid")
    sent = np.flatnonzero(np.asarray(yclid.is_valid()))
    found[IndexKind.YCLID] = (sent, _numpy(yclid, np.uint64)[sent])
    for kind, name in ((IndexKind.USER_ID, "user_id"), (IndexKind.PURCHASE_ID, "purchase_id")):
        column = table.column(name)
        sent = np.flatnonzero(np.asarray(column.is_valid()))
        values = column.take(pa.array(sent)) if len(sent) else pa.array([], pa.string())
        found[kind] = (sent, text_keys(values))
        if kind is IndexKind.PURCHASE_ID:
            clients = _numpy(table.column("client_id"), np.uint64)
            found[IndexKind.ECOMMERCE] = (sent, clients[sent])
    return {kind: pair for kind, pair in found.items() if len(pair[0])}


def _merge(
    index: matching.VisitIndex | None, keys: np.ndarray, times: np.ndarray, rows: np.ndarray
) -> matching.VisitIndex:
    if index is None:
        return matching.VisitIndex.build(keys, times, rows)
    return index.merged(keys, times, rows)


@dataclass(frozen=True)
class VisitTable:
    """A counter's visits (``table`` sorted by visit id) and their link indexes."""

    table: pa.Table = field(default_factory=VISIT_SCHEMA.empty_table)
    indexes: dict[IndexKind, matching.VisitIndex] = field(default_factory=dict)
    memo: dict[tuple, object] = field(default_factory=dict, compare=False, repr=False)
    """What reports derive from the visits (attribution, local days, dictionary codes), kept
    as long as the table: a table never changes."""

    @cached_property
    def visit_ids(self) -> np.ndarray:
        return _numpy(self.table.column("visit_id"), np.int64)

    @cached_property
    def client_ids(self) -> np.ndarray:
        return _numpy(self.table.column("client_id"), np.uint64)

    @cached_property
    def start_times(self) -> np.ndarray:
        return _numpy(self.table.column("start_time"), np.int64)

    def __len__(self) -> int:
        return len(self.table)

    def with_visits(self, visits: pa.Table) -> VisitTable:
        """A new table that also holds ``visits`` (ids not already present, any order)."""
        if not len(visits):
            return self
        visits = visits.select(VISIT_SCHEMA.names).cast(VISIT_SCHEMA)
        new_ids = _numpy(visits.column("visit_id"), np.int64)
        starts = _numpy(visits.column("start_time"), np.int64)
        indexes = dict(self.indexes)
        indexes[IndexKind.CLIENT_ID] = _merge(
            indexes.get(IndexKind.CLIENT_ID),
            _numpy(visits.column("client_id"), np.uint64),
            starts,
            new_ids,
        )
        for kind, (rows, keys) in identity_columns(visits).items():
            indexes[kind] = _merge(indexes.get(kind), keys, starts[rows], new_ids[rows])
        merged = pa.concat_tables([self.table, visits]) if len(self.table) else visits
        ids = np.concatenate([self.visit_ids, new_ids])
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
            merged = merged.take(pa.array(by_key(ids.view(np.uint64))[0]))
        return VisitTable(merged.combine_chunks(), indexes)

    @classmethod
    def from_chunks(cls, chunks: Sequence[pa.Table]) -> VisitTable:
        if not chunks:
            return cls()
        return cls().with_visits(pa.concat_tables(chunks))

    def positions(self, visit_ids: np.ndarray) -> np.ndarray:
        return search(self.visit_ids, visit_ids)

    def client_of(self, visit_ids: np.ndarray) -> np.ndarray:
        return self.client_ids[self.positions(visit_ids)]

    def start_of(self, visit_ids: np.ndarray) -> np.ndarray:
        return self.start_times[self.positions(np.asarray(visit_ids, np.int64))]

    def has(self, visit_ids: np.ndarray) -> np.ndarray:
        ids = self.visit_ids
        if not len(ids):
            return np.zeros(len(visit_ids), bool)
        pos = np.minimum(search(ids, visit_ids), len(ids) - 1)
        return ids[pos] == visit_ids

    def index(self, kind: IndexKind) -> matching.VisitIndex | None:
        return self.indexes.get(kind)

    def _memo(self, key: tuple, make: Callable[[], object]) -> Any:
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def visitor_order(self) -> np.ndarray:
        """Rows in (visitor, start, visit id) order: the ClientID index's own order."""
        index = self.index(IndexKind.CLIENT_ID)
        if index is None:
            return np.zeros(0, np.int64)

        def make() -> np.ndarray:
            # The index holds every visit id once: its visitor order, ranked among the ids.
            order = by_key(index.rows.view(np.uint64))[0]
            positions = np.empty(len(order), np.int64)
            positions[order] = np.arange(len(order))
            return positions

        return self._memo(("order",), make)

    def attributed(self, model: Attribution) -> np.ndarray:
        """Per row, the row of the visit its attribution ``model`` credits."""
        return self._memo(
            ("attributed", model), lambda: attributed(self.table, model, self.visitor_order())
        )

    def days(self, tz: str) -> np.ndarray:
        """Per row, the visit's local start date in ``tz`` (days since 1970-01-01)."""
        return self._memo(("days", tz), lambda: local_days(self.start_times, tz))

    def coded(self, column: str) -> tuple[np.ndarray, list[str | None]]:
        """Dictionary codes of a text column (-1 for null) and the values they stand for."""

        def make() -> tuple[np.ndarray, list[str | None]]:
            encoded = pc.dictionary_encode(self.table.column(column).combine_chunks())
            codes = np.asarray(encoded.indices.fill_null(-1), np.int64)
            return codes, encoded.dictionary.to_pylist()

        return self._memo(("coded", column), make)

    def rows(self, positions: np.ndarray) -> pa.Table:
        return self.table.take(pa.array(np.asarray(positions, np.int64)))


def visits_of(table: pa.Table) -> list[Visit]:
    """Visit records of stored rows (the control API's and the inspector's view)."""
    out = []
    for row in table.to_pylist():
        row["start_time"] = from_ts(row["start_time"])
        row["email_md5"] = tuple(row["email_md5"] or ())
        row["phone_md5"] = tuple(row["phone_md5"] or ())
        out.append(Visit(**row))
    return out


def local_days(seconds: np.ndarray, tz: str) -> np.ndarray:
    """Days since 1970-01-01 of each instant's local date in ``tz``."""
    stamps = pa.array(seconds, pa.timestamp("s", tz=tz))
    return np.asarray(pc.local_timestamp(stamps).cast(pa.date32()).cast(pa.int32()), np.int64)
