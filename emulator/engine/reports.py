""" "Order sources from CRM", goal reports and Reporting API tables, as grouped array operations.

Only linked orders count in the order metrics (https://yandex.com/dev/metrika/ru/stat/metrics/
visits/cdp_orders.md: "orders that could be linked to visits"); the latest accepted state of
each order decides its status and amounts; SPAM orders leave the order metrics (ES seed FAQ).
Unlinked orders appear only in "users and customers" (:mod:`.reads`).

Visits count by their start date, linked orders by their creation date, goal reaches by the
date of the visit they were reached on; each is credited to the visit its attribution model
picks (:mod:`.attribution`). Money is summed exactly (Arrow decimals).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.engine.arrays import indices, numbers, present
from emulator.engine.attribution import DEFAULT_MODEL, Attribution
from emulator.engine.visits import VisitTable, local_days

DIMENSIONS: dict[str, str] = {
    "TrafficSource": "traffic_source",
    "SourceEngine": "source_detail",
    "UTMSource": "utm_source",
    "UTMMedium": "utm_medium",
    "UTMCampaign": "utm_campaign",
    "UTMTerm": "utm_term",
    "UTMContent": "utm_content",
}
"""Attributed dimensions (``ym:s:<attribution><Name>`` in the Reporting API) → visit column."""
DATE = "date"
STATUS_TYPES = ("IN_PROGRESS", "PAID", "CANCELLED", "SPAM", "OTHER")
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Dimension:
    """One grouping of a breakdown: an attributed visit column, or :data:`DATE`."""

    name: str
    attribution: Attribution | None = None


@dataclass
class Group:
    """What happened under one combination of dimension values."""

    key: tuple[str | None, ...]
    visits: int = 0
    orders: dict[str, int] = field(default_factory=dict)
    revenue: Decimal = Decimal(0)
    profit: Decimal = Decimal(0)
    goals: dict[int, tuple[int, Decimal]] = field(default_factory=dict)

    def absorb(self, other: Group) -> None:
        self.visits += other.visits
        for status, count in other.orders.items():
            self.orders[status] = self.orders.get(status, 0) + count
        self.revenue += other.revenue
        self.profit += other.profit
        for goal_id, (count, total) in other.goals.items():
            mine = self.goals.get(goal_id, (0, Decimal(0)))
            self.goals[goal_id] = (mine[0] + count, mine[1] + total)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 4) if whole else None


def order_metrics(group: Group) -> dict[str, float | int | None]:
    """The CRM order metrics of one group (names as the ``ym:s:cdpOrders*`` metrics).

    Revenue and profit count paid orders; average order value is revenue per paid order.
    """
    counts = group.orders
    all_orders = sum(n for t, n in counts.items() if t != "SPAM")
    paid = counts.get("PAID", 0)
    return {
        "ym:s:cdpOrdersAllOrders": all_orders,
        "ym:s:cdpOrdersInProgress": counts.get("IN_PROGRESS", 0),
        "ym:s:cdpOrdersPayed": paid,
        "ym:s:cdpOrdersCancelled": counts.get("CANCELLED", 0),
        "ym:s:cdpOrdersSpam": counts.get("SPAM", 0),
        "ym:s:cdpOrdersOther": counts.get("OTHER", 0),
        "ym:s:cdpOrdersConversionToOrder": _percent(all_orders, group.visits),
        "ym:s:cdpOrdersConversionToPayment": _percent(paid, group.visits),
        "ym:s:cdpOrdersAverageOrderValue": float(group.revenue / paid) if paid else None,
        "ym:s:cdpOrdersRevenue": float(group.revenue),
        "ym:s:cdpOrdersProfit": float(group.profit),
    }


ORDER_METRIC_NAMES = tuple(order_metrics(Group(())))


@dataclass(frozen=True)
class ReportData:
    """What a report reads: the visits, the orders and the goal reaches of one counter."""

    visits: VisitTable
    orders: pa.Table
    """``create_date_time``, ``status_type``, ``revenue``, ``cost``, ``linked_visit_id``."""
    reaches: pa.Table
    """``goal_id``, ``visit_id``, ``revenue``."""
    tz: str


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


DAY_RADIX = 1 << 17
"""Room for a date dimension's values: days since 1970 up to year 2328."""


