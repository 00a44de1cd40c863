"""``crmemu run SCENARIO``: simulate, export, emulate, report, score, plot."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "Run a scenario end to end and print its scorecard against the ground truth."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="a scenario file, e.g. scenarios/dental_clinic.toml")
    parser.add_argument("--seed", type=int, default=None, help="overrides the scenario's seed")
    parser.add_argument("--out", default=None, help="folder for scorecard.json and the plots")
    parser.add_argument("--via", choices=("inprocess", "http"), default="inprocess")
    parser.add_argument("--base-url", default=None, help="a running emulator, with --via http")
    parser.add_argument("--token", default=None, help="OAuth token for --via http")
    parser.add_argument("--check", action="store_true", help="exit 1 when an expectation misses")
    parser.add_argument("--json", action="store_true", help="print the scorecard as JSON")


def run(args: argparse.Namespace) -> int:
    from emulator.scenario import ScenarioError, load_scenario, run_scenario
    from emulator.scenario.tables import render

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"crmemu run: {exc}", file=sys.stderr)
        return 2
    out = args.out or f"runs/{scenario.name}"
    try:
        result = run_scenario(
            scenario,
            seed=args.seed,
            via=args.via,
            base_url=args.base_url,
            token=args.token,
            out=out,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"crmemu run: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.scorecard, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(render(result.scorecard, result.misses if args.check or result.misses else []))
        print(f"\nScorecard and plots written to {result.out}/")
    return 1 if args.check and result.misses else 0
