"""The batch engine at 10M, 100M (and 300M) visits: ``--engine local`` and ``--engine dask``
beside one in-process engine over the whole world (where it fits) and the link kernel alone.

For each size a Parquet world is simulated (``crmemu simulate --parquet``, a month of the
default world at ``size / 30`` visits a day), then measured, each step in its own process so its
peak RSS is its own:

- ``batch local``: ``crmemu batch --engine local`` (one process);
- ``batch dask``: ``crmemu batch --engine dask --workers N`` (a local cluster of N worker
  processes): wall time, peak RSS of each worker, bytes shuffled between the stages;
- ``engine``: one :class:`~emulator.Emulator` fed every visit and every upload of the world, the
  way the batch feeds one partition (only up to ``--engine-max`` visits: it holds them all);
- ``kernel``: the ClientID link of every order row against every visit with
  :func:`emulator.matching.link_groups` in one process: a floor, not the rules.

It checks that ``local`` and ``dask`` wrote identical rows and, where the engine ran, that it
linked the same orders. Figures go to ``--json`` and a log-log plot of time against visits to
``--plot``; ``plot`` redraws the plot from the JSON.

    nice python benchmarks/scaleout.py run --sizes 1e7,1e8 --data /work/scaleout-data
    python benchmarks/scaleout.py plot
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "scenarios" / "sim" / "default.toml"
DAYS = 30
VISITS_PER_PART = 2_500_000
LABELS = {
    "batch_local": "crmemu batch --engine local (1 process)",
    "batch_dask": "crmemu batch --engine dask (2 worker processes)",
    "engine": "one in-process engine, whole world",
    "kernel": "link kernel alone (ClientID, one process)",
}


CLI = (
    "import resource, sys\n"
    "from emulator.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)\n"
    "sys.exit(code)"
)


LOADS: list[float] = []
"""The machine's 1-minute load average, sampled during each :func:`_run` (it is shared)."""


