"""Dimensions as small integers: what groups a report and what its filters test.

An item of a report (a visit, a linked order, a goal reach) sits on a visit (a row of the visit
table) and has a local day. Each dimension turns ``(rows, days)`` into one small integer per
item — a dictionary code of the column of the visit the attribution model credits, or a day
number — and the dimensions of a breakdown into one mixed-radix ``int64``, so grouping millions
of visits is one ``np.unique`` and a filter is a table lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from emulator.engine.attribution import DEFAULT_MODEL
from emulator.engine.engines import engine_id
from emulator.engine.periods import EPOCH, starts
from emulator.engine.reportnames import DATE, DIMENSIONS, PERIOD, Dimension
from emulator.engine.visits import VisitTable

DAY_RADIX = 1 << 17
"""Room for a date dimension's values: days since 1970 up to year 2328."""


@dataclass(frozen=True)
class Coded:
    """One dimension over a visit table: a part per item and the value each part stands for."""

    radix: int
    codes: np.ndarray | None = None
    """Per visit row, the code of its value (-1 when undefined); ``None`` for day dimensions."""
    credited: np.ndarray | None = None
    """Per visit row, the row whose value counts (the attribution model's choice)."""
    values: Sequence[str | None] = ()
    period: str = "day"

    def part(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        if self.codes is None:
            return starts(days, self.period)
        assert self.credited is not None
        part = self.codes[self.credited[rows]]
        return np.where(part < 0, len(self.values), part)

    def value(self, part: int) -> str | None:
        if self.codes is None:
            return (EPOCH + timedelta(days=int(part))).isoformat()
        return self.values[part] if part < len(self.values) else None


def coded(visits: VisitTable, dimension: Dimension) -> Coded:
    if dimension.name == DATE:
        return Coded(DAY_RADIX)
    if dimension.name == PERIOD:
        return Coded(DAY_RADIX, period=dimension.group or "week")
    credited = visits.attributed(dimension.attribution or DEFAULT_MODEL)
    if dimension.name == "SourceEngine":
        codes, values = _engine_codes(visits)
    else:
        codes, values = visits.coded(DIMENSIONS[dimension.name])
    return Coded(len(values) + 1, codes, credited, values)


def _engine_codes(visits: VisitTable) -> tuple[np.ndarray, list[str | None]]:
    """Codes of each visit's ``SourceEngine`` id: the id is computed once per distinct
    (traffic source, detail) pair present, then looked up for every visit."""

    def make() -> tuple[np.ndarray, list[str | None]]:
        sources, source_values = visits.coded("traffic_source")
        details, detail_values = visits.coded("source_detail")
        width = len(detail_values) + 1
        pairs = np.where(sources < 0, len(source_values), sources) * width + np.where(
            details < 0, len(detail_values), details
        )
        size = (len(source_values) + 1) * width
        present = np.flatnonzero(np.bincount(pairs, minlength=size))
        ids: dict[int, str | None] = {}
        for pair in present.tolist():
            source, detail = divmod(pair, width)
            ids[pair] = engine_id(
                source_values[source] if source < len(source_values) else None,
                detail_values[detail] if detail < len(detail_values) else None,
            )
        values: list[str | None] = sorted({i for i in ids.values() if i is not None})
        index = {v: i for i, v in enumerate(values)}
        table = np.full(size, -1, np.int64)
        for pair, found in ids.items():
            table[pair] = -1 if found is None else index[found]
        return table[pairs], values

    return visits._memo(("engine",), make)


class Keys:
    """Group codes of items: each dimension's part, mixed into one ``int64``."""

    def __init__(self, visits: VisitTable, dimensions: Sequence[Dimension]) -> None:
        self.parts = [coded(visits, d) for d in dimensions]

    def codes(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        code = np.zeros(len(rows), np.int64)
        for part in self.parts:
            code = code * part.radix + part.part(rows, days)
        return code

    def key(self, code: int) -> tuple[str | None, ...]:
        out: list[str | None] = []
        for part in reversed(self.parts):
            code, value = divmod(code, part.radix)
            out.append(part.value(value))
        return tuple(reversed(out))
