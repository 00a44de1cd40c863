"""``PUT /_emulator/counters/{id}`` merges a counter setup into the one it has.

Following a README that first adds a token and later changes a rule must not lose the token,
so a PUT changes only what it names, like a JSON merge patch (RFC 7396): ``time_zone`` is
replaced when given; ``tokens`` merge by token, and a token set to ``null`` is removed;
``rules`` merge by option; ``goals`` merge by id. ``?replace=true`` makes the body the whole
setup instead (what any field it leaves out goes back to its default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator import CounterConfig, RuleSet
from emulator.api.config import counter_config
from emulator.errors import ApiError


def merged_config(existing: CounterConfig, body: Any) -> CounterConfig:
    """``body`` laid over ``existing``; 400 when ``body`` is not a valid (partial) setup."""
    if not isinstance(body, Mapping):
        raise ApiError("invalid_json", "the counter setup must be a JSON object")
    raw_tokens = body.get("tokens", {})
    removed = set()
    given = dict(body)
    if isinstance(raw_tokens, Mapping):
        removed = {token for token, scopes in raw_tokens.items() if scopes is None}
        given["tokens"] = {t: s for t, s in raw_tokens.items() if s is not None}
    patch = counter_config(existing.counter_id, given)
    tokens = {t: s for t, s in existing.tokens.items() if t not in removed} | patch.tokens
    goals = {goal.id: goal for goal in existing.goals} | {goal.id: goal for goal in patch.goals}
    rules = existing.rules
    if "rules" in body:
        rules = RuleSet.from_mapping({**existing.rules.to_mapping(), **body["rules"]})
    return CounterConfig(
        counter_id=existing.counter_id,
        time_zone=patch.time_zone if "time_zone" in body else existing.time_zone,
        rules=rules,
        goals=tuple(goals[key] for key in sorted(goals)),
        tokens=tokens,
    )
