"""A counter's setup: time zone, goals, tokens and rules, and the per-upload processing context.

Goals mirror the management API's goal objects
(https://yandex.ru/dev/metrika/ru/management/openapi/goals/): JS-event goals have an
``identifier`` that statuses, ``goals`` cells, mappings and offline ``Target`` values refer to;
CRM goals are created by the first successful CRM upload.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from emulator._old.linking import VisitTable
from emulator.dates import zone
from emulator.decisions import DecisionCode
from emulator.domain import MergeMode, OrderStatus
from emulator.rules import RuleSet

JS_GOAL = "action"
CRM_GOAL = "crm"
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

    def goal_by_identifier(self, identifier: str) -> Goal | None:
        for goal in self.goals:
            if goal.identifier == identifier and goal.type != CRM_GOAL:
                return goal
        return None

    def goal_by_name(self, name: str, goal_type: str) -> Goal | None:
        for goal in self.goals:
            if goal.name == name and goal.type == goal_type:
                return goal
        return None

    @property
    def js_goal_identifiers(self) -> frozenset[str]:
        return frozenset(g.identifier for g in self.goals if g.type == JS_GOAL and g.identifier)


@dataclass
class Processing:
    """Everything one upload's processing needs, and the log lines it produces.

    It runs inside the upload's transaction: goal reaches are written at once, decisions in
    one batch at the end, and both vanish with everything else if the upload fails.
    """

    counter: CounterConfig
    conn: sqlite3.Connection
    visits: VisitTable
    now: datetime
    uploading_id: str
    mapping: dict[str, OrderStatus]
    mode: MergeMode = MergeMode.SAVE
    pending: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def rules(self) -> RuleSet:
        return self.counter.rules

    @property
    def now_ts(self) -> int:
        return int(self.now.timestamp())

    def decide(
        self, subject_type: str, key: str, code: DecisionCode, reason: str, **detail: Any
    ) -> None:
        """Log a decision (buffered; :meth:`flush` writes the buffer in one statement)."""
        self.pending.append(
            (
                self.counter.counter_id,
                subject_type,
                key,
                self.uploading_id,
                self.now_ts,
                code.value,
                reason,
                json.dumps(detail, default=str, sort_keys=True),
            )
        )

    def flush(self) -> None:
        """Write the buffered decisions (inside the upload's transaction)."""
        self.conn.executemany(
            "INSERT INTO decisions (counter_id, subject_type, subject_key, uploading_id, at, "
            "code, reason, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.pending,
        )
        self.pending.clear()

    def fire(
        self,
        goal: Goal,
        visit_id: int,
        subject_type: str,
        key: str,
        revenue: Decimal | None,
        currency: str | None,
    ) -> int:
        """Record a reach of ``goal`` on ``visit_id`` now; returns its sequence number."""
        cursor = self.conn.execute(
            "INSERT INTO goal_reaches (counter_id, goal_id, visit_id, subject_type, subject_key, "
            "revenue, currency, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.counter.counter_id,
                goal.id,
                visit_id,
                subject_type,
                key,
                None if revenue is None else str(revenue),
                currency,
                self.now_ts,
            ),
        )
        self.decide(
            subject_type,
            key,
            DecisionCode.GOAL_FIRED,
            f"goal {goal.name!r} reached on visit {visit_id}"
            + ("" if revenue is None else f" with revenue {revenue} {currency or ''}".rstrip()),
            goal_id=goal.id,
            goal=goal.name,
            visit_id=visit_id,
            revenue=None if revenue is None else str(revenue),
        )
        return int(cursor.lastrowid or 0)


def to_ts(value: datetime) -> int:
    return int(value.timestamp())


def from_ts(value: int, tz: ZoneInfo | None = None) -> datetime:
    return datetime.fromtimestamp(value, tz=tz or UTC)