class _Keys:
    """Group codes of items credited to visits (rows of the visit table) on local days.

    Each dimension becomes a small integer (a dictionary code of the attributed visit's
    column, or the day), and the dimensions of one item one mixed-radix ``int64``, so grouping
    millions of visits is one ``np.unique``.
    """

    def __init__(self, data: ReportData, dimensions: Sequence[Dimension]) -> None:
        self.visits = data.visits
        self.parts: list[tuple[np.ndarray | None, np.ndarray | None, list[str | None], int]] = []
        for d in dimensions:
            if d.name == DATE:
                self.parts.append((None, None, [], DAY_RADIX))
                continue
            codes, values = self.visits.coded(DIMENSIONS[d.name])
            credited = self.visits.attributed(d.attribution or DEFAULT_MODEL)
            self.parts.append((codes, credited, values, len(values) + 1))

    def codes(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        code = np.zeros(len(rows), np.int64)
        for codes, credited, values, radix in self.parts:
            if codes is None:
                part = days
            else:
                assert credited is not None
                part = codes[credited[rows]]
                part = np.where(part < 0, len(values), part)
            code = code * radix + part
        return code

    def key(self, code: int) -> tuple[str | None, ...]:
        out: list[str | None] = []
        for codes, _, values, radix in reversed(self.parts):
            code, part = divmod(code, radix)
            if codes is None:
                out.append((EPOCH + timedelta(days=part)).isoformat())
            else:
                out.append(values[part] if part < len(values) else None)
        return tuple(reversed(out))


def _grouped(codes: np.ndarray, values: dict[str, pa.Array], sums: list[str]) -> list[dict]:
    table = pa.table({"code": pa.array(codes, pa.int64())} | values)
    return (
        table.group_by(["code"], use_threads=False)
        .aggregate([(s, "sum") for s in sums])
        .to_pylist()
    )


def breakdown(
    data: ReportData, dimensions: Sequence[Dimension], date1: date | None, date2: date | None
) -> list[Group]:
    """Visits, linked orders and goal reaches in [date1, date2], grouped by ``dimensions``."""
    visits = data.visits
    first = (date1 - EPOCH).days if date1 else None
    last = (date2 - EPOCH).days if date2 else None
    keys = _Keys(data, dimensions)
    groups: dict[int, Group] = {}

    def within(days: np.ndarray) -> np.ndarray:
        ok = np.ones(len(days), bool)
        if first is not None:
            ok &= days >= first
        if last is not None:
            ok &= days <= last
        return ok

    def rows_of(visit_ids: pa.Array) -> np.ndarray:
        found = numbers(visit_ids)
        known = present(visit_ids) & visits.has(found)
        return np.where(known, visits.positions(found), -1)

    def group(code: int) -> Group:
        if code not in groups:
            groups[code] = Group(keys.key(code))
        return groups[code]

    starts_days = visits.days(data.tz)
    ok = np.flatnonzero(within(starts_days))
    unique, counts = np.unique(keys.codes(ok, starts_days[ok]), return_counts=True)
    for code, count in zip(unique.tolist(), counts.tolist(), strict=True):
        group(code).visits += count
    _orders(data, keys, rows_of, within, group)
    _reaches(data, keys, rows_of, starts_days, within, group)
    return sorted(groups.values(), key=lambda g: [(v is None, v or "") for v in g.key])


def _orders(
    data: ReportData, keys: _Keys, rows_of: Callable, within: Callable, group: Callable
) -> None:
    orders = data.orders
    rows = rows_of(orders.column("linked_visit_id"))
    days = local_days(numbers(orders.column("create_date_time")), data.tz)
    ok = np.flatnonzero((rows >= 0) & within(days))
    if not len(ok):
        return
    chosen = orders.take(indices(ok))
    status = pc.fill_null(chosen.column("status_type"), "")
    paid = pc.and_(pc.equal(status, "PAID"), pc.is_valid(chosen.column("revenue")))
    revenue = decimals(pc.if_else(paid, chosen.column("revenue"), "0"))
    cost = decimals(pc.if_else(paid, pc.fill_null(chosen.column("cost"), "0"), "0"))
    values = {t: pc.cast(pc.equal(status, t), pa.int64()) for t in STATUS_TYPES}
    values |= {"revenue": _wide(revenue), "profit": _wide(pc.subtract(revenue, cost))}
    codes = keys.codes(rows[ok], days[ok])
    for row in _grouped(codes, values, [*STATUS_TYPES, "revenue", "profit"]):
        g = group(row["code"])
        for t in STATUS_TYPES:
            if row[f"{t}_sum"]:
                g.orders[t] = g.orders.get(t, 0) + row[f"{t}_sum"]
        g.revenue += row["revenue_sum"]
        g.profit += row["profit_sum"]


def _reaches(
    data: ReportData,
    keys: _Keys,
    rows_of: Callable,
    starts_days: np.ndarray,
    within: Callable,
    group: Callable,
) -> None:
    reaches = data.reaches
    rows = rows_of(reaches.column("visit_id"))
    known = np.flatnonzero(rows >= 0)
    days = starts_days[rows[known]] if len(known) else np.zeros(0, np.int64)
    ok = known[within(days)]
    if not len(ok):
        return
    chosen = reaches.take(indices(ok))
    revenue = _wide(decimals(chosen.column("revenue")))
    values = {
        "goal": chosen.column("goal_id").combine_chunks(),
        "n": pa.array(np.ones(len(ok), np.int64)),
        "revenue": revenue,
    }
    table = pa.table({"code": pa.array(keys.codes(rows[ok], starts_days[rows[ok]]))} | values)
    summed = table.group_by(["code", "goal"], use_threads=False).aggregate(
        [("n", "sum"), ("revenue", "sum")]
    )
    for row in summed.to_pylist():
        g = group(row["code"])
        count, total = g.goals.get(row["goal"], (0, Decimal(0)))
        g.goals[row["goal"]] = (count + row["n_sum"], total + row["revenue_sum"])


@dataclass(frozen=True)
class SourceRow:
    dimension: str | None
    visits: int
    metrics: dict[str, Any]


METRIC_PREFIX = "ym:s:"
VISITS = "ym:s:visits"
MAX_METRICS = 20
MAX_DIMENSIONS = 10
"""The Reporting API's own limits per query (https://yandex.ru/dev/metrika/en/stat/)."""

_GOAL_METRIC = re.compile(r"ym:s:goal(\d+)(reaches|revenue)")
_MODELS = sorted((a.value for a in Attribution), key=len, reverse=True)
_DAYS_AGO = re.compile(r"(\d{1,6})daysAgo")


def parse_dimension(name: str, default: Attribution) -> Dimension:
    """``ym:s:date``, ``ym:s:<attribution>UTMSource`` or ``ym:s:lastTrafficSource`` style names.

    ``<attribution>`` takes the query's ``attribution`` (https://yandex.ru/dev/metrika/en/stat/
    attributes/visits/source); a model written into the name wins (``lastSign`` = ``lastsign``).
    """
    if name == METRIC_PREFIX + DATE:
        return Dimension(DATE)
    rest = name.removeprefix(METRIC_PREFIX)
    if rest != name:
        if rest.startswith("<attribution>"):
            return _known(Dimension(rest.removeprefix("<attribution>"), default), name)
        for model in _MODELS:
            if rest.lower().startswith(model):
                return _known(Dimension(rest[len(model) :], Attribution(model)), name)
    raise ValueError(f"dimension {name!r} is not supported by the emulator")


def _known(dimension: Dimension, name: str) -> Dimension:
    if dimension.name not in DIMENSIONS:
        raise ValueError(f"dimension {name!r} is not supported by the emulator")
    return dimension


def metric(name: str) -> Callable[[Group], int | float | None]:
    """How one metric is computed over a :class:`Group` (``ValueError`` when unknown)."""
    if name == VISITS:
        return lambda g: g.visits
    if name in ORDER_METRIC_NAMES:
        return lambda g: order_metrics(g)[name]
    found = _GOAL_METRIC.fullmatch(name)
    if found is None:
        raise ValueError(f"metric {name!r} is not supported by the emulator")
    goal_id, kind = int(found[1]), found[2]
    if kind == "reaches":
        return lambda g: g.goals.get(goal_id, (0, Decimal(0)))[0]
    return lambda g: float(g.goals.get(goal_id, (0, Decimal(0)))[1])


def resolve_date(text: str, today: date) -> date:
    """``today``, ``yesterday``, ``NdaysAgo`` or ``YYYY-MM-DD`` (the Reporting API's forms)."""
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if found := _DAYS_AGO.fullmatch(text):
        return today - timedelta(days=int(found[1]))
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Report:
    """A Reporting API answer before it is written as JSON: dimension values and metrics."""

    dimensions: tuple[Dimension, ...]
    metrics: tuple[str, ...]
    date1: date
    date2: date
    rows: list[tuple[tuple[str | None, ...], list[int | float | None]]]
    totals: list[int | float | None]
    visits: int
    """All visits in the date range (the size of the data the report reads)."""


def report(
    data: ReportData,
    metrics: Sequence[str],
    dimensions: Sequence[Dimension],
    date1: date,
    date2: date,
) -> Report:
    """Metrics per group of ``dimensions`` and over everything, visits and orders in range."""
    compute = [metric(name) for name in metrics]
    groups = breakdown(data, dimensions, date1, date2)
    whole = Group(())
    for g in groups:
        whole.absorb(g)
    return Report(
        tuple(dimensions),
        tuple(metrics),
        date1,
        date2,
        [(g.key, [f(g) for f in compute]) for g in groups],
        [f(whole) for f in compute],
        whole.visits,
    )


def order_sources(
    data: ReportData,
    attribution: Attribution,
    dimension: str,
    date1: date | None,
    date2: date | None,
) -> list[SourceRow]:
    """ "Order sources from CRM": linked orders created in [date1, date2] by attributed source."""
    groups = breakdown(data, [Dimension(dimension, attribution)], date1, date2)
    return [SourceRow(g.key[0], g.visits, order_metrics(g)) for g in groups]


def goal_reports(
    data: ReportData, attribution: Attribution, dimension: str = "TrafficSource"
) -> dict[int, dict[str | None, tuple[int, Decimal]]]:
    """Per goal id, per attributed source: (reaches, revenue)."""
    result: dict[int, dict[str | None, tuple[int, Decimal]]] = {}
    utc = ReportData(data.visits, data.orders, data.reaches, "UTC")
    for g in breakdown(utc, [Dimension(dimension, attribution)], None, None):
        for goal_id, reached in g.goals.items():
            result.setdefault(goal_id, {})[g.key[0]] = reached
    return result
