"""Counters and what configures them: tokens, goals, the status mapping, the CDP schema
(attributes, products), plus process-wide settings and id sequences."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from emulator.store.schema import COUNTER_TABLES

GoalRow = tuple[int, str, str | None, str]
"""``(goal_id, name, identifier, goal_type)``."""


class Counters:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # -- counters and tokens ----------------------------------------------------------------
    def get(self, counter_id: int) -> sqlite3.Row | None:
        return self.conn.execute(
            "SELECT counter_id, time_zone, rules_json FROM counters WHERE counter_id = ?",
            (counter_id,),
        ).fetchone()

    def ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT counter_id FROM counters ORDER BY 1")]

    def upsert(self, counter_id: int, time_zone: str, rules: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO counters (counter_id, time_zone, rules_json) VALUES (?, ?, ?) "
            "ON CONFLICT(counter_id) DO UPDATE SET time_zone = excluded.time_zone, "
            "rules_json = excluded.rules_json",
            (counter_id, time_zone, json.dumps(rules)),
        )

    def tokens(self, counter_id: int) -> dict[str, tuple[str, ...]]:
        rows = self.conn.execute(
            "SELECT token, scopes_json FROM tokens WHERE counter_id = ? ORDER BY token",
            (counter_id,),
        )
        return {token: tuple(json.loads(scopes)) for token, scopes in rows}

    def replace_tokens(self, counter_id: int, tokens: dict[str, Sequence[str]]) -> None:
        self.conn.execute("DELETE FROM tokens WHERE counter_id = ?", (counter_id,))
        self.conn.executemany(
            "INSERT INTO tokens (counter_id, token, scopes_json) VALUES (?, ?, ?)",
            [(counter_id, token, json.dumps(list(scopes))) for token, scopes in tokens.items()],
        )

    def token_scopes(self, token: str) -> dict[int, tuple[str, ...]]:
        rows = self.conn.execute(
            "SELECT counter_id, scopes_json FROM tokens WHERE token = ? ORDER BY 1", (token,)
        )
        return {counter_id: tuple(json.loads(scopes)) for counter_id, scopes in rows}

    def delete(self, counter_id: int) -> None:
        for table in COUNTER_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE counter_id = ?", (counter_id,))

    def reset(self) -> None:
        for table in (*COUNTER_TABLES, "sequences", "settings"):
            self.conn.execute(f"DELETE FROM {table}")

    # -- goals ------------------------------------------------------------------------------
    def goals(self, counter_id: int) -> list[GoalRow]:
        rows = self.conn.execute(
            "SELECT goal_id, name, identifier, goal_type FROM goals WHERE counter_id = ? "
            "ORDER BY goal_id",
            (counter_id,),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def replace_goals(self, counter_id: int, goals: Iterable[GoalRow]) -> None:
        self.conn.execute("DELETE FROM goals WHERE counter_id = ?", (counter_id,))
        self.add_goals(counter_id, goals)

    def add_goals(self, counter_id: int, goals: Iterable[GoalRow]) -> None:
        self.conn.executemany(
            "INSERT INTO goals (counter_id, goal_id, name, identifier, goal_type) "
            "VALUES (?, ?, ?, ?, ?)",
            [(counter_id, *goal) for goal in goals],
        )

    def update_goal(self, counter_id: int, goal_id: int, name: str, identifier: str) -> None:
        self.conn.execute(
            "UPDATE goals SET name = ?, identifier = ? WHERE counter_id = ? AND goal_id = ?",
            (name, identifier, counter_id, goal_id),
        )

    def retire_goal(self, counter_id: int, goal_id: int, goal_type: str) -> None:
        """Keep a deleted goal's row (no identifier, type ``goal_type``) so its id is never
        given again and its past reaches keep their name."""
        self.conn.execute(
            "UPDATE goals SET identifier = NULL, goal_type = ? "
            "WHERE counter_id = ? AND goal_id = ?",
            (goal_type, counter_id, goal_id),
        )

    # -- status mapping, attributes, products -----------------------------------------------
    def status_mapping(self, counter_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT record_json FROM status_mapping WHERE counter_id = ? ORDER BY rowid",
            (counter_id,),
        )
        return [json.loads(r[0]) for r in rows]

    def upsert_statuses(self, counter_id: int, statuses: Iterable[tuple[str, dict]]) -> None:
        """Upsert by status id (the docs do not say whether POST replaces the whole mapping)."""
        self.conn.executemany(
            "INSERT INTO status_mapping (counter_id, status_id, record_json) VALUES (?, ?, ?) "
            "ON CONFLICT(counter_id, status_id) DO UPDATE SET record_json = excluded.record_json",
            [(counter_id, status_id, json.dumps(record)) for status_id, record in statuses],
        )

    def attributes(self, counter_id: int, entity_type: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT record_json FROM attributes WHERE counter_id = ? AND entity_type = ? "
            "ORDER BY rowid",
            (counter_id, entity_type),
        )
        return [json.loads(r[0]) for r in rows]

    def upsert_attributes(
        self, counter_id: int, entity_type: str, attributes: Iterable[dict[str, Any]]
    ) -> None:
        self.conn.executemany(
            "INSERT INTO attributes (counter_id, entity_type, name, record_json) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(counter_id, entity_type, name) "
            "DO UPDATE SET record_json = excluded.record_json",
            [(counter_id, entity_type, a["name"], json.dumps(a)) for a in attributes],
        )

    def upsert_products(self, counter_id: int, items: Iterable[dict[str, Any]]) -> None:
        self.conn.executemany(
            "INSERT INTO products (counter_id, name, record_json) VALUES (?, ?, ?) "
            "ON CONFLICT(counter_id, name) DO UPDATE SET record_json = excluded.record_json",
            [(counter_id, item["name"], json.dumps(item)) for item in items],
        )

    # -- settings and sequences -------------------------------------------------------------
    def setting(self, name: str) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def set_setting(self, name: str, value: Any) -> None:
        if value is None:
            self.conn.execute("DELETE FROM settings WHERE name = ?", (name,))
            return
        self.conn.execute(
            "INSERT INTO settings (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, json.dumps(value)),
        )

    def next_values(self, name: str, count: int = 1, start: int = 1) -> int:
        """Reserve ``count`` consecutive values of a persistent sequence; returns the first."""
        row = self.conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
        first = start if row is None else int(row[0]) + 1
        self.conn.execute(
            "INSERT INTO sequences (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, first + count - 1),
        )
        return first
