"""``crmemu simulate``: run the simulator and write visits, CRM, uploads, truth and a manifest.

It takes a simulator settings file or a scenario file (whose ``[scenario]`` and ``[expectations]``
it reads but has no use for), like ``crmemu run``. With ``--parquet`` it writes the world as
partitioned Parquet instead (:mod:`emulator.batch.world`), streaming, for ``crmemu batch``; the
scenario's ``[rules]`` become the counter's rules there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from emulator.batch.world import DEFAULT_PARTS, write_world
from emulator.scenario import ScenarioError, load_scenario
from emulator.sim import simulate, write_run

HELP = "simulate visitors, leads, a CRM and its exporters; write every upload and the truth"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "settings",
        type=Path,
        help="simulator settings (scenarios/sim/*.toml) or a scenario (scenarios/*.toml)",
    )
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's seed, or 1)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--days", type=int, help="override simulation.days")
    parser.add_argument(
        "--visitors-per-day", type=float, help="override simulation.traffic.visitors_per_day"
    )
    parser.add_argument(
        "--parquet",
        action="store_true",
        help="write the world as partitioned Parquet (visits, uploads) for `crmemu batch`, "
        "streaming: visits are never held in memory all at once",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=DEFAULT_PARTS,
        help=f"with --parquet: number of hash partitions (default {DEFAULT_PARTS})",
    )


def run(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.settings)
    except ScenarioError as exc:
        print(f"crmemu simulate: {exc}", file=sys.stderr)
        return 2
    settings = scenario.settings.with_overrides(args.days, args.visitors_per_day)
    seed = scenario.seed if args.seed is None else args.seed
    hours = settings.simulation.days * 24
    if args.partitions < 1:
        print("crmemu simulate: --partitions must be at least 1", file=sys.stderr)
        return 2
    with tqdm(total=hours, unit="h", desc="simulating", disable=not sys.stderr.isatty()) as bar:
        if args.parquet:
            manifest = write_world(
                settings, seed, args.out, args.partitions, scenario.rules, lambda: bar.update(1)
            )
            counts = manifest["counts"]
            print(
                f"{counts['visits']} visits, {counts['leads']} leads, {counts['uploads']} uploads "
                f"({counts['orders']} order rows) in {args.partitions} partitions -> {args.out}"
            )
            return 0
        result = simulate(settings, seed, on_hour=lambda: bar.update(1))
    manifest = write_run(result, args.out)
    counts = manifest["counts"]
    print(
        f"{counts['visits']} visits, {counts['leads']} leads, {counts['contacts']} contacts, "
        f"{counts['deals']} deals, {counts['uploads']} uploads -> {args.out}"
    )
    return 0
