"""Counter setups from JSON or TOML: ``PUT /_emulator/counters/{id}`` and ``serve --config``.

A counter setup is ``{"time_zone": "Europe/Moscow", "tokens": {"<token>": ["metrika:write",
"metrika:read"]}, "goals": [{"id": 101, "name": "Good leads", "identifier": "good_lead"}],
"rules": {<RuleSet option>: <value>}}``; every key is optional and unknown keys are errors.

A ``serve`` config file (TOML or JSON, by extension) holds ``[server]`` (see
:class:`~emulator.api.settings.ApiSettings`, plus ``clock = "virtual" | "wall"``), ``[quotas]``
(:class:`~emulator.api.settings.QuotaSettings`) and ``[[counters]]`` tables, each a counter
setup with its ``id``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator import CounterConfig, Goal, RuleSet
from emulator.api.guard import KNOWN_SCOPES
from emulator.api.settings import ApiSettings
from emulator.engine.config import JS_GOAL
from emulator.errors import ApiError

COUNTER_KEYS = frozenset({"time_zone", "tokens", "goals", "rules"})
GOAL_KEYS = frozenset({"id", "name", "identifier", "type"})
CLOCKS = ("virtual", "wall")
MAX_GOAL_ID = 2**63 - 1
"""Goal ids are int64 in the management API (and SQLite's INTEGER is int64)."""


def counter_config(counter_id: int, body: Any) -> CounterConfig:
    """A :class:`CounterConfig` from a counter setup; 400 ``invalid_parameter`` when wrong."""
    if not isinstance(body, Mapping):
        raise ApiError("invalid_json", "the counter setup must be a JSON object")
    try:
        _known_keys(body, COUNTER_KEYS, "counter")
        return CounterConfig(
            counter_id=counter_id,
            time_zone=_typed(body.get("time_zone", "Europe/Moscow"), str, "time_zone"),
            rules=RuleSet.from_mapping(_typed(body.get("rules", {}), Mapping, "rules")),
            goals=tuple(_goal(g) for g in _typed(body.get("goals", []), list, "goals")),
            tokens=_tokens(_typed(body.get("tokens", {}), Mapping, "tokens")),
        )
    except (ValueError, TypeError) as exc:
        raise ApiError("invalid_parameter", str(exc)) from None


def _known_keys(values: Mapping[str, Any], known: frozenset[str], what: str) -> None:
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {what} field(s): {', '.join(map(str, unknown))}")


def _typed(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name} must be a {getattr(kind, '__name__', kind)}")
    return value


def _goal(raw: Any) -> Goal:
    goal = _typed(raw, Mapping, "each goal")
    _known_keys(goal, GOAL_KEYS, "goal")
    identifier = goal.get("identifier")
    if identifier is not None:
        _typed(identifier, str, "goal identifier")
    goal_id = _typed(goal.get("id"), int, "goal id")
    if not 1 <= goal_id <= MAX_GOAL_ID:
        raise ValueError(f"goal id {goal_id} is not within 1..{MAX_GOAL_ID}")
    return Goal(
        id=goal_id,
        name=_typed(goal.get("name"), str, "goal name"),
        identifier=identifier,
        type=_typed(goal.get("type", JS_GOAL), str, "goal type"),
    )


def _tokens(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    tokens = {}
    for token, scopes in raw.items():
        if not isinstance(token, str) or not token.strip() or " " in token:
            raise ValueError(f"token {token!r} must be a non-empty string without spaces")
        listed = tuple(_typed(scopes, list, f"scopes of token {token!r}"))
        unknown = [s for s in listed if s not in KNOWN_SCOPES]
        if unknown:
            known = ", ".join(sorted(KNOWN_SCOPES))
            raise ValueError(f"unknown scope(s) {unknown} of token {token!r}; known: {known}")
        tokens[token] = listed
    return tokens


@dataclass(frozen=True)
class ServeConfig:
    settings: ApiSettings = field(default_factory=ApiSettings)
    clock: str = "virtual"
    counters: tuple[CounterConfig, ...] = ()


def load_config(path: str | Path) -> ServeConfig:
    """Read a ``serve`` config file; ``ValueError`` with a plain message when it is wrong."""
    path = Path(path)
    text = path.read_bytes()
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the top level must be a table/object")
    _known_keys(data, frozenset({"server", "quotas", "counters"}), "top-level")
    server = dict(_typed(data.get("server", {}), Mapping, "[server]"))
    clock = server.pop("clock", "virtual")
    if clock not in CLOCKS:
        raise ValueError(f"[server] clock must be one of {', '.join(CLOCKS)}")
    settings = ApiSettings.from_mapping({**server, "quotas": data.get("quotas")})
    counters = []
    for raw in _typed(data.get("counters", []), list, "[[counters]]"):
        setup = dict(_typed(raw, Mapping, "each [[counters]] entry"))
        counter_id = _typed(setup.pop("id", None), int, "counter id")
        try:
            counters.append(counter_config(counter_id, setup))
        except ApiError as exc:
            raise ValueError(f"counter {counter_id}: {exc.message}") from None
    return ServeConfig(settings, clock, tuple(counters))
