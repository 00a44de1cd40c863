"""Shared builders for the engine tests: a counter, visits and records in a few words."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from emulator import CounterConfig, Emulator, Goal, Order, RuleSet, SimpleOrder, Visit
from emulator.identity import md5_hex

MSK = ZoneInfo("Europe/Moscow")
COUNTER = 2215573
DAY = timedelta(days=1)


def msk(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=MSK)


def make_emulator(
    tmp_path,
    goals: tuple[Goal, ...] = (),
    rules: RuleSet | None = None,
    now: datetime | None = None,
) -> Emulator:
    """An engine on a real SQLite file with one counter in Europe/Moscow."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    emu = Emulator(tmp_path / "engine.sqlite3")
    emu.put_counter(
        CounterConfig(
            COUNTER, "Europe/Moscow", rules or RuleSet(), goals, {"token": ("metrika:write",)}
        )
    )
    if now is not None:
        emu.set_clock(now)
    return emu


def visit(
    visit_id: int,
    client_id: int,
    start: datetime,
    source: str = "organic",
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    **extra: object,
) -> Visit:
    return Visit(
        visit_id=visit_id,
        client_id=client_id,
        start_time=start,
        traffic_source=source,
        email_md5=tuple(md5_hex(e) for e in emails),
        phone_md5=tuple(md5_hex(p) for p in phones),
        **extra,  # type: ignore[arg-type]
    )


def order(
    order_id: str,
    created: datetime,
    status: str,
    customer: str = "c1",
    revenue: str | None = None,
    cost: str | None = None,
    **extra: object,
) -> Order:
    return Order(
        id=order_id,
        client_uniq_id=customer,
        create_date_time=created,
        order_status=status,
        revenue=None if revenue is None else Decimal(revenue),
        cost=None if cost is None else Decimal(cost),
        **extra,  # type: ignore[arg-type]
    )


def simple(
    order_id: str | None,
    created: datetime,
    client_ids: tuple[int, ...] = (),
    status: str | None = None,
    **extra: object,
) -> SimpleOrder:
    return SimpleOrder(
        create_date_time=created,
        id=order_id,
        client_ids=client_ids or None,
        order_status=status,
        **extra,  # type: ignore[arg-type]
    )


def goal_names(emu: Emulator, order_id: str) -> list[str]:
    return [reach["goal"] for reach in emu.order(COUNTER, order_id).goal_reaches]


def codes(emu: Emulator, order_id: str) -> list[str]:
    return [d["code"] for d in emu.order(COUNTER, order_id).decisions]