def _run(args: list[str]) -> tuple[float, str]:
    """Run a command under ``nice``; its wall time and standard output."""
    started = time.perf_counter()
    process = subprocess.Popen(["nice", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = err = b""
    while process.returncode is None:
        LOADS.append(os.getloadavg()[0])
        with contextlib.suppress(subprocess.TimeoutExpired):
            out, err = process.communicate(timeout=10)
    if process.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{err.decode()[-3000:]}")
    return time.perf_counter() - started, out.decode()


def _cli(args: list[str]) -> tuple[float, int]:
    """``crmemu ARGS`` in a child process: its wall time and peak RSS."""
    seconds, out = _run([sys.executable, "-c", CLI, *args])
    return seconds, int(out.strip().splitlines()[-1])


def _world(data: Path, visits: int) -> tuple[Path, dict[str, Any]]:
    path = data / f"world-{visits:.0e}".replace("+", "")
    parts = max(8, math.ceil(visits / VISITS_PER_PART))
    if not (path / "world.json").exists():
        shutil.rmtree(path, ignore_errors=True)
        seconds, rss = _cli(
            [
                "simulate",
                str(SETTINGS),
                "--seed",
                "1",
                "--out",
                str(path),
                "--parquet",
                "--partitions",
                str(parts),
                "--days",
                str(DAYS),
                "--visitors-per-day",
                str(visits / DAYS),
            ]
        )
        (path / "written.json").write_text(json.dumps({"seconds": seconds, "rss": rss}))
    written = json.loads((path / "written.json").read_text())
    return path, written


def _batch(world: Path, out: Path, engine: str, workers: int) -> dict[str, Any]:
    args = ["batch", str(world), "--out", str(out), "--engine", engine]
    LOADS.clear()
    seconds, rss = _cli([*args, "--workers", str(workers)])
    summary = json.loads((out / "batch.json").read_text())
    load = sum(LOADS) / max(len(LOADS), 1)
    return summary | {"wall": seconds, "driver_rss": rss, "load": round(load, 2)}


def _same_rows(a: Path, b: Path) -> bool:
    for name in ("orders", "goal_reaches", "offline_rows"):
        for path in sorted((a / name).glob("part-*.parquet")):
            if not pq.read_table(path).equals(pq.read_table(b / name / path.name)):
                return False
    return True


def _linked(out: Path) -> set[tuple[str, int]]:
    from emulator.batch.replay import read_results

    orders = read_results(out, "orders").filter(pc.is_valid(pc.field("linked_visit_id")))
    ids = orders.column("order_id").to_pylist()
    return set(zip(ids, orders.column("linked_visit_id").to_pylist(), strict=True))


def _measured(command: str, world: Path, extra: list[str] | None = None) -> dict[str, Any]:
    """``command`` of this script on ``world``, in a child process; its JSON answer."""
    script = [sys.executable, __file__, command, str(world), *(extra or [])]
    seconds, out = _run(script)
    return json.loads(out.strip().splitlines()[-1]) | {"wall": seconds}


def _whole_world_engine(world: Path, out: Path) -> dict[str, Any]:
    """Every visit and upload of ``world`` through one engine; its links as JSON lines."""
    from emulator.batch.layout import read_part
    from emulator.batch.plan import make_plan
    from emulator.batch.replay import run_engine
    from emulator.batch.stages import with_captures

    started = time.perf_counter()
    plan = make_plan(world, out)
    parts = range(plan.parts)
    visits = pa.concat_tables(
        [with_captures(str(world), p, read_part(world, "visits", p)) for p in parts]
    ).sort_by([("start_time", "ascending"), ("visit_id", "ascending")])
    results = run_engine(plan, parts, visits)
    linked = [
        [o["order_id"], o["linked_visit_id"]]
        for o in results["orders"]
        if o["linked_visit_id"] is not None
    ]
    (out / "engine-links.json").write_text(json.dumps(linked))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": time.perf_counter() - started, "rss": usage.ru_maxrss * 1024}


def _kernel(world: Path) -> dict[str, Any]:
    """ClientID links of every order row, at its creation time, 21-day bound, one process."""
    from emulator import matching
    from emulator.batch.layout import read_manifest, read_part

    started = time.perf_counter()
    manifest = read_manifest(world)
    parts = range(manifest["parts"])
    columns = {"client_id": np.uint64, "start_time": np.int64, "visit_id": np.int64}
    arrays = {name: np.empty(manifest["counts"]["visits"], kind) for name, kind in columns.items()}
    filled = 0
    for p in parts:  # one partition at a time: the floor should not pay for Arrow's copies
        table = read_part(world, "visits", p, list(columns))
        for name in columns:
            arrays[name][filled : filled + len(table)] = table.column(name).to_numpy()
        filled += len(table)
    index = matching.VisitIndex.build(arrays["client_id"], arrays["start_time"], arrays["visit_id"])
    del arrays, table
    contacts = pa.concat_tables(
        [read_part(world, "contacts", p, ["uniq_id", "client_ids"]) for p in parts]
    )
    contacts = contacts.filter(pc.is_valid(pc.field("client_ids"))).combine_chunks()
    flat = contacts.take(pc.list_parent_indices(contacts.column("client_ids")))
    pairs = (
        pa.table(
            {
                "uniq_id": flat.column("uniq_id"),
                "client_id": pc.list_flatten(contacts.column("client_ids")),
            }
        )
        .group_by(["uniq_id", "client_id"])
        .aggregate([])
    )
    orders = pa.concat_tables(
        [read_part(world, "orders", p, ["client_uniq_id", "create_date_time"]) for p in parts]
    )
    orders = orders.append_column("row", pa.array(np.arange(len(orders))))
    queries = orders.join(pairs, keys="client_uniq_id", right_keys="uniq_id", join_type="inner")
    times = np.asarray(queries.column("create_date_time"), np.int64)
    found = matching.link_groups(
        index,
        np.asarray(queries.column("row"), np.int64),
        np.asarray(queries.column("client_id"), np.uint64),
        times,
        times - 21 * 86_400,
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": time.perf_counter() - started,
        "rss": usage.ru_maxrss * 1024,
        "queries": len(queries),
        "linked_rows": int((found.rows >= 0).sum()),
    }


def measure(visits: int, data: Path, workers: int, engine_max: int) -> dict[str, Any]:
    world, written = _world(data, visits)
    manifest = json.loads((world / "world.json").read_text())
    row: dict[str, Any] = {
        "visits": manifest["counts"]["visits"],
        "parts": manifest["parts"],
        "order_rows": manifest["counts"]["orders"],
        "world_write": written,
        "world_bytes": sum(f.stat().st_size for f in world.rglob("*") if f.is_file()),
    }
    local, dask = data / "out-local", data / "out-dask"
    row["batch_local"] = _batch(world, local, "local", workers)
    row["batch_dask"] = _batch(world, dask, "dask", workers)
    row["identical_rows"] = _same_rows(local, dask)
    if visits <= engine_max:
        row["engine"] = _measured("engine", world, [str(data / "out-engine")])
        engine = json.loads((data / "out-engine" / "engine-links.json").read_text())
        row["engine_same_links"] = {tuple(x) for x in engine} == _linked(local)
    row["kernel"] = _measured("kernel", world)
    return row


def _seconds(row: dict[str, Any], method: str) -> float | None:
    found = row.get(method)
    if found is None:
        return None
    return found["seconds"] if method in ("engine", "kernel") else found["wall"]


def _cpu(run: dict[str, Any]) -> str:
    cpu = sum(stage.get("cpu_seconds", 0.0) for stage in run["stages"].values())
    return f"{cpu:.0f} CPU-s in tasks, machine load {run.get('load', float('nan')):.1f}"


def _mib(value: float) -> str:
    return f"{value / 2**20:6.0f} MiB"


def report(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        local, dask, written = row["batch_local"], row["batch_dask"], row["world_write"]
        peaks = sorted(dask["peak_rss_by_worker"].values())
        lines += [
            f"{row['visits']:,} visits, {row['order_rows']:,} order rows, "
            f"{row['parts']} partitions; world {row['world_bytes'] / 1e9:.2f} GB written in "
            f"{written['seconds']:.0f} s (peak RSS {_mib(written['rss']).strip()})",
            f"  batch local   {local['wall']:8.1f} s   peak RSS "
            f"{_mib(max(local['peak_rss_by_worker'].values()))}; {_cpu(local)}",
            f"  batch dask    {dask['wall']:8.1f} s   peak RSS per worker "
            f"{', '.join(_mib(p).strip() for p in peaks)}, driver {_mib(dask['driver_rss'])}; "
            f"{dask['bytes_shuffled'] / 1e6:.1f} MB shuffled; "
            f"local / dask {local['wall'] / dask['wall']:.2f}x; {_cpu(dask)}",
            f"  identical rows local vs dask: {row['identical_rows']}",
        ]
        if "engine" in row:
            engine = row["engine"]
            lines.append(
                f"  one engine    {engine['seconds']:8.1f} s   peak RSS {_mib(engine['rss'])}; "
                f"batch dask / engine {dask['wall'] / engine['seconds']:.2f}x; "
                f"same links: {row['engine_same_links']}"
            )
        kernel = row["kernel"]
        lines.append(
            f"  link kernel   {kernel['seconds']:8.1f} s   peak RSS {_mib(kernel['rss'])} "
            f"({kernel['queries']:,} ClientID queries); "
            f"batch dask / kernel {dask['wall'] / kernel['seconds']:.0f}x"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for method, label in LABELS.items():
        points = [(r["visits"], _seconds(r, method)) for r in rows if _seconds(r, method)]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("visits in the world (a month of the default simulation)")
    axes.set_ylabel("wall time, seconds")
    axes.set_title("Applying the rules to a simulated world, 2 cores")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--sizes", default="1e7,1e8", help="visits per world, comma-separated")
    run.add_argument("--data", type=Path, default=Path("/tmp/scaleout"))
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--engine-max", type=float, default=1e7)
    run.add_argument("--json", type=Path, default=ROOT / "docs" / "scaleout.json")
    run.add_argument("--plot", type=Path, default=ROOT / "docs" / "scaleout.png")
    redraw = sub.add_parser("plot")
    redraw.add_argument("--json", type=Path, default=ROOT / "docs" / "scaleout.json")
    redraw.add_argument("--plot", type=Path, default=ROOT / "docs" / "scaleout.png")
    for name in ("engine", "kernel"):
        child = sub.add_parser(name)
        child.add_argument("world", type=Path)
        if name == "engine":
            child.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "engine":
        args.out.mkdir(parents=True, exist_ok=True)
        print(json.dumps(_whole_world_engine(args.world, args.out)))
    elif args.command == "kernel":
        print(json.dumps(_kernel(args.world)))
    elif args.command == "plot":
        rows = json.loads(args.json.read_text())
        plot(rows, args.plot)
        print(report(rows))
    else:
        args.data.mkdir(parents=True, exist_ok=True)
        rows = json.loads(args.json.read_text()) if args.json.exists() else []
        for size in (int(float(s)) for s in args.sizes.split(",")):
            row = measure(size, args.data, args.workers, int(args.engine_max))
            rows = sorted(
                [r for r in rows if r["visits"] != row["visits"]] + [row], key=lambda r: r["visits"]
            )
            args.json.write_text(json.dumps(rows, indent=1) + "\n")
            plot(rows, args.plot)
            print(report([row]), flush=True)


if __name__ == "__main__":
    main()
