"""The engine at scale, through HTTP: a real ``crmemu serve`` on a file database.

Every figure is printed beside a floor measured in the same run on the same data, as a ratio:

- visits loaded (``POST /_emulator/counters/{id}/visits``, CSV) beside pyarrow reading the file;
- a simple-orders upload applied beside pyarrow parsing the file plus a DuckDB ASOF join of the
  same orders to the same visits (target: ≤ 10×), each the median of three;
- the latency of another counter's reads while a second upload of that size is applied (target:
  ≤ 0.2 s), and that upload's time beside the first one's;
- ``/stat/v1/data`` by source beside DuckDB grouping the visits by source;
- the first upload after a restart beside the same upload on a warm server (target: ≤ 3 s at
  1M visits, ≤ 10 s at 10M);
- the server's peak RSS over the whole run (target: ≤ 1 GB);
- optionally (``--big-upload-mb``) a large simple-orders upload on a fresh server, with its peak
  RSS beside the file size.

    python benchmarks/engine_scale.py                                   # 1M visits, 100k orders
    python benchmarks/engine_scale.py --visits 30000000 --orders 10000  # a small upload, 30M visits
    python benchmarks/engine_scale.py --visits 100000 --orders 10000 --big-upload-mb 1024
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

COUNTER, OTHER = 2215573, 42
TOKEN = "crmemu-token"
AUTH = {"Authorization": f"OAuth {TOKEN}"}
T0 = 1_717_200_000  # 2024-06-01 00:00 UTC: the clock stands a day after the last order
DAY = 86_400
SOURCES = np.array(["organic", "ad", "direct", "referral", "social", "email"])
MSK = 3 * 3600


REPEATS = 3
"""Uploads (and floors) timed per size; the table gives their medians."""

VISITS_PER_REQUEST = 5_000_000
"""A visit load's body stays under the 1 GB upload limit: bigger loads take several requests."""


def write_visits(path: Path, n: int, seed: int) -> np.ndarray:
    """``n`` visits of ``n // 3`` visitors over the 20 days before T0 (in files of at most
    :data:`VISITS_PER_REQUEST` rows: ``path``, ``path.1``…); returns the ClientIDs."""
    rng = np.random.default_rng(seed)
    clients = 10**17 + rng.integers(0, max(n // 3, 1), n, dtype=np.int64)
    table = pa.table(
        {
            "visit_id": np.arange(1, n + 1, dtype=np.int64),
            "client_id": clients,
            "start_time": T0 - 2 * DAY - rng.integers(0, 18 * DAY, n),
            "traffic_source": SOURCES[rng.integers(0, len(SOURCES), n)],
            "utm_source": np.where(rng.random(n) < 0.3, "yandex", ""),
        }
    )
    for part, start in enumerate(range(0, n, VISITS_PER_REQUEST)):
        pacsv.write_csv(table.slice(start, VISITS_PER_REQUEST), visit_part(path, part))
    return clients


def visit_part(path: Path, part: int) -> Path:
    return path if part == 0 else path.with_suffix(f".{part}.csv")


def visit_parts(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}*.csv"), key=lambda p: len(p.name))


def order_table(n: int, clients: np.ndarray, seed: int, first_id: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    picked = clients[rng.integers(0, len(clients), n)]
    created = T0 - DAY - rng.integers(0, DAY, n)
    local = (created + MSK).astype("datetime64[s]").astype(str)
    return pa.table(
        {
            "id": [f"o{first_id + i}" for i in range(n)],
            "create_date_time": np.char.replace(local, "T", " "),
            "client_ids": picked.astype(str),
            "order_status": np.array(["PAID", "IN_PROGRESS"])[rng.integers(0, 2, n)],
            "revenue": rng.integers(100, 100_000, n),
            "cost": rng.integers(0, 100, n),
        }
    )


def write_orders(path: Path, n: int, clients: np.ndarray, seed: int, first_id: int = 0) -> None:
    pacsv.write_csv(order_table(n, clients, seed, first_id), path)


# -- floors measured in this process ---------------------------------------------------------
def floor_upload(orders: Path, visits: Path) -> tuple[float, float]:
    """pyarrow parsing the orders file, and DuckDB's ASOF join of those orders to the visits."""
    import duckdb

    start = time.perf_counter()
    table = pacsv.read_csv(orders)
    parse = time.perf_counter() - start
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE v AS SELECT client_id, start_time, visit_id "
        f"FROM read_csv({[str(p) for p in visit_parts(visits)]})"
    )
    o = pa.table(
        {
            "k": table.column("client_ids").cast(pa.string()).cast(pa.int64()),
            "t": pa.array(np.zeros(len(table), np.int64) + T0 - DAY),
        }
    )
    con.register("o", o)
    start = time.perf_counter()
    con.execute(
        "SELECT o.k, v.visit_id FROM o ASOF LEFT JOIN v "
        "ON o.k = v.client_id AND o.t >= v.start_time"
    ).fetchnumpy()
    join = time.perf_counter() - start
    return parse, join


def floor_report(visits: Path) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE v AS SELECT * FROM read_csv({[str(p) for p in visit_parts(visits)]})"
    )
    start = time.perf_counter()
    con.execute("SELECT traffic_source, count(*) FROM v GROUP BY 1").fetchall()
    return time.perf_counter() - start


# -- the server ----------------------------------------------------------------------------
class Server:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> float:
        """Start ``crmemu serve``; returns the seconds until it answers."""
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator",
                "serve",
                "--port",
                "0",
                "--db",
                str(self.db),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"(http://[^\s]+)", line)
        if not found:
            raise RuntimeError(f"no URL in {line!r}")
        self.url = found.group(1)
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        return time.perf_counter() - began

    def peak_rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)
            self.process = None


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


