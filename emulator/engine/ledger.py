"""What an upload decided, as columns: decisions, goal reaches and offline rows.

A decision is a code plus a few typed parameters (``n1``/``n2`` numbers, ``s1``..``s3``
texts); :mod:`emulator.engine.explain` renders the sentence when someone reads it, so millions
of decisions stay a few compressed chunks. Steps add whole columns at a time; every row carries
its subject's position in the upload, so each subject's history comes out in the order it
happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from emulator.decisions import DecisionCode

ORDER = "order"
CONTACT = "contact"
OFFLINE_ROW = "offline_row"

DECISIONS = pa.schema(
    [
        pa.field("subject_type", pa.string()),
        pa.field("subject_key", pa.string()),
        pa.field("code", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("n1", pa.int64()),
        pa.field("n2", pa.int64()),
        pa.field("s1", pa.string()),
        pa.field("s2", pa.string()),
        pa.field("s3", pa.string()),
    ]
)
REACHES = pa.schema(
    [
        pa.field("reach_id", pa.int64()),
        pa.field("goal_id", pa.int64()),
        pa.field("visit_id", pa.int64()),
        pa.field("subject_type", pa.string()),
        pa.field("subject_key", pa.string()),
        pa.field("revenue", pa.string()),
        pa.field("currency", pa.string()),
    ]
)
PARAMS = ("line", "n1", "n2", "s1", "s2", "s3")

Column = Sequence[Any] | np.ndarray | pa.Array | None


def _column(values: Column, size: int, kind: pa.DataType) -> pa.Array:
    if values is None:
        return pa.nulls(size, kind)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(kind)
    if isinstance(values, np.ndarray):
        return pa.array(values, kind)
    if isinstance(values, str | int):
        return pa.array([values] * size, kind)
    return pa.array(list(values), kind)


@dataclass
class _Rows:
    schema: pa.Schema
    parts: list[pa.Table] = field(default_factory=list)
    order: list[np.ndarray] = field(default_factory=list)

    def add(self, position: np.ndarray, columns: dict[str, Column]) -> None:
        size = len(position)
        if not size:
            return
        arrays = [_column(columns.get(f.name), size, f.type) for f in self.schema]
        self.parts.append(pa.table(arrays, schema=self.schema))
        self.order.append(np.asarray(position, np.int64))

    def table(self) -> pa.Table | None:
        """All rows, grouped by subject position, each subject's rows in the order added."""
        if not self.parts:
            return None
        table = pa.concat_tables(self.parts)
        position = np.concatenate(self.order)
        return table.take(pa.array(np.argsort(position, kind="stable")))

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)


class Log:
    """Decisions and goal reaches of one unit of work, in columns."""

    def __init__(self) -> None:
        self.decisions = _Rows(DECISIONS)
        self.reaches = _Rows(REACHES)

    def decide(
        self,
        subject_type: str,
        keys: Column,
        position: np.ndarray,
        code: DecisionCode,
        **params: Column,
    ) -> None:
        """One decision per subject in ``keys`` (parallel with ``position``)."""
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise TypeError(f"unknown decision parameters {sorted(unknown)}")
        self.decisions.add(
            position,
            {"subject_type": subject_type, "subject_key": keys, "code": code.value, **params},
        )

    def reach(self, position: np.ndarray, **columns: Column) -> None:
        self.reaches.add(position, columns)
