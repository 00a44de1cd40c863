"""Link orders to visits: the emulator's kernel beside DuckDB, polars and pandas ASOF joins.

Workload (issue 3, "Performance orientation" in the design notes): visits of a
pool of ClientIDs spread over ``--days`` days; each order carries one ClientID
(a tenth of them unknown), a creation time, and ``not_before`` = processing time
− ``--lookback-days``. Every engine must give each order the latest visit of its
ClientID that started at or before the order and not before ``not_before``.

Each engine runs in its own subprocess so that its peak RSS is its own. Times are
split in two, because the emulator keeps its visit index between uploads:

- ``setup``: what is done once per visit load (numpy: build the ``VisitIndex``;
  DuckDB: copy the visits into a table; polars/pandas: build and sort the frame);
- ``link``: what every upload of orders costs (the join, the not-before check, and
  the answer as one array in order order).

The engines must agree: the linked visit's start time per order is compared
exactly; rows may differ only between visits with equal start times, where the
emulator's rule (larger row) is not something an ASOF join promises.

    python benchmarks/link_vs_duckdb.py                      # 10M visits, 1M orders
    python benchmarks/link_vs_duckdb.py --visits 100000 --orders 10000 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DAY = 86_400
EPOCH = 1_700_000_000
COLUMNS = ("visit_keys", "visit_times", "visit_rows", "order_keys", "order_times", "not_before")


def make_workload(
    visits: int,
    orders: int,
    clients: int,
    days: int = 180,
    lookback_days: int = 21,
    seed: int = 1,
) -> dict[str, np.ndarray]:
    """Visits and orders as numpy columns (names in ``COLUMNS``)."""
    rng = np.random.default_rng(seed)
    # ClientID-like keys: a first-visit timestamp and nine random digits.
    pool = rng.integers(10**18, 2 * 10**18, size=clients, dtype=np.uint64)
    span = days * DAY
    order_keys = pool[rng.integers(0, clients, orders)]
    unknown = rng.random(orders) < 0.1
    order_keys[unknown] = rng.integers(2 * 10**18, 3 * 10**18, int(unknown.sum()), np.uint64)
    order_times = EPOCH + rng.integers(0, span, orders)
    processed = order_times + rng.integers(0, 3 * DAY, orders)
    return {
        "visit_keys": pool[rng.integers(0, clients, visits)],
        "visit_times": EPOCH + rng.integers(0, span, visits),
        "visit_rows": np.arange(visits, dtype=np.int64),
        "order_keys": order_keys,
        "order_times": order_times,
        "not_before": processed - lookback_days * DAY,
    }


# --- engines: setup(data) -> state; link(state, data) -> linked row per order (-1: none) ---


def visit_frame(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Visit columns for the join engines; ``vt`` keeps the start time past the join."""
    return {
        "k": data["visit_keys"],
        "t": data["visit_times"],
        "vt": data["visit_times"],
        "row": data["visit_rows"],
    }


