"""The Reporting API's names: dimensions, metrics, presets and dates, and what each metric
computes over a :class:`Group` of a breakdown.

CRM order metrics (https://yandex.com/dev/metrika/ru/stat/metrics/visits/cdp_orders.md) count
linked orders only: ``ym:s:cdpOrdersAllOrders`` (spam excluded), ``…InProgress``, ``…Payed``,
``…Cancelled``, ``…Spam``, ``…Other``; ``…ConversionIntoOrder`` = all orders / visits,
``…ConversionIntoPayment`` = paid orders / all orders, in percent; and the money metrics
``ym:s:cdpOrders<currency>Revenue``, ``…Profit`` and ``…AverageCheque`` (revenue per paid
order). ``<currency>`` is the query's ``currency`` or written into the name
(``ym:s:cdpOrdersRUBRevenue``; https://yandex.ru/dev/metrika/ru/stat/param).

Money is kept per order currency and never converted (the emulator has no exchange rates): a
money metric in RUB sums the paid orders whose ``currency`` is RUB (orders without one are in the
counter's default currency); orders in other currencies still count in the order counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from emulator.engine.attribution import Attribution
from emulator.engine.periods import CALENDAR

DIMENSIONS: dict[str, str] = {
    "TrafficSource": "traffic_source",
    "SourceEngine": "source_detail",
    "UTMSource": "utm_source",
    "UTMMedium": "utm_medium",
    "UTMCampaign": "utm_campaign",
    "UTMTerm": "utm_term",
    "UTMContent": "utm_content",
}
"""Attributed dimensions (``ym:s:<attribution><Name>`` in the Reporting API) → visit column
(``SourceEngine`` is made of ``traffic_source`` and ``source_detail``, see :mod:`.engines`)."""
DATE = "date"
PERIOD = "datePeriod"
STATUS_TYPES = ("IN_PROGRESS", "PAID", "CANCELLED", "SPAM", "OTHER")
PREFIX = "ym:s:"
VISITS = "ym:s:visits"
CURRENCY = "<currency>"
MAX_METRICS = 20
MAX_DIMENSIONS = 10
"""The Reporting API's own limits per query (https://yandex.ru/dev/metrika/en/stat/)."""
CDP_DOC = "https://yandex.com/dev/metrika/ru/stat/metrics/visits/cdp_orders.md"

PRESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "orders_sources": (
        ("ym:s:<attribution>TrafficSource", "ym:s:<attribution>SourceEngine"),
        (
            VISITS,
            "ym:s:cdpOrdersAllOrders",
            "ym:s:cdpOrdersConversionIntoOrder",
            "ym:s:cdpOrdersPayed",
            "ym:s:cdpOrdersConversionIntoPayment",
            "ym:s:cdpOrders<currency>Revenue",
            "ym:s:cdpOrders<currency>AverageCheque",
        ),
    ),
}
"""Presets → (dimensions, metrics): "Источники заказов из CRM"
(https://yandex.ru/dev/metrika/ru/stat/presets/preset_cdp_orders)."""

RENAMED = {
    "ym:s:cdpOrdersConversionToOrder": "ym:s:cdpOrdersConversionIntoOrder",
    "ym:s:cdpOrdersConversionToPayment": "ym:s:cdpOrdersConversionIntoPayment",
    "ym:s:cdpOrdersAverageOrderValue": "ym:s:cdpOrders<currency>AverageCheque",
    "ym:s:cdpOrdersRevenue": "ym:s:cdpOrders<currency>Revenue",
    "ym:s:cdpOrdersProfit": "ym:s:cdpOrders<currency>Profit",
}
"""Names earlier emulator versions guessed, refused with the real name."""

_GOAL_METRIC = re.compile(r"ym:s:goal(\d+)(reaches|revenue)")
_MONEY_METRIC = re.compile(r"ym:s:cdpOrders(<currency>|[A-Z]{3})(Revenue|Profit|AverageCheque)")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_MODELS = sorted((a.value for a in Attribution), key=len, reverse=True)
_DAYS_AGO = re.compile(r"(\d{1,6})daysAgo")


@dataclass(frozen=True, slots=True)
class Dimension:
    """One grouping: an attributed visit column, :data:`DATE`, or :data:`PERIOD` with a
    calendar ``group``."""

    name: str
    attribution: Attribution | None = None
    group: str | None = None


@dataclass
class Money:
    """Paid orders in one currency: their revenue, revenue − cost, and how many."""

    revenue: Decimal = Decimal(0)
    profit: Decimal = Decimal(0)
    paid: int = 0

    def add(self, other: Money) -> None:
        self.revenue += other.revenue
        self.profit += other.profit
        self.paid += other.paid


