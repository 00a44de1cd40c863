"""Records being applied: one row per key of an upload, in columns, changed round by round.

Rows of one upload that share a key are applied one after another (spec §2.7). The engine
applies them in *rounds*: round ``r`` applies the ``r``-th row of every key that has one, so
each round touches a key at most once and is a handful of column operations. Most uploads
have one row per key and need one round.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.decisions import DecisionCode
from emulator.domain import MergeMode, UploadKind
from emulator.engine.arrays import (
    combined,
    differs,
    group_codes,
    indices,
    merge_lists,
    numbers,
    scatter,
    take,
    union_by_name,
    union_items,
)
from emulator.engine.columns import FIELD_NAMES, to_records
from emulator.engine.ledger import Log
from emulator.rules import DuplicateIdOrder, RuleSet

MAPPING_FIELDS = frozenset({"products", "attribute_values"})
MONEY_FIELDS = frozenset({"revenue", "cost"})
KEY_FIELDS = frozenset({"id", "uniq_id", "create_date_time"})


@dataclass
class KeyedRows:
    """An upload's rows grouped by key: ``codes[i]`` is row ``i``'s key (by first appearance)."""

    keys: pa.Array
    codes: np.ndarray
    counts: np.ndarray
    sequence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Row indices in application order, grouped by key in key order."""
    rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Per row of ``sequence``: its place among its key's rows (its round)."""

    @classmethod
    def group(cls, keys: pa.Array) -> KeyedRows:
        codes, unique = group_codes(keys)
        counts = np.bincount(codes, minlength=len(unique))
        return cls(unique, codes, counts)

    def __len__(self) -> int:
        return len(self.keys)

    def order(
        self,
        rules: RuleSet,
        batch: pa.Table,
        kind: UploadKind,
        tz: Any,
        log: Log,
        subject_type: str,
    ) -> None:
        """Fix the application order and log ``DUPLICATE_ID_IN_UPLOAD`` for repeated keys.

        The shuffle is seeded by the rule's seed and the rows themselves, so re-sending the
        very same upload applies them in the very same order and changes nothing.
        """
        sequence = np.argsort(self.codes, kind="stable")
        repeated = np.flatnonzero(self.counts > 1)
        starts = np.concatenate(([0], np.cumsum(self.counts)))
        if len(repeated) and rules.duplicate_id_order is DuplicateIdOrder.SEEDED_RANDOM:
            rows = np.concatenate([sequence[starts[k] : starts[k + 1]] for k in repeated])
            records = dict(
                zip(rows.tolist(), to_records(kind, take_rows(batch, rows), tz), strict=True)
            )
            for k in repeated:
                group = sequence[starts[k] : starts[k + 1]].tolist()
                content = "\x1f".join(repr(records[r]) for r in group)
                random.Random(f"{rules.duplicate_id_seed}:{content}").shuffle(group)
                sequence[starts[k] : starts[k + 1]] = group
        self.sequence = sequence
        self.rank = np.arange(len(sequence)) - starts[self.codes[sequence]]
        if len(repeated):
            self._log_duplicates(rules, batch, log, subject_type, repeated, starts)

    def _log_duplicates(
        self,
        rules: RuleSet,
        batch: pa.Table,
        log: Log,
        subject_type: str,
        repeated: np.ndarray,
        starts: np.ndarray,
    ) -> None:
        lines = np.asarray(batch.column("line"))
        rows = np.concatenate([self.sequence[starts[k] : starts[k + 1]] for k in repeated])
        codes = self.codes[rows]
        every = {
            int(k): json.dumps(sorted(lines[self.sequence[starts[k] : starts[k + 1]]].tolist()))
            for k in repeated
        }
        log.decide(
            subject_type,
            take(self.keys, codes),
            codes,
            DecisionCode.DUPLICATE_ID_IN_UPLOAD,
            line=lines[rows],
            n1=_positions(self.sequence, rows, starts, codes),
            s1=[every[int(k)] for k in codes],
            s2=rules.duplicate_id_order.value,
        )

    def round(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows applied in round ``r`` and their key codes."""
        rows = self.sequence[self.rank == r]
        return rows, self.codes[rows]


def _positions(
    sequence: np.ndarray, rows: np.ndarray, starts: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    """1-based place of each of ``rows`` in its key's application order."""
    where = np.empty(len(sequence), np.int64)
    where[sequence] = np.arange(len(sequence))
    return where[rows] - starts[codes] + 1


def take_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    return table.take(indices(rows))


@dataclass
class State:
    """The stored or growing record of every key of an upload, as columns."""

    columns: dict[str, pa.Array]
    exists: np.ndarray
    applied: np.ndarray
    held: np.ndarray
    """Keys a row reached without changing them by rule (e.g. update window expired)."""

    @classmethod
    def load(cls, schema: pa.Schema, keys: pa.Array, key_name: str, stored: pa.Table) -> State:
        """State for ``keys``: the stored row where there is one, nulls elsewhere."""
        n = len(keys)
        slot = pc.index_in(combined(keys), value_set=combined(stored.column(key_name)))
        where = numbers(slot, -1).astype(np.int64)
        exists = where >= 0
        columns = {}
        for f in schema:
            column = pa.nulls(n, f.type)
            if exists.any():
                column = scatter(
                    column, np.flatnonzero(exists), take(stored.column(f.name), where[exists])
                )
            columns[f.name] = column
        columns[key_name] = combined(keys)
        return cls(columns, exists, np.zeros(n, bool), np.zeros(n, bool))

    def get(self, name: str, keys: np.ndarray) -> pa.Array:
        return take(self.columns[name], keys)

    def set(self, name: str, keys: np.ndarray, values: pa.Array | Any) -> None:
        if not len(keys):
            return
        column = self.columns[name]
        if not isinstance(values, pa.Array | pa.ChunkedArray):
            values = pa.array([values] * len(keys), column.type)
        self.columns[name] = scatter(column, keys, values)

    def table(self, schema: pa.Schema, keys: np.ndarray) -> pa.Table:
        return pa.table([self.get(f.name, keys) for f in schema], schema=schema)


def merge_field(name: str, before: pa.Array, sent: pa.Array, mode: MergeMode) -> pa.Array:
    """The stored value after ``sent`` is applied under ``mode`` (the table of
    https://yandex.ru/dev/metrika/en/data-import/modes; "absent" is null)."""
    if mode is MergeMode.SAVE:
        return combined(sent)
    if mode is MergeMode.APPEND and pa.types.is_list(before.type):
        return merge_lists(before, sent, union_by_name if name in MAPPING_FIELDS else union_items)
    return pc.coalesce(combined(sent), combined(before))


def merge_records(
    kind: UploadKind,
    before: Callable[[str], pa.Array],
    sent: Callable[[str], pa.Array],
    mode: MergeMode,
) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Merged fields of ``kind`` (keys and the creation date excluded) and, per row, a bit
    mask of the fields that changed (bit ``i`` = ``FIELD_NAMES[kind][i]``)."""
    merged: dict[str, pa.Array] = {}
    changed: np.ndarray | None = None
    for bit, name in enumerate(FIELD_NAMES[kind]):
        if name in KEY_FIELDS:
            continue
        old = before(name)
        new = merge_field(name, old, sent(name), mode)
        merged[name] = new
        flags = differs(old, new, money=name in MONEY_FIELDS).astype(np.int64) << bit
        changed = flags if changed is None else changed | flags
    assert changed is not None
    return merged, changed
