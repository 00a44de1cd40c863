"""The table report re-cut: by time interval (``/stat/v1/data/bytime``) and by segment
(``/stat/v1/data/comparison``), from the same grouped breakdown as the table (:mod:`.reports`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from emulator.engine import periods
from emulator.engine.reportnames import PERIOD, Dimension, Group, metric
from emulator.engine.reports import (
    EPOCH,
    Key,
    Report,
    ReportData,
    Value,
    breakdown,
    key_order,
    report,
    whole,
)
from emulator.engine.segments import Segment


@dataclass(frozen=True)
class ByTime:
    """``/stat/v1/data/bytime`` before JSON: per chosen row, each metric per time interval."""

    report: Report
    """The rows' totals over the whole period (every row, for sorting and ``total_rows``)."""
    group: str
    intervals: list[tuple[date, date]]
    rows: list[tuple[Key, list[list[Value]]]]
    totals: list[list[Value]]


def bytime(
    data: ReportData,
    metrics: Sequence[str],
    dimensions: Sequence[Dimension],
    date1: date,
    date2: date,
    group: str,
    pick: Callable[[Report], Sequence[Key]],
    segment: Segment | None = None,
    currency: str = "RUB",
) -> ByTime:
    """Metrics per time interval of ``group`` (a calendar period or ``all``) for the rows
    ``pick`` chooses from the whole-period table (the API's ``top_keys`` or ``row_ids``). A
    picked key shorter than the dimensions stands for every row it begins (the docs' example
    ``row_ids=[["direct"],["organic","organic.yandex"]]``)."""
    compute = [metric(name, currency) for name in metrics]
    spans = periods.intervals(date1, date2, group)
    timed = [*dimensions] if group == "all" else [*dimensions, Dimension(PERIOD, group=group)]
    groups = breakdown(data, timed, date1, date2, segment)
    position = {} if group == "all" else _positions(spans, group)
    cells: dict[Key, list[Group]] = {}
    for g in groups:
        key = g.key if group == "all" else g.key[:-1]
        row = cells.setdefault(key, [Group(key) for _ in spans])
        row[position[g.key[-1]] if position else 0].absorb(g)
    whole_rows = [(key, whole(row)) for key, row in cells.items()]
    table = Report(
        tuple(dimensions),
        tuple(metrics),
        date1,
        date2,
        [(key, [f(g) for f in compute]) for key, g in whole_rows],
        [f(whole([g for _, g in whole_rows])) for f in compute],
        sum(g.visits for _, g in whole_rows),
        currency,
    )
    by_interval = [whole([row[i] for row in cells.values()]) for i in range(len(spans))]
    chosen = []
    for picked in pick(table):
        prefix = tuple(picked)
        merged = [Group(prefix) for _ in spans]
        for key, row in cells.items():
            if key[: len(prefix)] == prefix:
                for cell, part in zip(merged, row, strict=True):
                    cell.absorb(part)
        chosen.append((prefix, [[f(cell) for cell in merged] for f in compute]))
    return ByTime(table, group, spans, chosen, [[f(g) for g in by_interval] for f in compute])


def _positions(spans: list[tuple[date, date]], group: str) -> dict[str | None, int]:
    """Interval index of each calendar period start (as the period dimension writes it)."""
    firsts = np.array([(start - EPOCH).days for start, _ in spans], np.int64)
    return {
        (EPOCH + timedelta(days=start)).isoformat(): i
        for i, start in enumerate(periods.starts(firsts, group).tolist())
    }


Window = tuple[date, date, Segment | None]
"""A comparison segment: its dates and its filters."""


@dataclass(frozen=True)
class Comparison:
    """``/stat/v1/data/comparison`` before JSON: both segments' tables and their rows side by
    side (a row missing from one segment holds that segment's metrics over nothing)."""

    a: Report
    b: Report
    rows: list[tuple[Key, list[Value], list[Value]]]


def comparison(
    data: ReportData,
    metrics: Sequence[str],
    dimensions: Sequence[Dimension],
    a: Window,
    b: Window,
    currency: str = "RUB",
) -> Comparison:
    first = report(data, metrics, dimensions, *a, currency=currency)
    second = report(data, metrics, dimensions, *b, currency=currency)
    empty = [metric(name, currency)(Group(())) for name in metrics]
    mine, theirs = dict(first.rows), dict(second.rows)
    keys = sorted(mine | theirs, key=key_order)
    rows = [(key, mine.get(key, empty), theirs.get(key, empty)) for key in keys]
    return Comparison(first, second, rows)
