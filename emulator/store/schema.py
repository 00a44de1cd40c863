"""The database schema, as numbered migrations (``PRAGMA user_version`` says which ran).

Times are integer Unix seconds, money is decimal text (exact), lists are JSON text, and
uint64 identifiers (ClientIDs, yclids) are stored bit for bit as signed integers (SQLite's
integers are signed). Bulk data does not become one row per item: visits, versions of orders
and contacts, and the ledger (decisions, goal reaches, offline rows) are Arrow IPC chunks in
BLOBs, one per load or applied upload, so millions of them cost a few inserts.
"""

from __future__ import annotations

LEGACY_VERSION = 1
"""Version 0.1's schema (one JSON document per visit, decision and order)."""

SCHEMA_V2 = """
CREATE TABLE counters (
    counter_id INTEGER PRIMARY KEY,
    time_zone TEXT NOT NULL,
    rules_json TEXT NOT NULL
);
CREATE TABLE tokens (
    counter_id INTEGER NOT NULL,
    token TEXT NOT NULL,
    scopes_json TEXT NOT NULL,
    PRIMARY KEY (counter_id, token)
);
CREATE INDEX tokens_by_token ON tokens (token);
CREATE TABLE goals (
    counter_id INTEGER NOT NULL,
    goal_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    identifier TEXT,
    goal_type TEXT NOT NULL,
    PRIMARY KEY (counter_id, goal_id)
);
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
CREATE TABLE visit_chunks (
    counter_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    chunk BLOB NOT NULL,
    PRIMARY KEY (counter_id, seq)
);
CREATE TABLE record_chunks (
    counter_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    keys BLOB NOT NULL,
    chunk BLOB NOT NULL,
    PRIMARY KEY (counter_id, kind, seq)
);
CREATE TABLE uploadings (
    counter_id INTEGER NOT NULL,
    family TEXT NOT NULL,
    uploading_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    process_at INTEGER NOT NULL,
    processed_at INTEGER,
    meta_json TEXT NOT NULL,
    params_json TEXT NOT NULL,
    PRIMARY KEY (counter_id, family, uploading_id)
);
CREATE INDEX uploadings_due ON uploadings (processed_at, process_at);
CREATE INDEX uploadings_by_time ON uploadings (counter_id, family, received_at);
CREATE TABLE pending_parts (
    counter_id INTEGER NOT NULL,
    family TEXT NOT NULL,
    uploading_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    chunk BLOB NOT NULL,
    PRIMARY KEY (counter_id, family, uploading_id, part)
);
CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    counter_id INTEGER NOT NULL,
    uploading_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    decisions BLOB,
    reaches BLOB,
    offline_rows BLOB
);
CREATE INDEX ledger_by_counter ON ledger (counter_id, seq);
CREATE INDEX ledger_by_uploading ON ledger (counter_id, uploading_id);
CREATE TABLE ledger_mentions (
    counter_id INTEGER NOT NULL,
    subject_type TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (counter_id, subject_type, subject_key, seq)
) WITHOUT ROWID;
CREATE TABLE offline_conversions (
    counter_id INTEGER NOT NULL,
    conversion_key TEXT NOT NULL,
    reach_id INTEGER NOT NULL,
    revenue TEXT,
    currency TEXT,
    PRIMARY KEY (counter_id, conversion_key)
) WITHOUT ROWID;
CREATE INDEX offline_conversions_by_reach ON offline_conversions (counter_id, reach_id);
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

COUNTER_TABLES = (
    "tokens",
    "goals",
    "status_mapping",
    "attributes",
    "products",
    "visit_chunks",
    "record_chunks",
    "uploadings",
    "pending_parts",
    "ledger",
    "ledger_mentions",
    "offline_conversions",
    "counters",
)
"""Every table keyed by counter, children first (what deleting a counter empties)."""
