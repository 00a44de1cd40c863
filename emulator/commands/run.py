"""``crmemu run SCENARIO``: simulate, export, emulate, report, score, plot."""

from __future__ import annotations

import argparse
import json
import sys

import httpx

HELP = "Run a scenario end to end and print its scorecard against the ground truth."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario",
        help="a scenario file, e.g. scenarios/dental_clinic.toml, or simulator settings",
    )
    parser.add_argument("--seed", type=int, default=None, help="overrides the scenario's seed")
    parser.add_argument("--out", default=None, help="folder for scorecard.json and the plots")
    parser.add_argument("--via", choices=("inprocess", "http"), default="inprocess")
    parser.add_argument("--base-url", default=None, help="a running emulator, with --via http")
    parser.add_argument("--token", default=None, help="OAuth token for --via http")
    parser.add_argument("--check", action="store_true", help="exit 1 when an expectation misses")
    parser.add_argument("--json", action="store_true", help="print the scorecard as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


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
            progress=None if args.quiet else _progress,
        )
    except httpx.HTTPStatusError as exc:
        answer = exc.response
        print(
            f"crmemu run: {answer.request.method} {answer.request.url} answered "
            f"{answer.status_code}: {answer.text[:300]}",
            file=sys.stderr,
        )
        return 2
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        print(f"crmemu run: cannot reach {args.base_url}: {reason}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"crmemu run: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.scorecard, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(render(result.scorecard, result.misses if args.check or result.misses else []))
        print(f"\nScorecard and plots written to {result.out}/")
    return 1 if args.check and result.misses else 0


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
