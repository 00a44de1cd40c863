"""Counters: their setup (zone, rules, tokens) and goals, read from and written to the store."""

from __future__ import annotations

import json
from collections.abc import Iterable

from emulator.engine.config import CALL_GOAL, FIRST_GOAL_ID, CounterConfig, Goal
from emulator.errors import ApiError
from emulator.goals import crm_goal_name, crm_goal_type, crm_goals_of, is_crm_goal_type
from emulator.rules import RuleSet
from emulator.store import Session


def load_counter(session: Session, counter_id: int) -> CounterConfig:
    row = session.counters.get(counter_id)
    if row is None:
        raise ApiError("not_found", f"counter {counter_id} does not exist", "counterId")
    return CounterConfig(
        counter_id=counter_id,
        time_zone=row["time_zone"],
        rules=RuleSet.from_mapping(json.loads(row["rules_json"])),
        goals=tuple(Goal(*g) for g in session.counters.goals(counter_id)),
        tokens=session.counters.tokens(counter_id),
    )


def save_counter(session: Session, config: CounterConfig) -> None:
    """Create or replace a counter's setup; the CRM and call goals it already has are kept."""
    kept = [
        Goal(*g)
        for g in session.counters.goals(config.counter_id)
        if (is_crm_goal_type(g[3]) or g[3] == CALL_GOAL)
        and all(g[0] != own.id for own in config.goals)
    ]
    session.counters.upsert(config.counter_id, config.time_zone, config.rules.to_mapping())
    session.counters.replace_goals(config.counter_id, _rows([*config.goals, *kept]))
    session.counters.replace_tokens(config.counter_id, dict(config.tokens))


def _rows(goals: Iterable[Goal]) -> list[tuple[int, str, str | None, str]]:
    return [(g.id, g.name, g.identifier, g.type) for g in goals]


def new_goal(
    session: Session, counter_id: int, name: str, identifier: str | None, goal_type: str
) -> Goal:
    used = [g[0] for g in session.counters.goals(counter_id)]
    goal = Goal(max([FIRST_GOAL_ID - 1, *used]) + 1, name, identifier, goal_type)
    session.counters.add_goals(counter_id, _rows([goal]))
    return goal


def ensure_crm_goals(session: Session, counter: CounterConfig) -> CounterConfig:
    """The first successful CRM upload creates the CRM goals on the counter (spec §2.8)."""
    rules = counter.rules
    present = {(g.name, g.type) for g in counter.goals}
    for goal in crm_goals_of(rules):
        spec = (crm_goal_name(goal, rules), crm_goal_type(goal, rules))
        if spec not in present:
            new_goal(session, counter.counter_id, spec[0], None, spec[1])
    return load_counter(session, counter.counter_id)


def call_goal(session: Session, counter: CounterConfig, name: str) -> tuple[CounterConfig, Goal]:
    """The call goal named ``name`` (``new_goal_name`` of upload_calls), created if missing."""
    goal = counter.goal_by_name(name, CALL_GOAL)
    if goal is None:
        goal = new_goal(session, counter.counter_id, name, None, CALL_GOAL)
        counter = load_counter(session, counter.counter_id)
    return counter, goal
