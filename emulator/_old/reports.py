""" "Order sources from CRM", goal reports and "users and customers" over the engine's state.

Only linked orders count in the order metrics (https://yandex.com/dev/metrika/ru/stat/metrics/
visits/cdp_orders.md: "orders that could be linked to visits"); the latest accepted state of
each order decides its status and amounts; SPAM orders leave the order metrics (ES seed FAQ).
Unlinked orders appear only in :func:`users_and_customers`.

Attribution models (the Reporting API's ``attribution`` parameter,
https://yandex.ru/dev/metrika/ru/stat/attribution):
- ``lastsign`` (last significant source, the default): the linked visit, unless it is a direct
  visit, an internal transition or a saved page — then the visitor's latest earlier visit from
  a significant source;
- ``last``: the linked visit itself;
- ``first``: the visitor's first visit;
- ``last_yandex_direct_click``: the visitor's latest Yandex Direct click at or before the
  linked visit, else the last significant source.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from emulator._old.repository import iter_contacts, iter_orders
from emulator._old.store import Store
from emulator.domain import StatusType

INSIGNIFICANT_SOURCES = frozenset({"direct", "internal", "saved"})
YANDEX_DIRECT = "yandex direct"


class Attribution(StrEnum):
    LAST_SIGNIFICANT = "lastsign"
    LAST = "last"
    FIRST = "first"
    LAST_YANDEX_DIRECT_CLICK = "last_yandex_direct_click"


DEFAULT_MODEL = Attribution.LAST_SIGNIFICANT


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """The columns of a visit that reports group by."""

    visit_id: int
    client_id: str
    start: int
    traffic_source: str
    source_detail: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    yclid: str | None

    @property
    def significant(self) -> bool:
        return self.traffic_source not in INSIGNIFICANT_SOURCES

    @property
    def direct_click(self) -> bool:
        return self.yclid is not None or (
            self.traffic_source == "ad" and (self.source_detail or "").lower() == YANDEX_DIRECT
        )


DIMENSIONS: dict[str, Callable[[VisitFacts], str | None]] = {
    "TrafficSource": lambda v: v.traffic_source,
    "SourceEngine": lambda v: v.source_detail,
    "UTMSource": lambda v: v.utm_source,
    "UTMMedium": lambda v: v.utm_medium,
    "UTMCampaign": lambda v: v.utm_campaign,
    "UTMTerm": lambda v: v.utm_term,
    "UTMContent": lambda v: v.utm_content,
}
"""Attributed dimensions: ``ym:s:<attribution><Name>`` in the Reporting API."""


@dataclass
class VisitHistory:
    """Every visit of the visitors a report needs, by visitor, in time order."""

    by_client: dict[str, list[VisitFacts]] = field(default_factory=dict)
    by_id: dict[int, VisitFacts] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store, counter_id: int) -> VisitHistory:
        history = cls()
        rows = store.query(
            "SELECT visit_id, client_id, start_time, traffic_source, source_detail, utm_source, "
            "utm_medium, utm_campaign, utm_term, utm_content, yclid FROM visits "
            "WHERE counter_id = ? ORDER BY client_id, start_time, visit_id",
            (counter_id,),
        )
        for row in rows:
            visit = VisitFacts(*row)
            history.by_client.setdefault(visit.client_id, []).append(visit)
            history.by_id[visit.visit_id] = visit
        return history

    def attributed(self, visit_id: int, model: Attribution) -> VisitFacts:
        """The visit whose source gets the credit for something on ``visit_id``."""
        visit = self.by_id[visit_id]
        visits = self.by_client[visit.client_id]
        if model is Attribution.LAST:
            return visit
        if model is Attribution.FIRST:
            return visits[0]
        earlier = visits[: visits.index(visit) + 1]
        if model is Attribution.LAST_YANDEX_DIRECT_CLICK:
            for candidate in reversed(earlier):
                if candidate.direct_click:
                    return candidate
        if visit.significant:
            return visit
        for candidate in reversed(earlier):
            if candidate.significant:
                return candidate
        return visit


@dataclass(frozen=True, slots=True)
class OrderFacts:
    key: str
    created: int
    status_type: StatusType | None
    revenue: Decimal | None
    cost: Decimal | None
    visit_id: int | None


def order_facts(store: Store, counter_id: int) -> list[OrderFacts]:
    with store._lock:
        return [
            OrderFacts(
                o.key,
                o.create_time,
                o.status_type,
                o.record.revenue,
                o.record.cost,
                o.linked_visit_id,
            )
            for o in iter_orders(store.conn, counter_id)
        ]


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 4) if whole else None


def order_metrics(orders: Sequence[OrderFacts], visits: int) -> dict[str, float | int | None]:
    """The CRM order metrics of one group (names as the ``ym:s:cdpOrders*`` metrics).

    Only ``cdpOrdersAllOrders``, ``cdpOrdersInProgress`` and ``cdpOrdersPayed`` are named on
    the metrics page; the others follow the same pattern for the metrics the ES seed lists.
    Revenue and profit count paid orders; average order value is revenue per paid order.
    """
    counts: dict[StatusType, int] = defaultdict(int)
    revenue = Decimal(0)
    profit = Decimal(0)
    for order in orders:
        if order.status_type is None:
            continue
        counts[order.status_type] += 1
        if order.status_type is StatusType.PAID and order.revenue is not None:
            revenue += order.revenue
            profit += order.revenue - (order.cost or 0)
    all_orders = sum(n for t, n in counts.items() if t is not StatusType.SPAM)
    paid = counts[StatusType.PAID]
    return {
        "ym:s:cdpOrdersAllOrders": all_orders,
        "ym:s:cdpOrdersInProgress": counts[StatusType.IN_PROGRESS],
        "ym:s:cdpOrdersPayed": paid,
        "ym:s:cdpOrdersCancelled": counts[StatusType.CANCELLED],
        "ym:s:cdpOrdersSpam": counts[StatusType.SPAM],
        "ym:s:cdpOrdersOther": counts[StatusType.OTHER],
        "ym:s:cdpOrdersConversionToOrder": _percent(all_orders, visits),
        "ym:s:cdpOrdersConversionToPayment": _percent(paid, visits),
        "ym:s:cdpOrdersAverageOrderValue": float(revenue / paid) if paid else None,
        "ym:s:cdpOrdersRevenue": float(revenue),
        "ym:s:cdpOrdersProfit": float(profit),
    }


ORDER_METRIC_NAMES = tuple(order_metrics([], 0))


@dataclass(frozen=True)
class SourceRow:
    dimension: str | None
    visits: int
    metrics: dict[str, Any]


DATE = "date"
"""The session date (``ym:s:date``): a visit's own start date, an order's creation date."""


@dataclass(frozen=True, slots=True)
class Dimension:
    """One grouping of a breakdown: an attributed visit column, or :data:`DATE`."""

    name: str
    attribution: Attribution | None = None


@dataclass
class Group:
    """What happened under one combination of dimension values.

    Visits count by their start date; linked orders by their creation date (the "Order
    sources from CRM" rule above); goal reaches by the date of the visit they were reached
    on (session-scoped metrics).
    """

    key: tuple[str | None, ...]
    visits: int = 0
    orders: list[OrderFacts] = field(default_factory=list)
    goals: dict[int, tuple[int, Decimal]] = field(default_factory=dict)

    def add_reach(self, goal_id: int, revenue: Decimal | None) -> None:
        count, total = self.goals.get(goal_id, (0, Decimal(0)))
        self.goals[goal_id] = (count + 1, total + (revenue or Decimal(0)))

    def absorb(self, other: Group) -> None:
        self.visits += other.visits
        self.orders += other.orders
        for goal_id, (count, total) in other.goals.items():
            mine = self.goals.get(goal_id, (0, Decimal(0)))
            self.goals[goal_id] = (mine[0] + count, mine[1] + total)


def breakdown(
    store: Store,
    counter_id: int,
    tz: Any,
    dimensions: Sequence[Dimension],
    date1: date | None = None,
    date2: date | None = None,
) -> list[Group]:
    """Visits, linked orders and goal reaches in [date1, date2], grouped by ``dimensions``."""
    history = VisitHistory.load(store, counter_id)
    groups: dict[tuple[str | None, ...], Group] = {}

    def group_of(visit_id: int, ts: int) -> Group | None:
        day = datetime.fromtimestamp(ts, tz).date()
        if (date1 is not None and day < date1) or (date2 is not None and day > date2):
            return None
        key = tuple(
            day.isoformat()
            if d.name == DATE
            else DIMENSIONS[d.name](history.attributed(visit_id, d.attribution or DEFAULT_MODEL))
            for d in dimensions
        )
        return groups.setdefault(key, Group(key))

    for visit in history.by_id.values():
        if (group := group_of(visit.visit_id, visit.start)) is not None:
            group.visits += 1
    for order in order_facts(store, counter_id):
        if order.visit_id is not None and (group := group_of(order.visit_id, order.created)):
            group.orders.append(order)
    for goal_id, visit_id, revenue in store.query(
        "SELECT goal_id, visit_id, revenue FROM goal_reaches WHERE counter_id = ? ORDER BY seq",
        (counter_id,),
    ):
        visit = history.by_id.get(visit_id)
        if visit is not None and (group := group_of(visit_id, visit.start)) is not None:
            group.add_reach(goal_id, Decimal(revenue) if revenue else None)
    return sorted(groups.values(), key=lambda g: [(v is None, v or "") for v in g.key])


def order_sources(
    store: Store,
    counter_id: int,
    tz: Any,
    attribution: Attribution = Attribution.LAST_SIGNIFICANT,
    dimension: str = "TrafficSource",
    date1: date | None = None,
    date2: date | None = None,
) -> list[SourceRow]:
    """ "Order sources from CRM": linked orders created in [date1, date2] by attributed source."""
    groups = breakdown(store, counter_id, tz, [Dimension(dimension, attribution)], date1, date2)
    return [SourceRow(g.key[0], g.visits, order_metrics(g.orders, g.visits)) for g in groups]


def goal_reports(
    store: Store, counter_id: int, attribution: Attribution, dimension: str = "TrafficSource"
) -> dict[int, dict[str | None, tuple[int, Decimal]]]:
    """Per goal id, per attributed source: (reaches, revenue)."""
    result: dict[int, dict[str | None, tuple[int, Decimal]]] = defaultdict(dict)
    for group in breakdown(store, counter_id, UTC, [Dimension(dimension, attribution)]):
        for goal_id, reached in group.goals.items():
            result[goal_id][group.key[0]] = reached
    return dict(result)


METRIC_PREFIX = "ym:s:"
VISITS = "ym:s:visits"
MAX_METRICS = 20
MAX_DIMENSIONS = 10
"""The Reporting API's own limits per query (https://yandex.ru/dev/metrika/en/stat/)."""

_GOAL_METRIC = re.compile(r"ym:s:goal(\d+)(reaches|revenue)")
_MODELS = sorted((a.value for a in Attribution), key=len, reverse=True)
_DAYS_AGO = re.compile(r"(\d+)daysAgo")


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
        return lambda g: order_metrics(g.orders, g.visits)[name]
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
    store: Store,
    counter_id: int,
    tz: Any,
    metrics: Sequence[str],
    dimensions: Sequence[Dimension],
    date1: date,
    date2: date,
) -> Report:
    """Metrics per group of ``dimensions`` and over everything, visits and orders in range."""
    compute = [metric(name) for name in metrics]
    groups = breakdown(store, counter_id, tz, dimensions, date1, date2)
    whole = Group(())
    for group in groups:
        whole.absorb(group)
    return Report(
        tuple(dimensions),
        tuple(metrics),
        date1,
        date2,
        [(g.key, [f(g) for f in compute]) for g in groups],
        [f(whole) for f in compute],
        whole.visits,
    )