def order_frame(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Order columns for the join engines; ``i`` puts the answers back in order."""
    return {
        "i": np.arange(data["order_keys"].size),
        "k": data["order_keys"],
        "t": data["order_times"],
        "nb": data["not_before"],
    }


def numpy_setup(data: dict[str, np.ndarray]) -> Any:
    from emulator.matching import VisitIndex

    return VisitIndex.build(data["visit_keys"], data["visit_times"], data["visit_rows"])


def kernel_link(kernel: str) -> Callable[[Any, dict[str, np.ndarray]], np.ndarray]:
    def link(index: Any, data: dict[str, np.ndarray]) -> np.ndarray:
        from emulator.matching import link_latest

        return link_latest(
            index, data["order_keys"], data["order_times"], data["not_before"], kernel=kernel
        )

    return link


def duckdb_setup(data: dict[str, np.ndarray]) -> Any:
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.register("visits_arrow", pa.table(visit_frame(data)))
    con.execute("CREATE TABLE visits AS SELECT * FROM visits_arrow")
    con.unregister("visits_arrow")
    return con


def duckdb_link(con: Any, data: dict[str, np.ndarray]) -> np.ndarray:
    import pyarrow as pa

    con.register("orders_arrow", pa.table(order_frame(data)))
    got = con.execute(
        """SELECT o.i, CASE WHEN v.t >= o.nb THEN v.row ELSE -1 END AS row
           FROM orders_arrow o ASOF LEFT JOIN visits v ON o.k = v.k AND o.t >= v.t"""
    ).fetchnumpy()
    con.unregister("orders_arrow")
    return scatter(got["i"], np.ma.filled(got["row"], -1), data)


def polars_setup(data: dict[str, np.ndarray]) -> Any:
    import polars as pl

    return pl.DataFrame(visit_frame(data)).sort(["k", "t"])


def polars_link(visits: Any, data: dict[str, np.ndarray]) -> np.ndarray:
    import polars as pl

    got = (
        pl.LazyFrame(order_frame(data))
        .sort(["k", "t"])
        .join_asof(visits.lazy(), on="t", by="k", strategy="backward", check_sortedness=False)
        .select("i", pl.when(pl.col("vt") >= pl.col("nb")).then("row").otherwise(-1).alias("row"))
        .collect()
    )
    return scatter(got["i"].to_numpy(), got["row"].to_numpy(), data)


def pandas_setup(data: dict[str, np.ndarray]) -> Any:
    import pandas as pd

    visits = pd.DataFrame(visit_frame(data))
    return visits.sort_values("t", kind="stable", ignore_index=True)


def pandas_link(visits: Any, data: dict[str, np.ndarray]) -> np.ndarray:
    import pandas as pd

    orders = pd.DataFrame(order_frame(data)).sort_values("t", kind="stable", ignore_index=True)
    got = pd.merge_asof(orders, visits, on="t", by="k", direction="backward")
    row = np.where(got["vt"].to_numpy(na_value=-1) >= got["nb"].to_numpy(), got["row"], -1)
    return scatter(got["i"].to_numpy(), row, data)


def scatter(order_ids: np.ndarray, rows: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
    """Answers back in order order (joins return them in their own order)."""
    out = np.full(data["order_keys"].size, -1, dtype=np.int64)
    out[order_ids] = np.asarray(rows, dtype=np.int64)
    return out


ENGINES: dict[str, tuple[Callable, Callable]] = {
    "numpy": (numpy_setup, kernel_link("numpy")),
    "numba": (numpy_setup, kernel_link("numba")),
    "duckdb": (duckdb_setup, duckdb_link),
    "polars": (polars_setup, polars_link),
    "pandas": (pandas_setup, pandas_link),
}


def memory_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in MiB.

    ``VmHWM`` rather than ``ru_maxrss``: the latter survives ``exec`` and would
    report the parent's footprint for a freshly started worker.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def run_engine(name: str, workdir: Path, repeats: int) -> dict[str, Any]:
    """Time one engine on the saved workload (runs inside the worker subprocess)."""
    data = {column: np.load(workdir / f"{column}.npy") for column in COLUMNS}
    setup, link = ENGINES[name]
    link(setup(make_workload(200, 20, 20)), make_workload(200, 20, 20))  # imports, JIT
    base = memory_mb("VmRSS")
    setups, links = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        state = setup(data)
        setups.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = link(state, data)
        links.append(time.perf_counter() - start)
        del state
    np.save(workdir / f"result_{name}.npy", rows)
    peak = memory_mb("VmHWM")
    return {
        "setup": float(np.median(setups)),
        "link": float(np.median(links)),
        "base_mb": base,
        "peak_mb": peak,
    }


def engine_available(name: str) -> bool:
    if name in ("numpy", "numba"):
        from emulator.matching import available_kernels

        return name in available_kernels()
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def compare(workdir: Path, names: list[str], times: np.ndarray) -> dict[str, str]:
    """How each engine's answer compares with the numpy kernel's."""
    reference = np.load(workdir / f"result_{names[0]}.npy")
    linked_time = np.where(reference >= 0, times[reference], np.iinfo(np.int64).min)
    verdicts = {}
    for name in names:
        rows = np.load(workdir / f"result_{name}.npy")
        their_time = np.where(rows >= 0, times[rows], np.iinfo(np.int64).min)
        if np.array_equal(rows, reference):
            verdicts[name] = "same rows"
        elif np.array_equal(their_time, linked_time):
            verdicts[name] = f"same times ({int((rows != reference).sum())} tie rows differ)"
        else:
            verdicts[name] = f"DIFFERENT ({int((their_time != linked_time).sum())} orders)"
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=None, help="default: visits / 10")
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--lookback-days", type=int, default=21)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_engine(args.worker, args.workdir, args.repeats)))
        return 0

    names = [n for n in args.engines.split(",") if engine_available(n)]
    clients = args.clients or max(1, args.visits // 10)
    with tempfile.TemporaryDirectory(prefix="link-bench-") as tmp:
        workdir = Path(tmp)
        data = make_workload(
            args.visits, args.orders, clients, args.days, args.lookback_days, args.seed
        )
        for column, values in data.items():
            np.save(workdir / f"{column}.npy", values)
        print(
            f"{args.visits:,} visits of {clients:,} ClientIDs over {args.days} days; "
            f"{args.orders:,} orders, {args.lookback_days}-day lookback; "
            f"median of {args.repeats}; {sys.platform}, {len(names)} engines"
        )
        results = {}
        for name in names:
            command = [sys.executable, __file__, "--worker", name, "--workdir", tmp]
            command += ["--repeats", str(args.repeats)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        verdicts = compare(workdir, names, data["visit_times"])
        linked = int((np.load(workdir / f"result_{names[0]}.npy") >= 0).sum())
    report(results, verdicts, linked, args.orders)
    return 0


def report(results: dict[str, dict], verdicts: dict[str, str], linked: int, orders: int) -> None:
    duck = results.get("duckdb")
    print(f"linked {linked:,} of {orders:,} orders")
    head = f"{'engine':8} {'setup s':>8} {'link s':>8} {'total s':>8}"
    head += f" {'link/duck':>9} {'total/duck':>10} {'peak MB':>8} {'extra MB':>8}  answer"
    print(head)
    for name, r in results.items():
        total = r["setup"] + r["link"]
        ratios = ("", "")
        if duck:
            ratios = (
                f"{r['link'] / duck['link']:.2f}",
                f"{total / (duck['setup'] + duck['link']):.2f}",
            )
        print(
            f"{name:8} {r['setup']:8.3f} {r['link']:8.3f} {total:8.3f} {ratios[0]:>9} "
            f"{ratios[1]:>10} {r['peak_mb']:8.0f} {r['peak_mb'] - r['base_mb']:8.0f}  "
            f"{verdicts[name]}"
        )


if __name__ == "__main__":
    sys.exit(main())
