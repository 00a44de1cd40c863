"""Rows ↔ engine objects for contacts, orders and status mappings (SQL lives here only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from emulator.domain import Contact, Order, OrderStatus, SimpleOrder, StatusType
from emulator.serialize import from_jsonable, to_jsonable

ORDERS = "orders"
SIMPLE_ORDERS = "simple_orders"
RECORD_TYPES: dict[str, type] = {ORDERS: Order, SIMPLE_ORDERS: SimpleOrder}
CHUNK = 500  # SQLite's bound-parameter limit is far above; this keeps statements small


@dataclass
class StoredOrder:
    """An order as the engine keeps it: the merged record plus linking and goal state."""

    key: str
    kind: str
    record: Order | SimpleOrder
    customer_key: str
    status_id: str
    status_type: StatusType | None
    linked_visit_id: int | None = None
    linked_by: str | None = None
    linked_at: int | None = None
    fixed_status_id: str | None = None
    created_goal_fired: bool = False
    fired_cell_goals: list[str] = field(default_factory=list)

    @property
    def create_time(self) -> int:
        return int(self.record.create_date_time.timestamp())

    @property
    def linked(self) -> bool:
        return self.linked_visit_id is not None

    @property
    def revenue(self) -> Decimal | None:
        return self.record.revenue

    @property
    def cost(self) -> Decimal | None:
        return self.record.cost


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _order_from_row(row: sqlite3.Row) -> StoredOrder:
    kind = row["kind"]
    return StoredOrder(
        key=row["order_key"],
        kind=kind,
        record=from_jsonable(RECORD_TYPES[kind], json.loads(row["record_json"])),
        customer_key=row["customer_key"],
        status_id=row["status_id"],
        status_type=StatusType(row["status_type"]) if row["status_type"] else None,
        linked_visit_id=row["linked_visit_id"],
        linked_by=row["linked_by"],
        linked_at=row["linked_at"],
        fixed_status_id=row["fixed_status_id"],
        created_goal_fired=bool(row["created_goal_fired"]),
        fired_cell_goals=json.loads(row["fired_cell_goals_json"]),
    )


def load_orders(
    conn: sqlite3.Connection, counter_id: int, keys: Sequence[str]
) -> dict[str, StoredOrder]:
    found: dict[str, StoredOrder] = {}
    for chunk in _chunks(list(keys)):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT * FROM orders WHERE counter_id = ? AND order_key IN ({marks})",
            (counter_id, *chunk),
        ):
            found[row["order_key"]] = _order_from_row(row)
    return found


def orders_of_customers(
    conn: sqlite3.Connection, counter_id: int, customer_keys: Sequence[str], unlinked_only: bool
) -> list[StoredOrder]:
    result: list[StoredOrder] = []
    extra = " AND linked_visit_id IS NULL" if unlinked_only else ""
    for chunk in _chunks(list(customer_keys)):
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT * FROM orders WHERE counter_id = ? AND customer_key IN ({marks}){extra} "
            "ORDER BY order_key",
            (counter_id, *chunk),
        )
        result.extend(_order_from_row(row) for row in rows)
    return result


def iter_orders(conn: sqlite3.Connection, counter_id: int) -> Iterator[StoredOrder]:
    for row in conn.execute(
        "SELECT * FROM orders WHERE counter_id = ? ORDER BY order_key", (counter_id,)
    ):
        yield _order_from_row(row)


def count_orders_by_customer(
    conn: sqlite3.Connection, counter_id: int, customer_keys: Iterable[str]
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chunk in _chunks(sorted(set(customer_keys))):
        marks = ",".join("?" * len(chunk))
        for key, count in conn.execute(
            f"SELECT customer_key, COUNT(*) FROM orders WHERE counter_id = ? "
            f"AND customer_key IN ({marks}) GROUP BY customer_key",
            (counter_id, *chunk),
        ):
            counts[key] = count
    return counts


def save_order(conn: sqlite3.Connection, counter_id: int, order: StoredOrder) -> None:
    record = order.record
    conn.execute(
        "INSERT OR REPLACE INTO orders (counter_id, order_key, customer_key, create_time, "
        "status_id, status_type, revenue, cost, currency, linked_visit_id, linked_by, linked_at, "
        "fixed_status_id, created_goal_fired, fired_cell_goals_json, kind, record_json) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            counter_id,
            order.key,
            order.customer_key,
            order.create_time,
            order.status_id,
            order.status_type.value if order.status_type else None,
            None if record.revenue is None else str(record.revenue),
            None if record.cost is None else str(record.cost),
            record.currency,
            order.linked_visit_id,
            order.linked_by,
            order.linked_at,
            order.fixed_status_id,
            int(order.created_goal_fired),
            json.dumps(order.fired_cell_goals),
            order.kind,
            json.dumps(to_jsonable(record)),
        ),
    )


def load_contacts(
    conn: sqlite3.Connection, counter_id: int, uniq_ids: Iterable[str]
) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for chunk in _chunks(sorted(set(uniq_ids))):
        marks = ",".join("?" * len(chunk))
        for uniq_id, record in conn.execute(
            f"SELECT uniq_id, record_json FROM contacts "
            f"WHERE counter_id = ? AND uniq_id IN ({marks})",
            (counter_id, *chunk),
        ):
            found[uniq_id] = from_jsonable(Contact, json.loads(record))
    return found


def iter_contacts(conn: sqlite3.Connection, counter_id: int) -> Iterator[Contact]:
    for (record,) in conn.execute(
        "SELECT record_json FROM contacts WHERE counter_id = ? ORDER BY uniq_id", (counter_id,)
    ):
        yield from_jsonable(Contact, json.loads(record))


def save_contact(conn: sqlite3.Connection, counter_id: int, contact: Contact) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO contacts (counter_id, uniq_id, record_json) VALUES (?, ?, ?)",
        (counter_id, contact.uniq_id, json.dumps(to_jsonable(contact))),
    )


def load_mapping(conn: sqlite3.Connection, counter_id: int) -> dict[str, OrderStatus]:
    return {
        status_id: from_jsonable(OrderStatus, json.loads(record))
        for status_id, record in conn.execute(
            "SELECT status_id, record_json FROM status_mapping WHERE counter_id = ? ORDER BY rowid",
            (counter_id,),
        )
    }


def save_mapping(
    conn: sqlite3.Connection, counter_id: int, statuses: Iterable[OrderStatus]
) -> None:
    """Upsert by id (the docs do not say whether POST replaces the whole mapping; §4.6)."""
    conn.executemany(
        "INSERT INTO status_mapping (counter_id, status_id, record_json) VALUES (?, ?, ?) "
        "ON CONFLICT(counter_id, status_id) DO UPDATE SET record_json = excluded.record_json",
        [(counter_id, s.id, json.dumps(to_jsonable(s))) for s in statuses],
    )
