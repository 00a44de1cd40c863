"""Report features at scale, in process: filters, ``SourceEngine``, ``bytime`` and
``comparison`` beside the plain table report and beside DuckDB grouping the same visits.

Every figure is a ratio to peers measured in the same run on the same data: the plain
``/stat/v1/data`` table by source (``report/plain``) and a DuckDB ``GROUP BY`` of the visits
by source (``report/duck``). Peak RSS of the process closes the run.

    python benchmarks/report_features.py                  # 2M visits, 100k orders
    python benchmarks/report_features.py --visits 10000000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from emulator import CounterConfig, Emulator
from emulator.formats.visits import SCHEMA

COUNTER = 2215573
T0 = 1_717_200_000  # 2024-06-01 00:00 UTC
DAY = 86_400
SOURCES = [
    ("organic", "Yandex"),
    ("organic", "Google"),
    ("ad", "Yandex Direct"),
    ("ad", "Google Ads"),
    ("social", "vk.com"),
    ("referral", "otzovik.com"),
    ("direct", None),
]
UTMS = np.array(["yandex", "google", "vk", "newsletter", None], dtype=object)


def visits(n: int, seed: int) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    clients = 10**17 + rng.integers(0, max(n // 3, 1), n, dtype=np.int64)
    pick = rng.integers(0, len(SOURCES), n)
    columns = {name: pa.nulls(n, SCHEMA.field(name).type) for name in SCHEMA.names}
    columns |= {
        "visit_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "client_id": pa.array(clients.astype(np.uint64)),
        "start_time": pa.array(T0 - rng.integers(1, 30 * DAY, n, dtype=np.int64)),
        "duration": pa.array(np.zeros(n, np.int64)),
        "traffic_source": pa.array([SOURCES[i][0] for i in range(len(SOURCES))]).take(pick),
        "source_detail": pa.array([SOURCES[i][1] for i in range(len(SOURCES))]).take(pick),
        "utm_source": pa.array(UTMS[rng.integers(0, len(UTMS), n)].tolist(), pa.string()),
    }
    return pa.table(columns, schema=SCHEMA), clients


def orders_csv(clients: np.ndarray, n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed + 1)
    chosen = rng.choice(clients, n, replace=False) if n < len(clients) else clients
    lines = ["id,create_date_time,client_ids,order_status,revenue,cost"]
    when = datetime.fromtimestamp(T0 - 2 * DAY, UTC).strftime("%d.%m.%Y %H:%M")
    for i, client in enumerate(chosen.tolist()):
        status = "PAID" if i % 3 else "IN_PROGRESS"
        lines.append(f"o{i},{when},{client},{status},{100 + i % 900},50")
    return ("\n".join(lines) + "\n").encode()


def timed(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import duckdb

    table, clients = visits(args.visits, args.seed)
    emu = Emulator()
    emu.put_counter(CounterConfig(COUNTER, "Europe/Moscow"))
    emu.set_clock(datetime.fromtimestamp(T0, UTC))
    emu.load_visits(COUNTER, table)
    emu.upload_simple_orders(COUNTER, orders_csv(clients, args.orders, args.seed), "SAVE")

    con = duckdb.connect()
    con.register("v", table)
    query = "SELECT traffic_source, count(*) FROM v GROUP BY 1"
    duck = timed(lambda: con.execute(query).fetchall())

    metrics = ["ym:s:visits", "ym:s:cdpOrdersAllOrders", "ym:s:cdpOrders<currency>Revenue"]
    sources = ["ym:s:lastsignTrafficSource"]
    dates = {"date1": "2024-05-01", "date2": "2024-06-01"}
    segment = (
        "ym:s:lastsignTrafficSource=.('organic','ad') AND (ym:s:lastsignUTMSource=~'^(ya|go)' "
        "OR ym:s:date>='2024-05-20')"
    )
    runs = {
        "table by source": lambda: emu.report(COUNTER, metrics, sources, **dates),
        "+ SourceEngine": lambda: emu.report(
            COUNTER, metrics, [*sources, "ym:s:lastsignSourceEngine"], **dates
        ),
        "+ filters": lambda: emu.report(COUNTER, metrics, sources, filters=segment, **dates),
        "bytime by day": lambda: emu.report_bytime(COUNTER, metrics, sources, "day", **dates),
        "comparison": lambda: emu.report_comparison(
            COUNTER,
            metrics,
            sources,
            a={"date1": "2024-05-01", "date2": "2024-05-15"},
            b={"date1": "2024-05-16", "date2": "2024-06-01", "filters": segment},
        ),
    }
    runs["table by source"]()  # attribution and codes are kept with the visit table
    plain = timed(runs["table by source"])
    print(f"{args.visits:,} visits, {args.orders:,} orders; DuckDB GROUP BY source {duck:.3f} s")
    print(f"{'report':<18} {'seconds':>8} {'/plain':>7} {'/duck':>7}")
    for name, run in runs.items():
        took = plain if name == "table by source" else timed(run)
        print(f"{name:<18} {took:8.3f} {took / plain:7.2f} {took / duck:7.1f}")
    print(f"peak RSS {peak_mb():.0f} MB")
    emu.close()


if __name__ == "__main__":
    main()
