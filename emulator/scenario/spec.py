"""A scenario file: a named real-life situation, its simulation, its rules and its expectations.

```toml
[scenario]
name = "late_uploader"
description = "The CRM exports orders a month late."
seed = 7                      # the default seed (``--seed`` overrides it)

[simulation]                  # the simulator's settings (scenarios/sim/README.md)
base = "sim/late_uploader.toml"   # optional: a world kept once under scenarios/sim/
days = 21                     # what this scenario changes in it
[export]                      # the exporters (same schema)

[rules]                       # RuleSet options of the counter (emulator.rules)
order_age_limit_days = 21

[expectations]                # dotted scorecard paths and their bounds
"linkage.recall" = { max = 0.2 }
"lost.NOT_LINKED_ORDER_TOO_OLD" = { min = 1 }
```

Unknown tables or keys are errors, so a typo never silently changes a regression test, and an
expectation naming a path the scorecard cannot hold is refused here, before any run (see
:mod:`emulator.scenario.fields`). A plain simulator settings file is a scenario too (no
expectations, default rules), so every command takes either.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from emulator.rules import RuleSet
from emulator.scenario.fields import unknown_paths
from emulator.sim import Settings, load_settings
from emulator.sim.layers import LAYERED, with_base

TABLES = frozenset({"scenario", "simulation", "export", "rules", "expectations"})
SCENARIO_KEYS = frozenset({"name", "description", "seed"})
BOUNDS = frozenset({"min", "max", "equals"})


class ScenarioError(ValueError):
    """A scenario file that cannot be used as written."""


@dataclass(frozen=True)
class Expectation:
    """``path`` must lie within [min, max] or equal ``equals``."""

    path: str
    min: float | None = None
    max: float | None = None
    equals: Any = None

    def describe(self) -> str:
        parts = []
        if self.equals is not None:
            parts.append(f"= {self.equals}")
        if self.min is not None:
            parts.append(f">= {self.min}")
        if self.max is not None:
            parts.append(f"<= {self.max}")
        return f"{self.path} {' and '.join(parts)}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    settings: Settings
    rules: RuleSet
    expectations: tuple[Expectation, ...]
    source: Path | None = None

    def with_rules(self, **changes: Any) -> Scenario:
        """The same scenario under other rule options (used to prove expectations bite)."""
        return replace(self, rules=self.rules.replace(**changes))

    def scaled(self, traffic: float) -> Scenario:
        """The same scenario with ``traffic`` times the visitors (full-size regression runs)."""
        visitors = self.settings.simulation.traffic.visitors_per_day * traffic
        return replace(self, settings=self.settings.with_overrides(visitors_per_day=visitors))


def load_scenario(path: str | Path) -> Scenario:
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return scenario_from_mapping(data, source)


def scenario_from_mapping(data: Mapping[str, Any], source: Path | None = None) -> Scenario:
    where = str(source) if source else "scenario"
    unknown = sorted(set(data) - TABLES)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown table(s) {', '.join(unknown)}; known: {sorted(TABLES)}"
        )
    meta = dict(data.get("scenario", {}))
    bad = sorted(set(meta) - SCENARIO_KEYS)
    if bad:
        raise ScenarioError(f"{where}: unknown [scenario] key(s) {', '.join(bad)}")
    name = meta.get("name") or (source.stem if source else "scenario")
    seed = meta.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ScenarioError(f"{where}: [scenario] seed must be a whole number")
    try:
        layered = with_base(data, source.parent if source else Path.cwd())
        settings = load_settings({k: layered[k] for k in LAYERED if k in layered})
        rules = RuleSet.from_mapping(data.get("rules"))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    expectations = tuple(_expectations(data.get("expectations", {}), where))
    unknown = unknown_paths((e.path for e in expectations), settings)
    if unknown:
        raise ScenarioError(f"{where}: " + "; ".join(unknown))
    return Scenario(
        name=str(name),
        description=str(meta.get("description", "")),
        seed=seed,
        settings=settings,
        rules=rules,
        expectations=expectations,
        source=source,
    )


def _expectations(table: Mapping[str, Any], where: str) -> list[Expectation]:
    result = []
    for path, bound in table.items():
        if not isinstance(bound, Mapping) or not bound or set(bound) - BOUNDS:
            raise ScenarioError(
                f"{where}: expectation {path!r} must be a table of min/max/equals, got {bound!r}"
            )
        result.append(Expectation(path, bound.get("min"), bound.get("max"), bound.get("equals")))
    return result
