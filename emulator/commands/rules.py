"""``crmemu rules``: the rule packs, what each rule says and where, and how two packs differ."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Rule packs: list them, show one with its sources, or diff two on a scenario."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="the packs, with the default marked")
    show = sub.add_parser("show", help="every rule of a pack, its value and its source")
    show.add_argument("pack", nargs="?", default=None, help="default: the default pack")
    sub.add_parser("table", help="every rule in every pack, as the Markdown of docs/FIDELITY.md")
    diff = sub.add_parser(
        "diff",
        help="run one simulated CRM history through two packs and print what differs per goal",
    )
    diff.add_argument("scenario", help="a scenario file, e.g. scenarios/dental_clinic.toml")
    diff.add_argument("--packs", nargs=2, required=True, metavar=("A", "B"))
    diff.add_argument("--seed", type=int, default=None, help="overrides the scenario's seed")
    diff.add_argument("--out", default=None, help="folder for rules_diff.png and .json")
    diff.add_argument("--orders", type=int, default=5, help="orders listed per difference")
    diff.add_argument("--json", action="store_true", help="print the differences as JSON")


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "show": _show, "table": _table, "diff": _diff}[args.action](args)


def _list(args: argparse.Namespace) -> int:
    from emulator.packs import DEFAULT_PACK, PACKS

    for name, pack in PACKS.items():
        mark = " (default)" if name == DEFAULT_PACK else ""
        print(f"{name}{mark} (version {pack.version}): {pack.title}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from emulator.packs import DEFAULT_PACK, pack

    try:
        chosen = pack(args.pack or DEFAULT_PACK)
    except ValueError as exc:
        print(f"crmemu rules show: {exc}", file=sys.stderr)
        return 2
    print(f"{chosen.name} (version {chosen.version}): {chosen.title}")
    for rule, choice in chosen.choices.items():
        print(f"  {rule} = {getattr(choice.value, 'value', choice.value)}\n      {choice.source}")
    return 0


def _table(args: argparse.Namespace) -> int:
    from emulator.packs import markdown_table

    print(markdown_table(), end="")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from emulator.packs import PACKS
    from emulator.scenario import ScenarioError, load_scenario
    from emulator.scenario.diffplot import draw_pack_diff
    from emulator.scenario.packdiff import diff_packs

    unknown = [p for p in args.packs if p not in PACKS]
    if unknown:
        print(
            f"crmemu rules diff: unknown pack(s) {', '.join(unknown)}; known: {', '.join(PACKS)}",
            file=sys.stderr,
        )
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"crmemu rules diff: {exc}", file=sys.stderr)
        return 2
    print(
        f"simulating {scenario.name} once, replaying it under {' and '.join(args.packs)}…",
        file=sys.stderr,
    )
    diff = diff_packs(scenario, args.packs, seed=args.seed)
    out = Path(args.out or f"runs/rules-diff-{scenario.name}")
    out.mkdir(parents=True, exist_ok=True)
    picture = draw_pack_diff(diff, out / "rules_diff.png")
    data = diff.to_json()
    (out / "rules_diff.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else diff.render(args.orders))
    print(f"\nwrote {picture} and {out / 'rules_diff.json'}", file=sys.stderr)
    return 0
