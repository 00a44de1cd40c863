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

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from emulator.domain import StatusType
from emulator.repository import iter_contacts, iter_orders
from emulator.store import Store

INSIGNIFICANT_SOURCES = frozenset({"direct", "internal", "saved"})
YANDEX_DIRECT = "yandex direct"


class Attribution(StrEnum):
    LAST_SIGNIFICANT = "lastsign"
    LAST = "last"
    FIRST = "first"
    LAST_YANDEX_DIRECT_CLICK = "last_yandex_direct_click"


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
    history = VisitHistory.load(store, counter_id)
    pick = DIMENSIONS[dimension]

    def in_range(ts: int) -> bool:
        day = datetime.fromtimestamp(ts, tz).date()
        return (date1 is None or day >= date1) and (date2 is None or day <= date2)

    orders_by: dict[str | None, list[OrderFacts]] = defaultdict(list)
    for order in order_facts(store, counter_id):
        if order.visit_id is None or not in_range(order.created):
            continue
        orders_by[pick(history.attributed(order.visit_id, attribution))].append(order)
    visits_by: dict[str | None, int] = defaultdict(int)
    for visit in history.by_id.values():
        if in_range(visit.start):
            visits_by[pick(history.attributed(visit.visit_id, attribution))] += 1
    keys = sorted(set(orders_by) | set(visits_by), key=lambda k: (k is None, k or ""))
    return [SourceRow(k, visits_by[k], order_metrics(orders_by[k], visits_by[k])) for k in keys]


def goal_reports(
    store: Store, counter_id: int, attribution: Attribution, dimension: str = "TrafficSource"
) -> dict[int, dict[str | None, tuple[int, Decimal]]]:
    """Per goal id, per attributed source: (reaches, revenue)."""
    history = VisitHistory.load(store, counter_id)
    pick = DIMENSIONS[dimension]
    result: dict[int, dict[str | None, tuple[int, Decimal]]] = defaultdict(dict)
    for goal_id, visit_id, revenue in store.query(
        "SELECT goal_id, visit_id, revenue FROM goal_reaches WHERE counter_id = ? ORDER BY seq",
        (counter_id,),
    ):
        if visit_id not in history.by_id:
            continue
        source = pick(history.attributed(visit_id, attribution))
        count, total = result[goal_id].get(source, (0, Decimal(0)))
        result[goal_id][source] = (count + 1, total + (Decimal(revenue) if revenue else 0))
    return dict(result)


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
