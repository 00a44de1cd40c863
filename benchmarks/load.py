"""Latency of small reads while large uploads run, and the server's peak memory.

    python benchmarks/load.py [--upload-mb 20] [--uploaders 3] [--reads 300] [--seconds 30]

Starts ``crmemu serve`` on 127.0.0.1 (a fresh state file in a temporary directory) and
measures, in the same run:

- the floor: p50/p99 of ``--reads`` small reads (``GET last_uploadings``) on the idle server,
  and its resident memory once warmed up;
- the load: the same reads (at most ``--seconds`` of them) while ``--uploaders`` clients each
  upload simple-orders files of ``--upload-mb`` MB, one after another, to their own counter
  (and then a second round to one shared counter, which admission control queues);
- the server's peak RSS (``VmHWM``) after each phase.

Figures are printed beside the floor as ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serve_support import start_server

TOKEN = "load-token"
COUNTERS = (1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008)
HEADER = b"id,create_date_time,client_ids,order_status,revenue\n"


def config_text() -> str:
    tables = [
        f'[[counters]]\nid = {c}\ntokens = {{ "{TOKEN}" = ["metrika:read", "metrika:write"] }}'
        for c in COUNTERS
    ]
    return "[quotas]\nenabled = false\n\n" + "\n\n".join(tables) + "\n"


def upload_file(megabytes: float) -> bytes:
    row = b"order-%09d,10.01.2024 11:56,%d,PAID,%d\n"
    rows = int(megabytes * 1e6 / len(row % (0, 1, 1)))
    return HEADER + b"".join(row % (n, n + 1, n % 997) for n in range(rows))


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def read_latencies(url: str, count: int, seconds: float = float("inf")) -> list[float]:
    """Seconds each of ``count`` small reads took (fewer once ``seconds`` have passed)."""
    path = f"/cdp/api/v1/counter/{COUNTERS[-1]}/last_uploadings"
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    with httpx.Client(
        base_url=url, headers={"Authorization": f"OAuth {TOKEN}"}, timeout=None
    ) as client:
        while len(times) < count and (len(times) < 5 or time.perf_counter() < deadline):
            start = time.perf_counter()
            client.get(path).raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def uploads(url: str, counters: list[int], body: bytes, stop: threading.Event) -> list[int]:
    """Each counter's client uploads ``body`` until ``stop``; returns the statuses."""
    statuses: list[int] = []

    def run(counter: int) -> None:
        path = f"/cdp/api/v1/counter/{counter}/data/simple_orders"
        with httpx.Client(base_url=url, headers={"Authorization": f"OAuth {TOKEN}"}) as client:
            while not stop.is_set():
                response = client.post(
                    path, params={"merge_mode": "SAVE"}, files={"file": body}, timeout=600
                )
                statuses.append(response.status_code)

    threads = [threading.Thread(target=run, args=(c,)) for c in counters]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join()
    return statuses


def loaded_phase(
    url: str, counters: list[int], body: bytes, reads: int, seconds: float
) -> tuple[list, list]:
    stop = threading.Event()
    result: list[list[int]] = []
    worker = threading.Thread(target=lambda: result.append(uploads(url, counters, body, stop)))
    worker.start()
    time.sleep(1.0)  # let the uploads get going
    try:
        times = read_latencies(url, reads, seconds)
    finally:
        stop.set()
        worker.join()
    return times, result[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mb", type=float, default=20.0)
    parser.add_argument("--uploaders", type=int, default=3)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    body = upload_file(args.upload_mb)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "serve.toml"
        config.write_text(config_text())
        db = str(Path(folder) / "state.sqlite3")
        served = start_server(Path(folder) / "log", "--db", db, "--config", str(config))
        try:
            read_latencies(served.url, 50)  # warm up
            floor = percentiles(read_latencies(served.url, args.reads))
            idle_rss, _ = peak_rss_mb(served.process.pid)
            print(f"upload file: {len(body) / 1e6:.1f} MB; {args.reads} reads per phase")
            print(f"idle:  p50 {floor[0]:6.2f} ms  p99 {floor[1]:6.2f} ms  RSS {idle_rss:.0f} MB")
            phases = (
                (f"{args.uploaders} counters", list(COUNTERS[: args.uploaders])),
                (f"{args.uploaders} on one", [COUNTERS[0]] * args.uploaders),
            )
            for name, counters in phases:
                times, statuses = loaded_phase(served.url, counters, body, args.reads, args.seconds)
                p50, p99 = percentiles(times)
                _, peak = peak_rss_mb(served.process.pid)
                print(
                    f"{name}: {len(times)} reads, p50 {p50:6.2f} ms ({p50 / floor[0]:.1f}x)  "
                    f"p99 {p99:6.2f} ms ({p99 / floor[1]:.1f}x)  peak RSS {peak:.0f} MB "
                    f"({peak / idle_rss:.1f}x idle)  uploads {len(statuses)}, "
                    f"non-200 {sum(s != 200 for s in statuses)}"
                )
        finally:
            served.stop()


if __name__ == "__main__":
    main()
