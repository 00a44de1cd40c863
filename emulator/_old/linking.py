"""Which visit an order or an offline conversion belongs to: identity keys and visit indexes.

The rules (project spec §5, §7.1):
- ClientID first: the order links to the latest visit of one of its ClientIDs that started at
  or before the order's creation and at most ``visit_age_limit`` before processing;
- otherwise, with advanced matching on, a phone or e-mail (plain or MD5) identifies a visitor
  through the visits where the counter captured that hash; the order then links to that
  visitor's latest qualifying visit;
- offline conversions: ClientID/UserID → the visitor's latest visit before ``DateTime``; Yclid
  → the visit of that click; PurchaseId → the visit of that purchase.

Visits are kept per counter in :class:`VisitTable`, one sorted index per identity kind, merged
as visits arrive, so linking a batch costs O(batch · log visits). The search itself is the
pure kernel of :mod:`emulator.matching`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from emulator import matching
from emulator.domain import Visit
from emulator.identity import md5_hex

NO_BOUND = np.iinfo(np.int64).min


class IndexKind(StrEnum):
    CLIENT_ID = "client_id"
    MD5 = "md5"
    YCLID = "yclid"
    USER_ID = "user_id"
    PURCHASE_ID = "purchase_id"


def md5_key(hex_digest: str) -> int:
    """The uint64 key of an MD5 (its first 16 hex digits): what the hash index stores."""
    return int(hex_digest[:16], 16)


def text_key(value: str) -> int:
    """The uint64 key of a free-text identifier (UserID, PurchaseId)."""
    return md5_key(md5_hex(value))


@dataclass(frozen=True)
class VisitTable:
    """A counter's visits as sorted arrays plus one :class:`matching.VisitIndex` per kind."""

    visit_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    client_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    start_times: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    indexes: dict[IndexKind, matching.VisitIndex] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.visit_ids)

    def with_visits(self, visits: Sequence[Visit]) -> VisitTable:
        """A new table that also holds ``visits`` (ids not already present).

        The id-sorted columns take the new visits by insertion (one linear copy, no re-sort of
        what is there) and each identity index merges its new keys the same way.
        """
        if not visits:
            return self
        count = len(visits)
        ids = np.fromiter((v.visit_id for v in visits), np.int64, count)
        clients = np.fromiter((v.client_id for v in visits), np.uint64, count)
        starts = np.fromiter((int(v.start_time.timestamp()) for v in visits), np.int64, count)
        order = np.argsort(ids, kind="stable")
        at = np.searchsorted(self.visit_ids, ids[order])
        indexes = dict(self.indexes)
        indexes[IndexKind.CLIENT_ID] = _merge(
            indexes.get(IndexKind.CLIENT_ID), clients, starts, ids
        )
        for kind, (keys, times, rows) in _identity_keys(visits, starts).items():
            indexes[kind] = _merge(
                indexes.get(kind),
                np.array(keys, np.uint64),
                np.array(times, np.int64),
                np.array(rows, np.int64),
            )
        return VisitTable(
            visit_ids=np.insert(self.visit_ids, at, ids[order]),
            client_ids=np.insert(self.client_ids, at, clients[order]),
            start_times=np.insert(self.start_times, at, starts[order]),
            indexes=indexes,
        )

    def positions(self, visit_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.visit_ids, visit_ids)

    def client_of(self, visit_ids: np.ndarray) -> np.ndarray:
        return self.client_ids[self.positions(visit_ids)]

    def start_of(self, visit_ids: np.ndarray) -> np.ndarray:
        return self.start_times[self.positions(visit_ids)]

    def has(self, visit_ids: np.ndarray) -> np.ndarray:
        if not len(self.visit_ids):
            return np.zeros(len(visit_ids), bool)
        pos = np.minimum(self.positions(visit_ids), len(self.visit_ids) - 1)
        return self.visit_ids[pos] == visit_ids

    def index(self, kind: IndexKind) -> matching.VisitIndex | None:
        return self.indexes.get(kind)


