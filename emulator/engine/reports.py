""" "Order sources from CRM", goal reports and Reporting API tables, as grouped array operations.

Only linked orders count in the order metrics (https://yandex.com/dev/metrika/ru/stat/metrics/
visits/cdp_orders.md: "orders that could be linked to visits"); the latest accepted state of
each order decides its status and amounts; SPAM orders leave the order metrics (ES seed FAQ).
Unlinked orders appear only in "users and customers" (:mod:`.reads`).

Visits count by their start date, linked orders by their creation date, goal reaches by the
date of the visit they were reached on; each is credited to the visit its attribution model
picks (:mod:`.attribution`), and kept or dropped by the query's ``filters``
(:mod:`.segments`). Money is summed exactly (Arrow decimals), per order currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.engine import periods
from emulator.engine.arrays import indices, numbers, present
from emulator.engine.attribution import Attribution
from emulator.engine.reportkeys import Keys
from emulator.engine.reportnames import (
    DATE,
    DIMENSIONS,
    MAX_DIMENSIONS,
    MAX_METRICS,
    STATUS_TYPES,
    Dimension,
    Group,
    Money,
    metric,
    order_metrics,
    parse_dimension,
    resolve_date,
)
from emulator.engine.segments import Segment
from emulator.engine.visits import VisitTable, local_days

EPOCH = periods.EPOCH
Value = int | float | None
Key = tuple[str | None, ...]


@dataclass(frozen=True)
class ReportData:
    """What a report reads: the visits, the orders and the goal reaches of one counter."""

    visits: VisitTable
    orders: pa.Table
    """``create_date_time``, ``status_type``, ``revenue``, ``cost``, ``currency``,
    ``linked_visit_id``."""
    reaches: pa.Table
    """``goal_id``, ``visit_id``, ``revenue``."""
    tz: str
    currency: str = "RUB"
    """The currency of orders that name none (rule ``default_currency``)."""


def key_order(key: Key) -> list[tuple[bool, str]]:
    """Rows in order of their dimension values, undefined values last."""
    return [(v is None, v or "") for v in key]


def decimals(texts: pa.Array) -> pa.Array:
    """Decimal text as exact Arrow decimals (scale: the most fractional digits present)."""
    texts = pc.fill_null(texts, "0") if len(texts) else pa.array([], pa.string())
    dot = pc.find_substring(texts, ".")
    fraction = pc.if_else(
        pc.less(dot, 0), 0, pc.subtract(pc.subtract(pc.utf8_length(texts), dot), 1)
    )
    scale = int(pc.max(fraction).as_py() or 0) if len(texts) else 0
    return texts.cast(pa.decimal128(30, min(scale, 18)))


def _wide(values: pa.Array) -> pa.Array:
    """Room for sums: 38 digits with the same scale."""
    return values.cast(pa.decimal128(38, values.type.scale))


class _Breakdown:
    """One pass over visits, orders and reaches: items in range and in the segment, grouped."""

    def __init__(
        self,
        data: ReportData,
        dimensions: Sequence[Dimension],
        date1: date | None,
        date2: date | None,
        segment: Segment | None,
    ) -> None:
        self.data = data
        self.keys = Keys(data.visits, dimensions)
        self.first = (date1 - EPOCH).days if date1 else None
        self.last = (date2 - EPOCH).days if date2 else None
        self.segment = segment
        self.groups: dict[int, Group] = {}
        self.starts_days = data.visits.days(data.tz)

    def chosen(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Positions of the items (on visit ``rows``, on ``days``) in range and in the segment."""
        ok = rows >= 0
        if self.first is not None:
            ok &= days >= self.first
        if self.last is not None:
            ok &= days <= self.last
        picked = np.flatnonzero(ok)
        if self.segment is not None and len(picked):
            picked = picked[self.segment.mask(self.data.visits, rows[picked], days[picked])]
        return picked

    def rows_of(self, visit_ids: pa.Array) -> np.ndarray:
        visits = self.data.visits
        found = numbers(visit_ids)
        known = present(visit_ids) & visits.has(found)
        return np.where(known, visits.positions(found), -1)

    def group(self, code: int) -> Group:
        if code not in self.groups:
            self.groups[code] = Group(self.keys.key(code))
        return self.groups[code]

    def run(self) -> list[Group]:
        days = self.starts_days
        ok = self.chosen(np.arange(len(days)), days)
        unique, counts = np.unique(self.keys.codes(ok, days[ok]), return_counts=True)
        for code, count in zip(unique.tolist(), counts.tolist(), strict=True):
            self.group(code).visits += count
        self._orders()
        self._reaches()
        return sorted(self.groups.values(), key=lambda g: key_order(g.key))

    def _orders(self) -> None:
        orders = self.data.orders
        rows = self.rows_of(orders.column("linked_visit_id"))
        days = local_days(numbers(orders.column("create_date_time")), self.data.tz)
        ok = self.chosen(rows, days)
        if not len(ok):
            return
        chosen = orders.take(indices(ok))
        status = pc.fill_null(chosen.column("status_type"), "")
        paid = pc.and_(pc.equal(status, "PAID"), pc.is_valid(chosen.column("revenue")))
        revenue = decimals(pc.if_else(paid, chosen.column("revenue"), "0"))
        cost = decimals(pc.if_else(paid, pc.fill_null(chosen.column("cost"), "0"), "0"))
        table = pa.table(
            {
                "code": pa.array(self.keys.codes(rows[ok], days[ok]), pa.int64()),
                "currency": pc.fill_null(chosen.column("currency"), self.data.currency),
                "revenue": _wide(revenue),
                "profit": _wide(pc.subtract(revenue, cost)),
            }
            | {t: pc.cast(pc.equal(status, t), pa.int64()) for t in STATUS_TYPES}
        )
        sums = [*STATUS_TYPES, "revenue", "profit"]
        summed = table.group_by(["code", "currency"], use_threads=False).aggregate(
            [(s, "sum") for s in sums]
        )
        for row in summed.to_pylist():
            g = self.group(row["code"])
            for t in STATUS_TYPES:
                if row[f"{t}_sum"]:
                    g.orders[t] = g.orders.get(t, 0) + row[f"{t}_sum"]
            money = Money(row["revenue_sum"], row["profit_sum"], row["PAID_sum"])
            g.money.setdefault(row["currency"], Money()).add(money)

    def _reaches(self) -> None:
        reaches = self.data.reaches
        rows = self.rows_of(reaches.column("visit_id"))
        if not len(self.starts_days):
            return
        days = self.starts_days[np.maximum(rows, 0)]
        ok = self.chosen(rows, days)
        if not len(ok):
            return
        chosen = reaches.take(indices(ok))
        table = pa.table(
            {
                "code": pa.array(self.keys.codes(rows[ok], days[ok])),
                "goal": chosen.column("goal_id").combine_chunks(),
                "n": pa.array(np.ones(len(ok), np.int64)),
                "revenue": _wide(decimals(chosen.column("revenue"))),
            }
        )
        summed = table.group_by(["code", "goal"], use_threads=False).aggregate(
            [("n", "sum"), ("revenue", "sum")]
        )
        for row in summed.to_pylist():
            g = self.group(row["code"])
            count, total = g.goals.get(row["goal"], (0, Decimal(0)))
            g.goals[row["goal"]] = (count + row["n_sum"], total + row["revenue_sum"])


