"""Admission of large uploads (emulator.api.admission): one per counter, within a budget."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from tempfile import SpooledTemporaryFile

import httpx

from emulator import CounterConfig, Emulator
from emulator.api import ApiSettings, LiveServer, QuotaSettings, create_app
from emulator.api.admission import Admission


async def run_all(admission: Admission, uploads: list[tuple[str, int]]) -> list[str]:
    """Admit ``uploads`` (counter, size) at once; return the order of entries and exits."""
    log: list[str] = []

    async def one(name: str, key: str, size: int) -> None:
        async with admission.admit(key, size):
            log.append(f"+{name}")
            await asyncio.sleep(0.01)
            log.append(f"-{name}")

    await asyncio.gather(*(one(f"{key}{n}", key, size) for n, (key, size) in enumerate(uploads)))
    assert admission.in_use == 0
    return log


def test_one_large_upload_per_counter_at_a_time():
    log = asyncio.run(run_all(Admission(1000, 10), [("a", 50), ("a", 50), ("b", 50)]))
    assert log.index("-a0") < log.index("+a1")  # same counter: queued
    assert log.index("+b2") < log.index("-a0")  # another counter: at once


def test_the_budget_bounds_uploads_of_different_counters():
    log = asyncio.run(run_all(Admission(100, 10), [("a", 60), ("b", 60), ("c", 40)]))
    assert log.index("-a0") < log.index("+b1")
    # Arrival order holds: c fits beside a but waits behind b rather than overtake it.
    assert log.index("+b1") < log.index("+c2")


def test_small_uploads_pass_and_an_upload_over_the_budget_runs_alone():
    log = asyncio.run(run_all(Admission(100, 10), [("a", 5), ("b", 500), ("c", 60), ("d", 10)]))
    assert log[:2] == ["+a0", "+b1"]  # a is small; b takes the whole budget
    assert log.index("-b1") < log.index("+c2")
    assert log.index("+d3") < log.index("-a0")


def test_a_waiting_upload_moves_to_disk_and_a_cancelled_one_leaves_the_queue():
    async def scenario() -> tuple[bool, bool, int]:
        admission = Admission(100, 10)
        with SpooledTemporaryFile(max_size=1 << 20) as spool:
            spool.write(b"x" * 500)
            async with admission.admit("a", 100):
                waiter = asyncio.create_task(admission.admit("b", 100, spool).__aenter__())
                await asyncio.sleep(0.01)
                rolled = spool._rolled
                waiter.cancel()
                await asyncio.gather(waiter, return_exceptions=True)
        async with admission.admit("c", 100):
            free = admission.in_use
        return rolled, waiter.cancelled(), free

    assert asyncio.run(scenario()) == (True, True, 100)


def test_concurrent_large_uploads_to_one_counter_all_succeed(tmp_path):
    emu = Emulator(tmp_path / "state.sqlite3")
    emu.put_counter(CounterConfig(7, tokens={"t": ("metrika:write", "metrika:read")}))
    settings = ApiSettings(
        spool_memory_bytes=256, upload_budget_bytes=4096, quotas=QuotaSettings(enabled=False)
    )
    path = "/cdp/api/v1/counter/7/data/simple_orders?merge_mode=APPEND"

    def upload(n: int) -> int:
        rows = "".join(f"u{n}-{k},10.01.2024 11:56,{k + 1},PAID,1\n" for k in range(200))
        body = f"id,create_date_time,client_ids,order_status,revenue\n{rows}"
        with httpx.Client(base_url=live.base_url, headers={"Authorization": "OAuth t"}) as c:
            return c.post(path, files={"file": body.encode()}, timeout=60).status_code

    with LiveServer(create_app(emu, settings)) as live, ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(upload, range(6)))
    assert statuses == [200] * 6
    assert len(emu.order_ids(7)) == 6 * 200
    emu.close()