def _identity_keys(
    visits: Sequence[Visit], starts: np.ndarray
) -> dict[IndexKind, tuple[list[int], list[int], list[int]]]:
    """Keys other than the ClientID that some visits carry (most carry none)."""
    found: dict[IndexKind, tuple[list[int], list[int], list[int]]] = {}
    for visit, start in zip(visits, starts.tolist(), strict=True):
        if not (
            visit.email_md5 or visit.phone_md5 or visit.yclid or visit.user_id or visit.purchase_id
        ):
            continue
        extra = (
            (IndexKind.MD5, [md5_key(h) for h in (*visit.email_md5, *visit.phone_md5)]),
            (IndexKind.YCLID, [visit.yclid] if visit.yclid else []),
            (IndexKind.USER_ID, [text_key(visit.user_id)] if visit.user_id else []),
            (IndexKind.PURCHASE_ID, [text_key(visit.purchase_id)] if visit.purchase_id else []),
        )
        for kind, values in extra:
            if values:
                keys, times, rows = found.setdefault(kind, ([], [], []))
                keys.extend(values)
                times.extend([start] * len(values))
                rows.extend([visit.visit_id] * len(values))
    return found


def _merge(
    index: matching.VisitIndex | None, keys: np.ndarray, times: np.ndarray, rows: np.ndarray
) -> matching.VisitIndex:
    if index is None:
        return matching.VisitIndex.build(keys, times, rows)
    return index.merged(keys, times, rows)


@dataclass(frozen=True)
class Queries:
    """Flattened look-ups: query ``i`` belongs to subject ``group[i]`` and uses ``key[i]``."""

    group: np.ndarray
    key: np.ndarray
    time: np.ndarray
    not_before: np.ndarray

    @classmethod
    def build(cls, rows: Sequence[tuple[int, int, int, int]]) -> Queries:
        """From ``(group, key, time, not_before)`` tuples."""
        if not rows:
            empty = np.empty(0, np.int64)
            return cls(empty, np.empty(0, np.uint64), empty, empty)
        group, key, time, bound = zip(*rows, strict=True)
        return cls(
            np.array(group, np.int64),
            np.array(key, np.uint64),
            np.array(time, np.int64),
            np.array(bound, np.int64),
        )

    def __len__(self) -> int:
        return len(self.group)


def link_direct(table: VisitTable, kind: IndexKind, queries: Queries) -> dict[int, tuple[int, int]]:
    """Best visit per group among visits carrying the key itself: ``{group: (visit, query)}``."""
    index = table.index(kind)
    if index is None or not len(queries):
        return {}
    groups, visits, winners = matching.link_groups(
        index, queries.group, queries.key, queries.time, queries.not_before
    )
    found = visits >= 0
    return {
        int(g): (int(v), int(w))
        for g, v, w in zip(groups[found], visits[found], winners[found], strict=True)
    }


def link_through_visitor(
    table: VisitTable, kind: IndexKind, queries: Queries
) -> dict[int, tuple[int, int]]:
    """Identify the visitor by a key captured on one of their visits, then link as ClientID.

    The visitor is the one whose latest capture of the key happened at or before the query
    time (no age bound: identification is not linking); the link then follows the ClientID
    rule with the query's own time and bound.
    """
    index = table.index(kind)
    client_index = table.index(IndexKind.CLIENT_ID)
    if index is None or client_index is None or not len(queries):
        return {}
    capture = matching.link_latest(
        index, queries.key, queries.time, np.full(len(queries), NO_BOUND, np.int64)
    )
    known = capture >= 0
    if not known.any():
        return {}
    positions = np.flatnonzero(known)
    visitor = table.client_of(capture[known])
    groups, visits, winners = matching.link_groups(
        client_index,
        queries.group[known],
        visitor,
        queries.time[known],
        queries.not_before[known],
    )
    found = visits >= 0
    return {
        int(g): (int(v), int(positions[w]))
        for g, v, w in zip(groups[found], visits[found], winners[found], strict=True)
    }
