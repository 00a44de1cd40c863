"""SQLite persistence: schema migrations, WAL, one transaction per applied upload.

The store knows rows and columns, never rules. Everything the engine keeps lives here, keyed
by counter, so a file database survives a restart and ``:memory:`` serves throw-away runs.
Times are stored as integer Unix seconds, money as decimal text (exact), records as JSON, and
uint64 identifiers (ClientIDs, yclids) as decimal text because SQLite integers are signed.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

MIGRATIONS: tuple[str, ...] = (
    # 1: the whole initial schema.
    """
    CREATE TABLE counters (
        counter_id INTEGER PRIMARY KEY,
        time_zone TEXT NOT NULL,
        rules_json TEXT NOT NULL,
        crm_goals_created INTEGER NOT NULL DEFAULT 0,
        offline_enabled_at INTEGER
    );
    CREATE TABLE tokens (
        counter_id INTEGER NOT NULL,
        token TEXT NOT NULL,
        scopes_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, token)
    );
    CREATE TABLE goals (
        counter_id INTEGER NOT NULL,
        goal_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        identifier TEXT,
        goal_type TEXT NOT NULL,
        PRIMARY KEY (counter_id, goal_id)
    );
    CREATE TABLE visits (
        counter_id INTEGER NOT NULL,
        visit_id INTEGER NOT NULL,
        client_id TEXT NOT NULL,
        start_time INTEGER NOT NULL,
        traffic_source TEXT NOT NULL,
        source_detail TEXT,
        utm_source TEXT,
        utm_medium TEXT,
        utm_campaign TEXT,
        utm_term TEXT,
        utm_content TEXT,
        yclid TEXT,
        record_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, visit_id)
    );
    CREATE INDEX visits_by_client ON visits (counter_id, client_id, start_time);
    CREATE TABLE status_mapping (
        counter_id INTEGER NOT NULL,
        status_id TEXT NOT NULL,
        record_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, status_id)
    );
    CREATE TABLE attributes (
        counter_id INTEGER NOT NULL,
        entity_type TEXT NOT NULL,
        name TEXT NOT NULL,
        record_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, entity_type, name)
    );
    CREATE TABLE products (
        counter_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        record_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, name)
    );
    CREATE TABLE contacts (
        counter_id INTEGER NOT NULL,
        uniq_id TEXT NOT NULL,
        record_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, uniq_id)
    );
    CREATE TABLE orders (
        counter_id INTEGER NOT NULL,
        order_key TEXT NOT NULL,
        customer_key TEXT NOT NULL,
        create_time INTEGER NOT NULL,
        status_id TEXT NOT NULL,
        status_type TEXT,
        revenue TEXT,
        cost TEXT,
        currency TEXT,
        linked_visit_id INTEGER,
        linked_by TEXT,
        linked_at INTEGER,
        fixed_status_id TEXT,
        created_goal_fired INTEGER NOT NULL DEFAULT 0,
        fired_cell_goals_json TEXT NOT NULL DEFAULT '[]',
        kind TEXT NOT NULL,
        record_json TEXT NOT NULL,
        PRIMARY KEY (counter_id, order_key)
    );
    CREATE INDEX orders_by_customer ON orders (counter_id, customer_key);
    CREATE TABLE goal_reaches (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        counter_id INTEGER NOT NULL,
        goal_id INTEGER NOT NULL,
        visit_id INTEGER NOT NULL,
        subject_type TEXT NOT NULL,
        subject_key TEXT NOT NULL,
        revenue TEXT,
        currency TEXT,
        at INTEGER NOT NULL
    );
    CREATE INDEX goal_reaches_by_counter ON goal_reaches (counter_id, seq);
    CREATE INDEX goal_reaches_by_subject ON goal_reaches (counter_id, subject_type, subject_key);
    CREATE TABLE decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        counter_id INTEGER NOT NULL,
        subject_type TEXT NOT NULL,
        subject_key TEXT NOT NULL,
        uploading_id TEXT,
        at INTEGER NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail_json TEXT NOT NULL
    );
    CREATE INDEX decisions_by_subject ON decisions (counter_id, subject_type, subject_key, seq);
    CREATE TABLE uploadings (
        counter_id INTEGER NOT NULL,
        uploading_id TEXT NOT NULL,
        family TEXT NOT NULL,
        kind TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        process_at INTEGER NOT NULL,
        processed_at INTEGER,
        meta_json TEXT NOT NULL,
        payload_json TEXT,
        PRIMARY KEY (counter_id, family, uploading_id)
    );
    CREATE INDEX uploadings_due ON uploadings (processed_at, process_at);
    CREATE TABLE offline_rows (
        counter_id INTEGER NOT NULL,
        uploading_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        record_json TEXT NOT NULL,
        visit_id INTEGER,
        code TEXT,
        reason TEXT,
        PRIMARY KEY (counter_id, uploading_id, line)
    );
    CREATE TABLE offline_conversions (
        counter_id INTEGER NOT NULL,
        conversion_key TEXT NOT NULL,
        reach_seq INTEGER NOT NULL,
        PRIMARY KEY (counter_id, conversion_key)
    );
    CREATE TABLE sequences (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)

COUNTER_TABLES = (
    "tokens",
    "goals",
    "visits",
    "status_mapping",
    "attributes",
    "products",
    "contacts",
    "orders",
    "goal_reaches",
    "decisions",
    "uploadings",
    "offline_rows",
    "offline_conversions",
    "counters",
)


class Store:
    """A SQLite database holding every counter's state.

    One connection guarded by a lock: the engine is single-writer by design (uploads are
    applied one at a time, as the real service queues them), and reads are cheap.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"database {self.path} has schema version {version}, newer than this "
                f"emulator ({len(MIGRATIONS)}); upgrade the package"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in script.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing: commits on success, rolls back on any exception."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        with self._lock:
            return self.conn.execute(sql, params).fetchone()

    def next_value(self, name: str, start: int = 1) -> int:
        """A persistent counter (uploading ids, goal ids); call inside a transaction."""
        row = self.conn.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
        value = start if row is None else int(row[0]) + 1
        self.conn.execute(
            "INSERT INTO sequences (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            (name, value),
        )
        return value

    # -- settings (clock and other process-wide state) -------------------------------------
    def get_setting(self, name: str) -> Any:
        row = self.query_one("SELECT value FROM settings WHERE name = ?", (name,))
        return None if row is None else json.loads(row[0])

    def set_setting(self, name: str, value: Any) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, json.dumps(value)),
            )

    # -- resets ---------------------------------------------------------------------------
    def delete_counter(self, counter_id: int) -> None:
        with self.transaction() as conn:
            for table in COUNTER_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE counter_id = ?", (counter_id,))

    def reset(self) -> None:
        """Forget everything: every counter, the clock, the id sequences."""
        with self.transaction() as conn:
            for table in (*COUNTER_TABLES, "sequences", "settings"):
                conn.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self.conn.close()
