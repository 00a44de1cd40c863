"""The plan of a batch run: the counter, and every upload with what the service does with it.

Whether an upload is accepted is a property of the whole upload, not of a partition's share
of it: a CRM file with one bad row, or one status the counter does not know, is refused as a
whole (https://yandex.ru/dev/metrika/en/data-import/maporderstatuses-about; rule
``unknown_status``). The plan decides it once, from ``uploads.parquet``, and every partition
then sends only what was accepted. It also fixes what would otherwise depend on which
partition sees an upload first: the ids of the CRM goals (created by the first CRM upload),
of call goals (by the first calls upload of a name) and of offline uploadings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from emulator.batch import layout
from emulator.batch.intake import STATUS_MAPPING
from emulator.batch.world import counter_of
from emulator.domain import OrderStatus
from emulator.engine.config import CALL_GOAL, FIRST_GOAL_ID, CounterConfig, Goal
from emulator.formats import parse_status_mapping
from emulator.goals import crm_goal_name, crm_goal_type, crm_goals_of, resolve_status
from emulator.rules import RuleSet, UnknownStatus

CRM_KINDS = frozenset({"contacts", "orders", "simple_orders"})
OFFLINE_KINDS = frozenset({"offline_conversions", "calls"})
DEFAULT_CALL_GOAL = "Calls"
"""The call goal's name when ``upload_calls`` gets no ``new_goal_name`` (spec §7.7)."""


@dataclass(frozen=True)
class Step:
    """One upload of the timeline, as the plan decided it."""

    seq: int
    sent_at: datetime
    kind: str
    params: dict[str, str]
    accepted: bool
    mapping: str | None = None
    offline_id: int | None = None
    """The uploading id the service gives an accepted offline or calls upload."""


@dataclass(frozen=True)
class Plan:
    world: str
    out: str
    exchange: str
    parts: int
    counter: CounterConfig
    steps: tuple[Step, ...]
    finish_at: datetime
    """The clock at the end: a second past every processing time (as ``crmemu run`` does)."""
    first_contacts: int | None = None
    """The seq of the counter's first accepted contacts upload: its processing time is when
    the counter starts linking orders (rule ``contacts_first``), for every partition."""
    notes: dict[str, Any] = field(default_factory=dict)


class _Goals:
    """Goals as the counter gains them, with the ids the service would give them."""

    def __init__(self, counter: CounterConfig) -> None:
        self.goals = list(counter.goals)

    def add(self, name: str, kind: str) -> None:
        if any(g.name == name and g.type == kind for g in self.goals):
            return
        next_id = max([FIRST_GOAL_ID - 1, *(g.id for g in self.goals)]) + 1
        self.goals.append(Goal(next_id, name, None, kind))


def make_plan(
    world: str | Path, out: str | Path, rules: RuleSet | None = None, exchange: str | None = None
) -> Plan:
    """The plan of applying ``rules`` (default: the world's counter rules) to ``world``."""
    manifest = layout.read_manifest(world)
    counter = counter_of(manifest["counter"], manifest["counter_id"])
    if rules is not None:
        if rules.end_of_day is not counter.rules.end_of_day:
            raise ValueError(
                f"the world's uploads were read with end_of_day={counter.rules.end_of_day.value}; "
                f"rules with end_of_day={rules.end_of_day.value} need the world simulated again"
            )
        counter = replace(counter, rules=rules)
    uploads = pq.read_table(Path(world) / layout.UPLOADS).to_pylist()
    goals = _Goals(counter)
    mapping: dict[str, OrderStatus] = {}
    steps, offline = [], 0
    for row in uploads:
        params = json.loads(row["params"])
        accepted = _accepted(row, counter, mapping)
        offline_id = None
        if accepted and row["kind"] == STATUS_MAPPING:
            statuses, _ = parse_status_mapping(json.loads(row["mapping"]))
            mapping |= {s.id: s for s in statuses}
        elif accepted and row["kind"] in CRM_KINDS:
            for goal in crm_goals_of(counter.rules):
                goals.add(crm_goal_name(goal, counter.rules), crm_goal_type(goal, counter.rules))
        elif accepted and row["kind"] in OFFLINE_KINDS:
            offline += 1
            offline_id = offline
            if row["kind"] == "calls":
                goals.add(params.get("new_goal_name") or DEFAULT_CALL_GOAL, CALL_GOAL)
        steps.append(
            Step(
                row["seq"],
                row["sent_at"],
                row["kind"],
                params,
                accepted,
                row["mapping"],
                offline_id,
            )
        )
    last = max((s.sent_at for s in steps), default=datetime.fromtimestamp(0).astimezone())
    delay = timedelta(seconds=counter.rules.processing_delay_seconds + 1)
    return Plan(
        world=str(world),
        out=str(out),
        exchange=exchange or str(Path(out) / "_exchange"),
        parts=int(manifest["parts"]),
        counter=replace(counter, goals=tuple(goals.goals)),
        steps=tuple(steps),
        finish_at=last + delay,
        first_contacts=next((s.seq for s in steps if s.accepted and s.kind == "contacts"), None),
        notes={"refused": [s.seq for s in steps if not s.accepted]},
    )


def _accepted(row: dict[str, Any], counter: CounterConfig, mapping: dict[str, OrderStatus]) -> bool:
    """Whether the service takes the upload (then all of it; else none of it)."""
    kind = row["kind"]
    if kind == STATUS_MAPPING:
        return not row["errors"]
    if kind in OFFLINE_KINDS:
        return not row["structural"] and row["rows"] > 0
    if row["errors"] or not row["rows"]:
        return False
    if kind == "contacts" or counter.rules.unknown_status is not UnknownStatus.REJECT:
        return True
    known = counter.js_goal_identifiers
    return all(resolve_status(s, mapping, known) is not None for s in row["statuses"] or ())