@dataclass
class Group:
    """What happened under one combination of dimension values."""

    key: tuple[str | None, ...]
    visits: int = 0
    orders: dict[str, int] = field(default_factory=dict)
    money: dict[str, Money] = field(default_factory=dict)
    goals: dict[int, tuple[int, Decimal]] = field(default_factory=dict)

    def absorb(self, other: Group) -> None:
        self.visits += other.visits
        for status, count in other.orders.items():
            self.orders[status] = self.orders.get(status, 0) + count
        for currency, money in other.money.items():
            self.money.setdefault(currency, Money()).add(money)
        for goal_id, (count, total) in other.goals.items():
            mine = self.goals.get(goal_id, (0, Decimal(0)))
            self.goals[goal_id] = (mine[0] + count, mine[1] + total)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 4) if whole else None


def order_metrics(group: Group, currency: str) -> dict[str, float | int | None]:
    """The CRM order metrics of one group, by their API names (money in ``currency``)."""
    counts = group.orders
    all_orders = sum(n for t, n in counts.items() if t != "SPAM")
    paid = counts.get("PAID", 0)
    money = group.money.get(currency, Money())
    return {
        "ym:s:cdpOrdersAllOrders": all_orders,
        "ym:s:cdpOrdersInProgress": counts.get("IN_PROGRESS", 0),
        "ym:s:cdpOrdersPayed": paid,
        "ym:s:cdpOrdersCancelled": counts.get("CANCELLED", 0),
        "ym:s:cdpOrdersSpam": counts.get("SPAM", 0),
        "ym:s:cdpOrdersOther": counts.get("OTHER", 0),
        "ym:s:cdpOrdersConversionIntoOrder": _percent(all_orders, group.visits),
        "ym:s:cdpOrdersConversionIntoPayment": _percent(paid, all_orders),
        "ym:s:cdpOrders<currency>Revenue": float(money.revenue),
        "ym:s:cdpOrders<currency>Profit": float(money.profit),
        "ym:s:cdpOrders<currency>AverageCheque": (
            float(money.revenue / money.paid) if money.paid else None
        ),
    }


ORDER_METRIC_NAMES = tuple(order_metrics(Group(()), "RUB"))


def currency_code(value: str) -> str:
    """A currency of the ``currency`` parameter: an ISO 4217 code such as RUB, USD, EUR."""
    if not _CURRENCY_CODE.fullmatch(value):
        raise ValueError(f"currency {value!r} is not a three-letter code such as RUB")
    return value


def metric(name: str, currency: str) -> Callable[[Group], int | float | None]:
    """How one metric is computed over a :class:`Group` (``ValueError`` when unknown)."""
    if name == VISITS:
        return lambda g: g.visits
    if name in RENAMED:
        raise ValueError(
            f"metric {name!r} does not exist in the Reporting API: the real name is "
            f"{RENAMED[name]} ({CDP_DOC})"
        )
    money = _MONEY_METRIC.fullmatch(name)
    if money is not None:
        code = currency if money[1] == CURRENCY else money[1]
        generic = f"ym:s:cdpOrders{CURRENCY}{money[2]}"
        return lambda g: order_metrics(g, code)[generic]
    if name in ORDER_METRIC_NAMES:
        return lambda g: order_metrics(g, currency)[name]
    found = _GOAL_METRIC.fullmatch(name)
    if found is None:
        raise ValueError(f"metric {name!r} is not supported by the emulator")
    goal_id, kind = int(found[1]), found[2]
    if kind == "reaches":
        return lambda g: g.goals.get(goal_id, (0, Decimal(0)))[0]
    return lambda g: float(g.goals.get(goal_id, (0, Decimal(0)))[1])


def parse_dimension(name: str, default: Attribution, group: str = "week") -> Dimension:
    """``ym:s:date``, ``ym:s:datePeriod<group>`` (or ``…day``, ``…week`` …), and
    ``ym:s:<attribution>UTMSource`` or ``ym:s:lastTrafficSource`` style names.

    ``<attribution>`` takes the query's ``attribution`` (https://yandex.ru/dev/metrika/en/stat/
    attributes/visits/source); a model written into the name wins (``lastSign`` = ``lastsign``).
    ``<group>`` takes the query's ``group``.
    """
    if name == PREFIX + DATE:
        return Dimension(DATE)
    rest = name.removeprefix(PREFIX)
    if rest.startswith(PERIOD) and rest != name:
        period = rest.removeprefix(PERIOD).replace("<group>", group)
        if period in CALENDAR:
            return Dimension(PERIOD, group=period)
        raise ValueError(f"dimension {name!r}: the period is one of {', '.join(CALENDAR)}")
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


def resolve_date(text: str, today: date) -> date:
    """``today``, ``yesterday``, ``NdaysAgo`` or ``YYYY-MM-DD`` (the Reporting API's forms)."""
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if found := _DAYS_AGO.fullmatch(text):
        return today - timedelta(days=int(found[1]))
    return date.fromisoformat(text)