def upload(client: httpx.Client, path: Path, counter: int = COUNTER) -> dict:
    with open(path, "rb") as body:
        response = client.post(
            f"/cdp/api/v1/counter/{counter}/data/simple_orders",
            params={"merge_mode": "SAVE"},
            files={"file": ("orders.csv", body, "text/csv")},
            headers=AUTH,
        )
    response.raise_for_status()
    return response.json()


def poll_reads(client_url: str, stop: threading.Event, latencies: list[float]) -> None:
    """Reads of another counter, back to back, until ``stop``."""
    with httpx.Client(base_url=client_url, timeout=120) as client:
        while not stop.is_set():
            start = time.perf_counter()
            client.get(
                f"/cdp/api/v1/counter/{OTHER}/last_uploadings", headers=AUTH
            ).raise_for_status()
            latencies.append(time.perf_counter() - start)
            time.sleep(0.05)  # within the 30 requests per second per IP quota


def row(name: str, seconds: float, floor: float, floor_name: str, target: str = "") -> str:
    ratio = seconds / floor if floor else float("nan")
    return f"{name:<44} {seconds:9.3f} s  {floor_name:<34} {floor:8.3f} s  {ratio:7.1f}×  {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--restart-orders", type=int, default=1_000)
    parser.add_argument("--big-upload-mb", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="engine-scale-"))
    visits, orders, small = work / "visits.csv", work / "orders.csv", work / "small.csv"
    clients = write_visits(visits, args.visits, args.seed)
    write_orders(orders, args.orders, clients, args.seed + 1)
    write_orders(small, args.restart_orders, clients, args.seed + 2, first_id=10**9)
    print(
        f"data in {work}: {args.visits:,} visits "
        f"({sum(p.stat().st_size for p in visit_parts(visits)) / 1e6:.0f} MB), "
        f"{args.orders:,} orders ({orders.stat().st_size / 1e6:.1f} MB)"
    )
    server = Server(work / "state.sqlite3")
    server.start()
    lines = []
    client = httpx.Client(base_url=server.url, timeout=3600)
    try:
        client.post(
            "/_emulator/clock", json={"now": "2024-06-01T00:00:00+00:00"}
        ).raise_for_status()
        client.put(
            f"/_emulator/counters/{OTHER}", json={"tokens": {TOKEN: ["metrika:read"]}}
        ).raise_for_status()
        start = time.perf_counter()
        for part in visit_parts(visits):
            pacsv.read_csv(part)
        read_floor = time.perf_counter() - start
        with timed() as took:
            for part in visit_parts(visits):
                with open(part, "rb") as body:
                    client.post(
                        f"/_emulator/counters/{COUNTER}/visits",
                        content=body,
                        headers={"Content-Type": "text/csv"},
                    ).raise_for_status()
        lines.append(
            row(
                f"{args.visits:,} visits loaded",
                took[0],
                read_floor,
                "pyarrow reads the CSV",
                "≤ 5 s at 1M",
            )
        )
        # Single timings move by 15 % on a shared machine: the upload and its floor are each
        # the median of REPEATS (the uploads carry new ids each time, so every one creates).
        floors = [sum(floor_upload(orders, visits)) for _ in range(REPEATS)]
        took = []
        for attempt in range(REPEATS):
            if attempt:
                first_id = (4 + attempt) * 10**9
                write_orders(orders, args.orders, clients, args.seed + 10 + attempt, first_id)
            with timed() as one:
                upload(client, orders)
            took.append(one[0])
        lines.append(
            row(
                f"{args.orders:,}-order upload applied (median)",
                statistics.median(took),
                statistics.median(floors),
                "pyarrow parse + DuckDB ASOF join",
                "≤ 10× (10k orders: ≤ 0.5 s at 30M)",
            )
        )
        # The same size again, while another counter is read back to back (the reads share the
        # server's CPU, so this upload is timed apart from the one above).
        write_orders(orders, args.orders, clients, args.seed + 4, first_id=3 * 10**9)
        stop, latencies = threading.Event(), []
        poller = threading.Thread(target=poll_reads, args=(server.url, stop, latencies))
        poller.start()
        with timed() as busy:
            upload(client, orders)
        stop.set()
        poller.join()
        lines.append(
            row("the same size while reads run", busy[0], statistics.median(took), "without them")
        )
        if latencies:
            worst = max(latencies)
            lines.append(
                row(
                    "another counter's read during it (worst)",
                    worst,
                    statistics.median(latencies),
                    "its median",
                    "≤ 0.2 s",
                )
            )
        report_floor = floor_report(visits)
        params = {
            "ids": COUNTER,
            "metrics": ",".join(
                f"ym:s:{m}"
                for m in ("visits", "cdpOrdersAllOrders", "cdpOrdersPayed", "cdpOrdersRUBRevenue")
            ),
            "dimensions": "ym:s:lastsignTrafficSource",
            "date1": "2024-05-01",
            "date2": "2024-06-01",
        }
        with timed() as took:
            client.get("/stat/v1/data", params=params, headers=AUTH).raise_for_status()
        lines.append(
            row(
                "/stat/v1/data by source",
                took[0],
                report_floor,
                "DuckDB GROUP BY source",
                "≤ 2 s at 1M",
            )
        )
        with timed() as warm:
            upload(client, small)
        server.stop()
        server.start()
        client = httpx.Client(base_url=server.url, timeout=3600)
        write_orders(small, args.restart_orders, clients, args.seed + 3, first_id=2 * 10**9)
        with timed() as took:
            upload(client, small)
        lines.append(
            row(
                f"first {args.restart_orders:,}-order upload after a restart",
                took[0],
                warm[0],
                "the same upload, warm",
                "≤ 3 s at 1M",
            )
        )
        lines.append(
            f"{'server peak RSS (whole run after restart)':<44} {server.peak_rss_mb():9.0f} MB"
        )
    finally:
        client.close()
        server.stop()
    if args.big_upload_mb:
        lines += big_upload(work, clients, args.big_upload_mb, args.seed)
    print("\n".join(lines))


def big_upload(work: Path, clients: np.ndarray, megabytes: int, seed: int) -> list[str]:
    """A simple-orders file of about ``megabytes`` on a fresh server: time and peak RSS."""
    path = work / "big.csv"
    rows = 0
    with open(path, "wb") as out:
        while out.tell() < megabytes * 1_000_000:
            table = order_table(500_000, clients, seed + rows, first_id=rows)
            pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=rows == 0))
            rows += len(table)
    server = Server(work / "big.sqlite3")
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=36_000) as client:
            client.post(
                "/_emulator/clock", json={"now": "2024-06-01T00:00:00+00:00"}
            ).raise_for_status()
            with timed() as took:
                upload(client, path)
            peak = server.peak_rss_mb()
    finally:
        server.stop()
    size = path.stat().st_size / 1e6
    os.remove(path)
    return [
        f"{f'{size:,.0f} MB simple-orders upload ({rows:,} rows)':<44} {took[0]:9.1f} s",
        f"{'server peak RSS during it':<44} {peak:9.0f} MB  "
        f"({peak / size:.2f}× the file; target ≤ 1 GB)",
    ]


if __name__ == "__main__":
    main()
