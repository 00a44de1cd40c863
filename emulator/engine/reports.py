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
from emulator.engine.attribution import DEFAULT_MODEL, Attribution, attributed

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

    visits: pa.Table
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


def local_days(seconds: np.ndarray, tz: str) -> np.ndarray:
    """Days since 1970-01-01 of each instant's local date in ``tz``."""
    stamps = pa.array(seconds, pa.timestamp("s", tz=tz))
    return np.asarray(pc.local_timestamp(stamps).cast(pa.date32()).cast(pa.int32()), np.int64)


class _Keys:
    """Dimension values of items credited to visits (rows of the visit table) on days."""

    def __init__(self, data: ReportData, dimensions: Sequence[Dimension]) -> None:
        self.data = data
        self.dimensions = dimensions
        self.models: dict[Attribution, np.ndarray] = {}

    def columns(self, rows: np.ndarray, days: np.ndarray) -> list[pa.Array]:
        out = []
        for d in self.dimensions:
            if d.name == DATE:
                out.append(pa.array(days.astype("datetime64[D]")).cast(pa.string()))
                continue
            model = d.attribution or DEFAULT_MODEL
            if model not in self.models:
                self.models[model] = attributed(self.data.visits, model)
            column = self.data.visits.column(DIMENSIONS[d.name])
            out.append(column.take(indices(self.models[model][rows])).combine_chunks())
        return out


def _grouped(keys: list[pa.Array], values: dict[str, pa.Array], sums: list[str]) -> list[dict]:
    names = [f"k{i}" for i in range(len(keys))] or ["k"]
    columns = keys or [pa.nulls(len(next(iter(values.values()))), pa.string())]
    table = pa.table(dict(zip(names, columns, strict=True)) | values)
    result = table.group_by(names, use_threads=False).aggregate([(s, "sum") for s in sums])
    rows = result.to_pylist()
    for row in rows:
        row["key"] = tuple(row[n] for n in names) if keys else ()
    return rows


def breakdown(
    data: ReportData, dimensions: Sequence[Dimension], date1: date | None, date2: date | None
) -> list[Group]:
    """Visits, linked orders and goal reaches in [date1, date2], grouped by ``dimensions``."""
    visits = data.visits
    ids = numbers(visits.column("visit_id"))
    first = (date1 - EPOCH).days if date1 else None
    last = (date2 - EPOCH).days if date2 else None
    keys = _Keys(data, dimensions)
    groups: dict[tuple, Group] = {}

    def within(days: np.ndarray) -> np.ndarray:
        ok = np.ones(len(days), bool)
        if first is not None:
            ok &= days >= first
        if last is not None:
            ok &= days <= last
        return ok

    def rows_of(visit_ids: pa.Array) -> np.ndarray:
        found = numbers(visit_ids)
        at = np.minimum(np.searchsorted(ids, found), max(len(ids) - 1, 0))
        known = present(visit_ids) & (ids[at] == found) if len(ids) else np.zeros(len(found), bool)
        return np.where(known, at, -1)

    def group(key: tuple) -> Group:
        return groups.setdefault(key, Group(key))

    starts_days = local_days(numbers(visits.column("start_time")), data.tz)
    ok = np.flatnonzero(within(starts_days))
    ones = pa.array(np.ones(len(ok), np.int64))
    for row in _grouped(keys.columns(ok, starts_days[ok]), {"n": ones}, ["n"]):
        group(row["key"]).visits += row["n_sum"]
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
    for row in _grouped(
        keys.columns(rows[ok], days[ok]), values, [*STATUS_TYPES, "revenue", "profit"]
    ):
        g = group(row["key"])
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
    columns = keys.columns(rows[ok], starts_days[rows[ok]])
    goal_ids = chosen.column("goal_id").combine_chunks().cast(pa.string())
    revenue = _wide(decimals(chosen.column("revenue")))
    values = {"n": pa.array(np.ones(len(ok), np.int64)), "revenue": revenue}
    for row in _grouped([*columns, goal_ids], values, ["n", "revenue"]):
        *key, goal = row["key"]
        g = group(tuple(key))
        count, total = g.goals.get(int(goal), (0, Decimal(0)))
        g.goals[int(goal)] = (count + row["n_sum"], total + row["revenue_sum"])


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
