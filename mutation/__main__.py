"""``python -m mutation``: apply every mutant, run the killing suite, print the score.

Exit status: 0 when every mutant is killed (and, on a full run, every scenario kills a
goal-rule mutant), 1 otherwise, 2 when the harness cannot answer (a stale patch, a failing
baseline).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

from mutation.harness import ERROR, HELD, KILLED, SKIPPED, HarnessError, Report, run
from mutation.mutants import MUTANTS, by_name


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__)
    parser.add_argument("--only", action="append", metavar="NAME", help="this mutant (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--no-scenarios", action="store_true", help="skip the scenario matrix")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument(
        "--full-matrix",
        action="store_true",
        help="run every scenario for every goal-rule mutant (default: stop once killed)",
    )
    return parser.parse_args(argv)


def listing() -> str:
    lines = []
    for m in MUTANTS:
        kind = "goal rule" if m.goal else "rule"
        files = ", ".join(sorted({e.path for e in m.edits}))
        lines.append(f"{m.name} ({kind}; {files})")
        lines.append(textwrap.indent(f"breaks: {m.breaks}\nguards: {m.guards}", "    "))
    return "\n".join(lines)


SYMBOLS = {KILLED: "X", HELD: ".", SKIPPED: "-", ERROR: "!"}


def table(report: Report) -> str:
    width = max(len(r.mutant.name) for r in report.results)
    lines = [f"{'mutant':<{width}}  goal  result    seconds  killed by", "-" * (width + 60)]
    for r in report.results:
        goal = "yes" if r.mutant.goal else ""
        s = r.suite
        lines.append(
            f"{r.mutant.name:<{width}}  {goal:<4}  {s.status:<8}  {s.seconds:7.0f}  {s.by}"
        )
    lines.append(f"\nkilled {report.killed}/{len(report.results)} in {report.seconds:.0f} s")
    if report.scenarios:
        lines += ["", *matrix(report)]
    return "\n".join(lines)


def matrix(report: Report) -> list[str]:
    """Goal-rule mutants × scenarios: X killed, . held, - not run (already killed), ! crashed."""
    goal = [r for r in report.results if r.mutant.goal]
    width = max((len(r.mutant.name) for r in goal), default=0)
    numbers = range(1, len(report.scenarios) + 1)
    lines = [
        "scenario matrix (X killed, . held, - not run: already killed, ! crashed)",
        f"{'':<{width}}  " + " ".join(f"{n:>2}" for n in numbers),
    ]
    for r in goal:
        cells = (SYMBOLS[r.scenarios.get(name, SKIPPED)] for name in report.scenarios)
        lines.append(f"{r.mutant.name:<{width}}  " + " ".join(f"{c:>2}" for c in cells))
    for n, (scenario, by) in zip(numbers, report.scenario_kills().items(), strict=True):
        first = next((r for r in goal if r.mutant.name in by[:1]), None)
        why = f" (first {first.mutant.name}: {first.details[scenario]})" if first else "  <- NONE"
        lines.append(f"{n:>3} {scenario}: killed {len(by)}{why}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.list:
        print(listing())
        return 0
    try:
        mutants = by_name(args.only)
        report = run(
            mutants,
            jobs=args.jobs,
            scenarios=not args.no_scenarios,
            baseline=not args.no_baseline,
            full_matrix=args.full_matrix,
            complete=not args.only,
            say=lambda line: print(line, flush=True),
        )
    except (HarnessError, ValueError) as exc:
        print(f"python -m mutation: {exc}", file=sys.stderr)
        return 2
    print()
    print(table(report))
    for name in report.survivors():
        print(f"SURVIVED {name}: add the test that pins its rule", file=sys.stderr)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
