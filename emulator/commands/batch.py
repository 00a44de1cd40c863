"""``crmemu batch``: apply a rule set to a Parquet world, in one process or on Dask.

The world comes from ``crmemu simulate SETTINGS --out WORLD --parquet``. The results (linked
orders with their decision codes, goal reaches, offline rows) are Parquet under ``--out``; see
:mod:`emulator.batch`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emulator.batch.layout import read_manifest
from emulator.batch.run import ENGINES, run_batch
from emulator.batch.world import counter_of

HELP = "apply the rules to a Parquet world partition by partition (locally or on Dask)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("world", type=Path, help="a world written by `crmemu simulate --parquet`")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--engine", choices=ENGINES, default="local", help="where the tasks run (default: local)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: an existing scheduler (tcp://host:8786); every worker must "
        "see WORLD and --out at the same paths. Default: a local cluster",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes of the local Dask cluster"
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one rule of the world's counter (repeatable), e.g. visit_age_limit_days=14",
    )


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def run(args: argparse.Namespace) -> int:
    try:
        manifest = read_manifest(args.world)
        rules = counter_of(manifest["counter"], manifest["counter_id"]).rules
        changes = dict(item.split("=", 1) for item in args.rule if "=" in item)
        if len(changes) != len(args.rule):
            raise ValueError("--rule takes NAME=VALUE")
        if changes:
            rules = rules.replace(**{name: _value(v) for name, v in changes.items()})
        if args.workers < 1:
            raise ValueError("--workers must be at least 1")
        report = run_batch(
            args.world,
            args.out,
            args.engine,
            scheduler=args.scheduler,
            workers=args.workers,
            rules=rules,
        )
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"crmemu batch: {exc}", file=sys.stderr)
        return 2
    counts = report.counts
    print(
        f"{counts['orders']} orders ({counts['linked_orders']} linked), "
        f"{counts['goal_reaches']} goal reaches, {counts['offline_rows']} offline rows "
        f"-> {args.out}"
    )
    peak = max(report.peak_rss_by_worker.values(), default=0)
    print(
        f"{report.engine} on {report.workers} worker(s): {report.seconds:.1f} s, "
        f"{report.bytes_shuffled / 1e6:.1f} MB shuffled, peak RSS per worker "
        f"{peak / 2**20:.0f} MiB"
    )
    if report.refused_uploads:
        print(f"refused uploads (as the service would): {report.refused_uploads}")
    return 0
