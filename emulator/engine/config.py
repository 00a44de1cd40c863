"""A counter's setup: time zone, goals, tokens and rules.

Goals mirror the management API's goal objects
(https://yandex.ru/dev/metrika/ru/management/openapi/goals/): JS-event goals have an
``identifier`` that statuses, ``goals`` cells, mappings and offline ``Target`` values refer to;
CRM goals are created by the first successful CRM upload; call goals by calls uploads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from emulator.dates import zone
from emulator.goals import is_crm_goal_type
from emulator.rules import RuleSet

JS_GOAL = "action"
CALL_GOAL = "call"
FIRST_GOAL_ID = 100_000_001
"""Goal ids the emulator assigns start here (real ids are large integers too)."""


@dataclass(frozen=True, slots=True)
class Goal:
    id: int
    name: str
    identifier: str | None = None
    type: str = JS_GOAL

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.identifier is not None:
            body["identifier"] = self.identifier
            body["conditions"] = [{"type": "exact", "url": self.identifier}]
        return body


@dataclass(frozen=True)
class CounterConfig:
    """What ``PUT /_emulator/counters/{id}`` sets."""

    counter_id: int
    time_zone: str = "Europe/Moscow"
    rules: RuleSet = field(default_factory=RuleSet)
    goals: tuple[Goal, ...] = ()
    tokens: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        zone(self.time_zone)  # fail early with a plain message
        if not 0 < self.counter_id < 2**31:
            raise ValueError(f"counter id {self.counter_id} is not a positive int32")
        ids = [g.id for g in self.goals]
        if len(ids) != len(set(ids)):
            raise ValueError("goal ids must be unique")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.time_zone)

    @cached_property
    def _by_identifier(self) -> dict[str, Goal]:
        found: dict[str, Goal] = {}
        for goal in self.goals:
            if goal.identifier is not None and not is_crm_goal_type(goal.type):
                found.setdefault(goal.identifier, goal)
        return found

    def goal_by_identifier(self, identifier: str) -> Goal | None:
        return self._by_identifier.get(identifier)

    def goal_by_name(self, name: str, goal_type: str) -> Goal | None:
        for goal in self.goals:
            if goal.name == name and goal.type == goal_type:
                return goal
        return None

    @property
    def js_goal_identifiers(self) -> frozenset[str]:
        return frozenset(g.identifier for g in self.goals if g.type == JS_GOAL and g.identifier)
