"""``rules diff``: the same simulated CRM history through two rule packs, goal by goal.

Where the public pages disagree (which goal a CANCELLED order reaches, whether "Order created"
fires again on a later fixation…), each reading is a pack (:mod:`emulator.packs`). This
module answers "how much do my numbers depend on it?": the simulation runs once, its uploads
are replayed into two fresh in-process emulators that differ only in the pack, and every goal
is compared by reaches, revenue and reaches per attributed traffic source (read through the
Reporting API, as Direct's optimisation would see them), with the orders behind each
difference.

Goals are matched across packs by what they are, not by their name: the CRM goals by kind
(the packs name them in different languages and spellings), JavaScript goals by identifier.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from emulator.goals import CRM_GOAL_NAMES, CrmGoal, crm_goal_name
from emulator.packs import pack_rules
from emulator.rules import GoalNames, RuleSet
from emulator.scenario.runner import by_source, client_for, get_json, replay
from emulator.scenario.spec import Scenario
from emulator.sim import SimulationResult, simulate

METRICS_PER_REQUEST = 20
"""The Reporting API's limit on metrics in one request."""

_EN = dataclasses.replace(pack_rules("docs-current"), goal_names=GoalNames.EN)
_CRM_KINDS = {name: kind for names in CRM_GOAL_NAMES.values() for kind, name in names.items()}


@dataclass
class GoalSide:
    """One goal under one pack."""

    reaches: int = 0
    revenue: Decimal = Decimal(0)
    by_source: dict[str, int] = field(default_factory=dict)
    subjects: Counter[str] = field(default_factory=Counter)
    """Reaches per order id (or other subject: offline row, call)."""


@dataclass(frozen=True)
class GoalDiff:
    goal: str
    """The goal as the current EN pages name it, or ``JS goal <identifier>``."""
    a: GoalSide
    b: GoalSide

    @property
    def differs(self) -> bool:
        return (self.a.reaches, self.a.revenue, self.a.by_source) != (
            self.b.reaches,
            self.b.revenue,
            self.b.by_source,
        )

    def sources(self) -> list[tuple[str, int, int]]:
        """``(source, reaches under A, reaches under B)`` for each source either pack reports."""
        names = sorted(set(self.a.by_source) | set(self.b.by_source))
        return [(s, self.a.by_source.get(s, 0), self.b.by_source.get(s, 0)) for s in names]

    def subjects_behind(self) -> list[tuple[str, int, int]]:
        """``(order id, reaches under A, under B)`` for the orders whose reaches differ."""
        keys = sorted(set(self.a.subjects) | set(self.b.subjects))
        return [
            (k, self.a.subjects[k], self.b.subjects[k])
            for k in keys
            if self.a.subjects[k] != self.b.subjects[k]
        ]


@dataclass(frozen=True)
class PackDiff:
    scenario: str
    seed: int
    packs: tuple[str, str]
    currency: str
    goals: list[GoalDiff]

    @property
    def differing(self) -> list[GoalDiff]:
        return [g for g in self.goals if g.differs]

    def goal(self, name: str) -> GoalDiff:
        for diff in self.goals:
            if diff.goal == name:
                return diff
        raise KeyError(name)

    def render(self, orders_shown: int = 5) -> str:
        """The differences as text: a table of goals, then per differing goal its sources and
        the first ``orders_shown`` orders behind it."""
        a, b = self.packs
        lines = [
            f"{self.scenario} (seed {self.seed}): {a} vs {b}",
            "",
            f"{'goal':<28} {'reaches ' + a:>22} {'reaches ' + b:>22} {'revenue Δ':>14}",
        ]
        for g in self.goals:
            mark = "" if g.differs else "  (same)"
            delta = g.b.revenue - g.a.revenue
            lines.append(
                f"{g.goal:<28} {g.a.reaches:>22,} {g.b.reaches:>22,} "
                f"{delta:>+14,.2f}{mark}".rstrip()
            )
        for g in self.differing:
            lines += ["", f"{g.goal}: {g.a.reaches:,} → {g.b.reaches:,} reaches"]
            for source, in_a, in_b in g.sources():
                if in_a != in_b:
                    lines.append(f"  {source:<24} {in_a:>8,} → {in_b:,}")
            behind = g.subjects_behind()
            if behind:
                shown = ", ".join(f"{k} ({x}→{y})" for k, x, y in behind[:orders_shown])
                more = (
                    f" and {len(behind) - orders_shown:,} more"
                    if len(behind) > orders_shown
                    else ""
                )
                lines.append(f"  {len(behind):,} orders behind it: {shown}{more}")
        if not self.differing:
            lines += ["", "The two packs give the same goals on this history."]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        def side(s: GoalSide) -> dict[str, Any]:
            return {
                "reaches": s.reaches,
                "revenue": str(s.revenue),
                "by_source": dict(sorted(s.by_source.items())),
            }

        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "packs": list(self.packs),
            "currency": self.currency,
            "goals": [
                {
                    "goal": g.goal,
                    "differs": g.differs,
                    self.packs[0]: side(g.a),
                    self.packs[1]: side(g.b),
                    "orders_behind": [list(t) for t in g.subjects_behind()],
                }
                for g in self.goals
            ],
        }


