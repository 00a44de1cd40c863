"""The reference engine end to end: parse, validate, link and fire goals for a simple-orders file.

python -m pytest benchmarks/bench_engine.py --benchmark-columns=min,median,max,rounds
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from emulator import CounterConfig, Emulator, Visit

BASE = datetime(2024, 3, 1, tzinfo=UTC)
MSK = timedelta(hours=3)


def _world(orders: int) -> tuple[list[Visit], bytes]:
    visitors = max(orders // 3, 1)
    visits = [
        Visit(i + 1, 10_000 + i % visitors, BASE + timedelta(seconds=30 * i)) for i in range(orders)
    ]
    out = io.StringIO()
    out.write("id,create_date_time,client_ids,order_status,revenue,cost\n")
    for i in range(orders):
        created = (BASE + timedelta(seconds=30 * i + 60) + MSK).strftime("%Y-%m-%d %H:%M:%S")
        out.write(f"o{i},{created},{10_000 + i % visitors},PAID,{100 + i % 900},{i % 50}\n")
    return visits, out.getvalue().encode()


@pytest.mark.parametrize("orders", [1_000, 10_000])
def test_upload_simple_orders(benchmark, orders):
    visits, body = _world(orders)

    def setup():
        emu = Emulator(":memory:")
        emu.put_counter(CounterConfig(1, "Europe/Moscow"))
        emu.set_clock(BASE + timedelta(days=10))
        emu.load_visits(1, visits)
        return (emu,), {}

    def upload(emu: Emulator) -> None:
        assert emu.upload_simple_orders(1, body, "SAVE").elements_count == orders

    benchmark.pedantic(upload, setup=setup, rounds=3)


def test_load_visits(benchmark):
    visits, _ = _world(10_000)

    def setup():
        emu = Emulator(":memory:")
        emu.put_counter(CounterConfig(1, "Europe/Moscow"))
        return (emu,), {}

    benchmark.pedantic(lambda emu: emu.load_visits(1, visits), setup=setup, rounds=3)