def breakdown(
    data: ReportData,
    dimensions: Sequence[Dimension],
    date1: date | None,
    date2: date | None,
    segment: Segment | None = None,
) -> list[Group]:
    """Visits, linked orders and goal reaches in [date1, date2] and in ``segment``, grouped by
    ``dimensions``."""
    return _Breakdown(data, dimensions, date1, date2, segment).run()


@dataclass(frozen=True)
class SourceRow:
    dimension: str | None
    visits: int
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Report:
    """A Reporting API answer before it is written as JSON: dimension values and metrics."""

    dimensions: tuple[Dimension, ...]
    metrics: tuple[str, ...]
    date1: date
    date2: date
    rows: list[tuple[Key, list[Value]]]
    totals: list[Value]
    visits: int
    """All visits in the date range and the segment (the size of the data the report reads)."""
    currency: str = "RUB"


def whole(groups: Sequence[Group]) -> Group:
    whole = Group(())
    for g in groups:
        whole.absorb(g)
    return whole


def report(
    data: ReportData,
    metrics: Sequence[str],
    dimensions: Sequence[Dimension],
    date1: date,
    date2: date,
    segment: Segment | None = None,
    currency: str = "RUB",
) -> Report:
    """Metrics per group of ``dimensions`` and over everything, visits and orders in range."""
    compute = [metric(name, currency) for name in metrics]
    groups = breakdown(data, dimensions, date1, date2, segment)
    everything = whole(groups)
    return Report(
        tuple(dimensions),
        tuple(metrics),
        date1,
        date2,
        [(g.key, [f(g) for f in compute]) for g in groups],
        [f(everything) for f in compute],
        everything.visits,
        currency,
    )


def order_sources(
    data: ReportData,
    attribution: Attribution,
    dimension: str,
    date1: date | None,
    date2: date | None,
    currency: str = "RUB",
) -> list[SourceRow]:
    """ "Order sources from CRM": linked orders created in [date1, date2] by attributed source
    (metrics named as the API names them, money metrics with ``<currency>``)."""
    groups = breakdown(data, [Dimension(dimension, attribution)], date1, date2)
    return [SourceRow(g.key[0], g.visits, order_metrics(g, currency)) for g in groups]


def goal_reports(
    data: ReportData, attribution: Attribution, dimension: str = "TrafficSource"
) -> dict[int, dict[str | None, tuple[int, Decimal]]]:
    """Per goal id, per attributed source: (reaches, revenue)."""
    result: dict[int, dict[str | None, tuple[int, Decimal]]] = {}
    utc = ReportData(data.visits, data.orders, data.reaches, "UTC", data.currency)
    for g in breakdown(utc, [Dimension(dimension, attribution)], None, None):
        for goal_id, reached in g.goals.items():
            result.setdefault(goal_id, {})[g.key[0]] = reached
    return result


__all__ = [
    "DATE",
    "DIMENSIONS",
    "MAX_DIMENSIONS",
    "MAX_METRICS",
    "Attribution",
    "Dimension",
    "Group",
    "Report",
    "ReportData",
    "SourceRow",
    "breakdown",
    "goal_reports",
    "metric",
    "order_metrics",
    "parse_dimension",
    "report",
    "resolve_date",
]