def pack_with_overrides(scenario_rules: RuleSet, pack: str) -> RuleSet:
    """``pack``'s rules plus whatever the scenario set apart from its own pack (a processing
    delay, an update window…), so the diff isolates the packs' readings."""
    own = pack_rules(scenario_rules.pack).to_mapping()
    overrides = {k: v for k, v in scenario_rules.to_mapping().items() if own[k] != v}
    overrides.pop("pack", None)
    return RuleSet.from_mapping({**overrides, "pack": pack})


def diff_packs(scenario: Scenario, packs: Sequence[str], seed: int | None = None) -> PackDiff:
    """Simulate ``scenario`` once and compare its goals under the two ``packs``."""
    if len(packs) != 2:
        raise ValueError("rules diff compares exactly two packs")
    seed = scenario.seed if seed is None else seed
    result = simulate(scenario.settings, seed)
    sides = [_goals_under(result, pack_with_overrides(scenario.rules, p)) for p in packs]
    names = list(dict.fromkeys([*sides[0], *sides[1]]))
    return PackDiff(
        scenario=scenario.name,
        seed=seed,
        packs=(packs[0], packs[1]),
        currency=result.settings.simulation.crm.currency,
        goals=[
            GoalDiff(name, sides[0].get(name, GoalSide()), sides[1].get(name, GoalSide()))
            for name in names
        ],
    )


def goal_label(name: str, identifier: str | None) -> str:
    """One label per goal across packs: a CRM goal by kind, in the docs-current EN spelling."""
    kind = _CRM_KINDS.get(name)
    if kind is not None:
        return crm_goal_name(kind, _EN)
    if identifier:
        return f"JS goal {identifier}"
    return name


def _goals_under(result: SimulationResult, rules: RuleSet) -> dict[str, GoalSide]:
    with client_for("inprocess", None, ":memory:") as client:
        client.post("/_emulator/reset", json={}).raise_for_status()
        sent = replay(client, result, rules)
        base = f"/_emulator/counters/{sent.counter_id}"
        reaches = get_json(client, f"{base}/goal_reaches", sent.token)["goal_reaches"]
        sides: dict[str, GoalSide] = {}
        labels: dict[int, str] = {}
        for reach in reaches:
            label = goal_label(reach["goal"], reach["identifier"])
            labels[reach["goal_id"]] = label
            side = sides.setdefault(label, GoalSide())
            side.reaches += 1
            side.revenue += Decimal(str(reach["revenue"] or 0))
            side.subjects[str(reach["subject_key"])] += 1
        for goal_id, per_source in _reaches_by_source(client, result, sent, labels).items():
            sides[labels[goal_id]].by_source = per_source
        return dict(sorted(sides.items(), key=_crm_first))


def _reaches_by_source(
    client: httpx.Client, result: SimulationResult, sent: Any, labels: Mapping[int, str]
) -> dict[int, dict[str, int]]:
    """Reaches per goal and attributed source, from ``/stat/v1/data`` (``ym:s:goal<id>reaches``)."""
    out: dict[int, dict[str, int]] = {goal_id: {} for goal_id in labels}
    for chunk in _chunks(sorted(labels), METRICS_PER_REQUEST):
        metrics = [f"ym:s:goal{goal_id}reaches" for goal_id in chunk]
        report = by_source(client, result, sent.counter_id, sent.token, metrics)
        for row in report["data"]:
            dimension = row["dimensions"][0]
            source = str(dimension.get("id") or dimension.get("name"))
            for goal_id, value in zip(chunk, row["metrics"], strict=True):
                if value:
                    out[goal_id][source] = int(value)
    return out


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _crm_first(item: tuple[str, GoalSide]) -> tuple[int, str]:
    order = [crm_goal_name(k, _EN) for k in CrmGoal]
    name = item[0]
    return (order.index(name), name) if name in order else (len(order), name)