def users_and_customers(store: Store, counter_id: int) -> list[dict[str, Any]]:
    """Every contact with its orders, linked or not, and its lifetime value (paid revenue)."""
    with store._lock:
        contacts = {c.uniq_id: c for c in iter_contacts(store.conn, counter_id)}
        orders = list(iter_orders(store.conn, counter_id))
    by_customer: dict[str, list[Any]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_key].append(order)
    customers = []
    for uniq_id in sorted(set(contacts) | set(by_customer)):
        contact = contacts.get(uniq_id)
        own = by_customer.get(uniq_id, [])
        ltv = sum(
            (o.record.revenue or Decimal(0) for o in own if o.status_type is StatusType.PAID),
            Decimal(0),
        )
        customers.append(
            {
                "uniq_id": uniq_id,
                "name": contact.name if contact else None,
                "client_ids": list(contact.client_ids or ()) if contact else [],
                "orders": [
                    {
                        "id": o.key,
                        "status": o.status_id,
                        "status_type": o.status_type.value if o.status_type else None,
                        "revenue": None if o.record.revenue is None else str(o.record.revenue),
                        "linked_visit_id": o.linked_visit_id,
                    }
                    for o in own
                ],
                "lifetime_value": str(ltv),
            }
        )
    return customers


def totals(rows: Iterable[SourceRow]) -> dict[str, Any]:
    """Column totals as the Reporting API's ``totals`` (ratios recomputed, not summed)."""
    rows = list(rows)
    visits = sum(r.visits for r in rows)
    summed = {
        name: sum((r.metrics[name] or 0) for r in rows)
        for name in ORDER_METRIC_NAMES
        if not name.endswith(("ConversionToOrder", "ConversionToPayment", "AverageOrderValue"))
    }
    paid = summed["ym:s:cdpOrdersPayed"]
    summed["ym:s:cdpOrdersConversionToOrder"] = _percent(summed["ym:s:cdpOrdersAllOrders"], visits)
    summed["ym:s:cdpOrdersConversionToPayment"] = _percent(paid, visits)
    summed["ym:s:cdpOrdersAverageOrderValue"] = (
        summed["ym:s:cdpOrdersRevenue"] / paid if paid else None
    )
    return {"visits": visits, **summed}
