"""What the inspector's pages show, read through the engine's public methods only.

Pure shaping of engine answers into rows a template prints: no rule lives here, and nothing is
read from the store directly, so the pages keep working whatever the engine keeps inside.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulator import Attribution, CounterConfig, Emulator, OfflineUploading
from emulator.api.inspector.requestlog import Entry
from emulator.api.stat import source_name

WALK = ("PREPARED", "UPLOADED", "EXPORTED", "MATCHED")
"""An offline uploading's statuses while it waits; it ends PROCESSED or LINKAGE_FAILURE."""
ORDERS_PER_PAGE = 100
SOURCE_METRICS = (
    ("orders", "ym:s:cdpOrdersAllOrders"),
    ("paid", "ym:s:cdpOrdersPayed"),
    ("revenue", "ym:s:cdpOrders<currency>Revenue"),
    ("profit", "ym:s:cdpOrders<currency>Profit"),
)


def mask(token: str) -> str:
    """Enough of a token to tell tokens apart, not enough to use one."""
    if len(token) <= 6:
        return "•" * len(token)
    return f"{token[:2]}…{token[-2:]}"


@dataclass(frozen=True)
class Step:
    name: str
    state: str  # done, current, failed or todo


def walk(status: str) -> list[Step]:
    """The status walk of an offline uploading, with where it stands now."""
    ends = {"PROCESSED": "current", "LINKAGE_FAILURE": "failed"}
    if status in ends:
        return [*(Step(s, "done") for s in WALK), Step(status, ends[status])]
    position = WALK.index(status) if status in WALK else 0
    steps = [
        Step(s, "done" if i < position else "current" if i == position else "todo")
        for i, s in enumerate(WALK)
    ]
    return [*steps, Step("PROCESSED", "todo")]


@dataclass(frozen=True)
class CounterLine:
    config: CounterConfig
    orders: int
    uploadings: int
    offline_uploadings: int


def counter_lines(emulator: Emulator) -> list[CounterLine]:
    return [
        CounterLine(
            config,
            len(emulator.orders_summary(config.counter_id)),
            len(emulator.last_uploadings(config.counter_id, limit=1000)),
            len(emulator.offline_uploadings(config.counter_id))
            + len(emulator.offline_uploadings(config.counter_id, calls=True)),
        )
        for config in emulator.counters()
    ]


@dataclass(frozen=True)
class OfflineLine:
    meta: OfflineUploading
    kind: str
    steps: list[Step]


def offline_lines(emulator: Emulator, counter_id: int) -> list[OfflineLine]:
    """Offline conversions and calls uploadings, newest first, each with its status walk."""
    lines = [
        OfflineLine(meta, kind, walk(str(meta.status)))
        for kind, calls in (("conversions", False), ("calls", True))
        for meta in emulator.offline_uploadings(counter_id, calls=calls)
    ]
    return sorted(lines, key=lambda line: (line.meta.create_time, line.meta.id), reverse=True)


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    number: int
    pages: int
    total: int


def orders_page(emulator: Emulator, counter_id: int, number: int) -> Page:
    orders = emulator.orders_summary(counter_id)
    pages = max(1, -(-len(orders) // ORDERS_PER_PAGE))
    number = min(max(number, 1), pages)
    start = (number - 1) * ORDERS_PER_PAGE
    return Page(orders[start : start + ORDERS_PER_PAGE], number, pages, len(orders))


@dataclass(frozen=True)
class SourceLine:
    source: str | None
    name: str
    values: dict[str, float]


def order_sources(emulator: Emulator, counter_id: int, model: Attribution) -> list[SourceLine]:
    """ "Order sources from CRM" under one attribution model, most orders first."""
    lines = [
        SourceLine(
            row.dimension,
            source_name(row.dimension),
            {name: float(row.metrics.get(metric) or 0) for name, metric in SOURCE_METRICS},
        )
        for row in emulator.order_sources(counter_id, attribution=model)
    ]
    return sorted(lines, key=lambda line: (-line.values["orders"], line.name))


def models_side_by_side(emulator: Emulator, counter_id: int) -> dict[str, dict[str, float]]:
    """Orders per source under every attribution model: ``{source name: {model: orders}}``."""
    table: dict[str, dict[str, float]] = {}
    for model in Attribution:
        for line in order_sources(emulator, counter_id, model):
            table.setdefault(line.name, {})[model.value] = line.values["orders"]
    return dict(sorted(table.items()))


@dataclass(frozen=True)
class GoalLine:
    goal_id: int
    name: str
    reaches: int
    revenue: Decimal
    by_source: list[tuple[str, int]]


def goal_lines(emulator: Emulator, config: CounterConfig, model: Attribution) -> list[GoalLine]:
    """Goal reaches and revenue per goal, split by attributed source."""
    names = {goal.id: goal.name for goal in config.goals}
    lines = []
    for goal_id, sources in emulator.goal_report(config.counter_id, attribution=model).items():
        lines.append(
            GoalLine(
                goal_id,
                names.get(goal_id, str(goal_id)),
                sum(reaches for reaches, _ in sources.values()),
                sum((revenue for _, revenue in sources.values()), Decimal(0)),
                sorted(
                    ((source_name(s), reaches) for s, (reaches, _) in sources.items()),
                    key=lambda pair: -pair[1],
                ),
            )
        )
    return sorted(lines, key=lambda line: (-line.reaches, line.name))


def orders_on_visits(
    emulator: Emulator, counter_id: int, visit_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """The orders linked to any of ``visit_ids`` (what a visitor's visits brought)."""
    wanted = set(visit_ids)
    return [o for o in emulator.orders_summary(counter_id) if o["linked_visit_id"] in wanted]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str


def charts(
    sources: Sequence[SourceLine], goals: Sequence[GoalLine], money: Callable[[Any], str]
) -> dict[str, list[Bar]]:
    """The report charts' bars: orders and profit by source, reaches by goal."""
    return {
        "orders": [
            Bar(
                s.name,
                s.values["orders"],
                f"orders {money(s.values['orders'])}, paid {money(s.values['paid'])}",
            )
            for s in sources
        ],
        "profit": [
            Bar(s.name, max(s.values["profit"], 0), money(s.values["profit"])) for s in sources
        ],
        "goals": [Bar(g.name, g.reaches, f"reaches {money(g.reaches)}") for g in goals],
    }


@dataclass(frozen=True)
class ErrorItem:
    message: str
    location: str | None


def error_items(entry: Entry) -> list[ErrorItem]:
    """The errors of a refused request's envelope (a rejected upload's row errors)."""
    try:
        body = json.loads(entry.error_body)
    except ValueError:
        text = entry.error_body.decode("utf-8", "replace").strip()
        return [ErrorItem(text, None)] if text else []
    if not isinstance(body, dict):
        return []
    items = [
        ErrorItem(str(item.get("message", "")), item.get("location"))
        for item in body.get("errors", [])
        if isinstance(item, dict)
    ]
    return items or [ErrorItem(str(body.get("message", "")), None)]
