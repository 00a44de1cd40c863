"""Read-side queries: an order with its history, decisions, goal reaches, offline rows, lists.

Everything here reads the committed state through a read session, so it answers while an
upload is being applied. A subject's history comes from the ledger entries its row names
(:func:`emulator.engine.work.with_entry`); decisions are rendered into sentences here
(:mod:`.explain`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.dates import from_ts
from emulator.domain import UploadKind
from emulator.engine.arrays import combined, scatter
from emulator.engine.columns import to_records
from emulator.engine.config import CounterConfig
from emulator.engine.explain import Context, Params, render
from emulator.engine.ledger import CONTACT, OFFLINE_ROW, ORDER
from emulator.engine.records import Records
from emulator.engine.work import Books
from emulator.serialize import to_jsonable
from emulator.store import Entry, Session


@dataclass(frozen=True)
class OrderView:
    """Everything the engine knows about one order (the control API's answer)."""

    order: dict[str, Any]
    status_type: str | None
    linked_visit_id: int | None
    linked_by: str | None
    decisions: list[dict[str, Any]]
    goal_reaches: list[dict[str, Any]]


@dataclass(frozen=True)
class Reader:
    """A read session and the record stores, for reading committed state."""

    session: Session
    books: Books

    def orders(
        self, counter_id: int, keys: list[str] | None = None, columns: list[str] | None = None
    ) -> pa.Table:
        return self._read(self.books.orders, counter_id, keys, columns)

    def contacts(
        self, counter_id: int, keys: list[str] | None = None, columns: list[str] | None = None
    ) -> pa.Table:
        return self._read(self.books.contacts, counter_id, keys, columns)

    def _read(
        self, book: Records, counter_id: int, keys: list[str] | None, columns: list[str] | None
    ) -> pa.Table:
        index = book.index(counter_id)
        if keys is None:
            return book.all(self.session, counter_id, index, columns)
        return book.load(self.session, counter_id, index, pa.array(keys, pa.string()))


def _seqs(entries: str | None) -> list[int]:
    return [int(s) for s in (entries or "").split(",") if s]


def subject_entries(
    reader: Reader, counter_id: int, subject_type: str, key: str
) -> list[int] | None:
    """The ledger entries that mention a subject (``None``: look everywhere)."""
    if subject_type in (ORDER, CONTACT):
        read = reader.orders if subject_type == ORDER else reader.contacts
        rows = read(counter_id, [key])
        mentioned = reader.session.ledger.mentions(counter_id, subject_type, key)
        if len(rows):
            return sorted({*_seqs(rows.column("entries")[0].as_py()), *mentioned})
        if mentioned:
            return mentioned
    return None


def _entries(
    reader: Reader, counter_id: int, kind: str, subject_type: str | None, key: str | None
) -> list[Entry]:
    session = reader.session
    if subject_type == OFFLINE_ROW and key is not None:
        return session.ledger.entries(counter_id, kind, uploading_id=key.split(":")[0])
    seqs = (
        None
        if subject_type is None or key is None
        else subject_entries(reader, counter_id, subject_type, key)
    )
    return session.ledger.entries(counter_id, kind, seqs=seqs)


def _only(table: pa.Table, subject_type: str | None, key: str | None) -> pa.Table:
    if subject_type is None:
        return table
    mask = pc.and_(
        pc.equal(table.column("subject_type"), subject_type),
        pc.equal(table.column("subject_key"), key),
    )
    return table.filter(mask)


def decisions(
    reader: Reader, counter: CounterConfig, subject_type: str, key: str
) -> list[dict[str, Any]]:
    context = Context(counter.counter_id, counter.tz)
    out = []
    for entry in _entries(reader, counter.counter_id, "decisions", subject_type, key):
        at = from_ts(entry.at, counter.tz).isoformat()
        for row in _only(entry.table, subject_type, key).to_pylist():
            params = Params(
                row["subject_type"],
                row["subject_key"],
                row["line"],
                row["n1"],
                row["n2"],
                row["s1"],
                row["s2"],
                row["s3"],
            )
            message, data = render(row["code"], params, context)
            out.append(
                {
                    "at": at,
                    "code": row["code"],
                    "detail": message,
                    "data": data,
                    "uploading_id": entry.uploading_id,
                }
            )
    return out


def reach_table(reader: Reader, counter_id: int) -> pa.Table:
    """Every goal reach as columns (``goal_id``, ``visit_id``, ``revenue``), with re-sent
    offline conversions' revenue as it now stands."""
    entries = reader.session.ledger.entries(counter_id, "reaches")
    if not entries:
        return pa.table(
            {
                "goal_id": pa.array([], pa.int64()),
                "visit_id": pa.array([], pa.int64()),
                "revenue": pa.array([], pa.string()),
            }
        )
    table = pa.concat_tables([e.table for e in entries]).combine_chunks()
    revised = reader.session.conversions.revised(counter_id)
    revenue = table.column("revenue")
    if revised:
        ids = np.asarray(table.column("reach_id"))
        changed = np.flatnonzero(np.isin(ids, np.array(list(revised), np.int64)))
        values = pa.array([revised[int(i)][0] for i in ids[changed]], pa.string())
        revenue = scatter(combined(revenue), changed, values)
    return pa.table(
        {
            "goal_id": table.column("goal_id"),
            "visit_id": table.column("visit_id"),
            "revenue": revenue,
        }
    )


def goal_reaches(
    reader: Reader,
    counter: CounterConfig,
    subject_type: str | None = None,
    key: str | None = None,
) -> list[dict[str, Any]]:
    """Every goal reach, in the order it happened (optionally of one subject)."""
    goals = {g.id: g for g in counter.goals}
    revised = reader.session.conversions.revised(counter.counter_id)
    out = []
    for entry in _entries(reader, counter.counter_id, "reaches", subject_type, key):
        at = from_ts(entry.at, counter.tz).isoformat()
        for row in _only(entry.table, subject_type, key).to_pylist():
            revenue, currency = row["revenue"], row["currency"]
            if row["subject_type"] == OFFLINE_ROW and row["reach_id"] in revised:
                revenue, currency = revised[row["reach_id"]]
            goal = goals.get(row["goal_id"])
            out.append(
                {
                    "goal": goal.name if goal else str(row["goal_id"]),
                    "goal_id": row["goal_id"],
                    "identifier": goal.identifier if goal else None,
                    "visit_id": row["visit_id"],
                    "revenue": revenue,
                    "currency": currency,
                    "at": at,
                    "subject_type": row["subject_type"],
                    "subject_key": row["subject_key"],
                }
            )
    return out


def order_view(reader: Reader, counter: CounterConfig, key: str) -> OrderView | None:
    rows = reader.orders(counter.counter_id, [key])
    history = decisions(reader, counter, ORDER, key)
    if not len(rows) and not history:
        return None
    if not len(rows):
        return OrderView({}, None, None, None, history, [])
    row = rows.to_pylist()[0]
    kind = UploadKind(row["kind"])
    record = to_records(kind, rows, counter.tz)[0]
    return OrderView(
        order=to_jsonable(record),
        status_type=row["status_type"],
        linked_visit_id=row["linked_visit_id"],
        linked_by=row["linked_by"],
        decisions=history,
        goal_reaches=goal_reaches(reader, counter, ORDER, key),
    )


SUMMARY = [
    "order_key",
    "kind",
    "customer_key",
    "create_date_time",
    "status_id",
    "status_type",
    "revenue",
    "cost",
    "linked_visit_id",
    "linked_by",
]


def orders_summary(reader: Reader, counter_id: int) -> list[dict[str, Any]]:
    """Every order in one list: status, amounts, link and the codes of its decisions."""
    codes: dict[str, list[str]] = defaultdict(list)
    for entry in reader.session.ledger.entries(counter_id, "decisions"):
        table = entry.table.filter(pc.equal(entry.table.column("subject_type"), ORDER))
        for key, code in zip(
            table.column("subject_key").to_pylist(), table.column("code").to_pylist(), strict=True
        ):
            codes[key].append(code)
    rows = reader.orders(counter_id, columns=SUMMARY).to_pylist()
    return [
        {
            "order_id": r["order_key"],
            "kind": r["kind"],
            "customer": r["customer_key"],
            "create_time": r["create_date_time"],
            "status": r["status_id"],
            "status_type": r["status_type"],
            "revenue": r["revenue"],
            "cost": r["cost"],
            "linked_visit_id": r["linked_visit_id"],
            "linked_by": r["linked_by"],
            "decisions": codes.get(r["order_key"], []),
        }
        for r in rows
    ]


def offline_rows(
    reader: Reader, counter: CounterConfig, uploading_id: str, kind: UploadKind
) -> list[dict[str, Any]]:
    """Each row of an offline uploading with its linked visit or the reason it has none."""
    context = Context(counter.counter_id, counter.tz)
    out = []
    for entry in reader.session.ledger.entries(
        counter.counter_id, "offline_rows", uploading_id=uploading_id
    ):
        table = entry.table
        fields = [
            n for n in table.column_names if n not in ("visit_id", "code", "n1", "n2", "s1", "s2")
        ]
        records = to_records(kind, table.select(fields), UTC)  # type: ignore[arg-type]
        for record, row in zip(records, table.to_pylist(), strict=True):
            key = f"{uploading_id}:{row['line']}"
            params = Params(
                OFFLINE_ROW, key, row["line"], row["n1"], row["n2"], row["s1"], row["s2"], None
            )
            reason, _ = render(row["code"], params, context)
            out.append(
                {
                    "line": row["line"],
                    "row": to_jsonable(record),
                    "visit_id": row["visit_id"],
                    "code": row["code"],
                    "reason": reason,
                }
            )
    return sorted(out, key=lambda r: r["line"])


def users_and_customers(reader: Reader, counter_id: int) -> list[dict[str, Any]]:
    """Every contact with its orders, linked or not, and its lifetime value (paid revenue)."""
    contacts = {
        r["uniq_id"]: r
        for r in reader.contacts(counter_id, columns=["uniq_id", "name", "client_ids"]).to_pylist()
    }
    columns = [
        "order_key",
        "customer_key",
        "status_id",
        "status_type",
        "revenue",
        "linked_visit_id",
    ]
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for order in reader.orders(counter_id, columns=columns).to_pylist():
        by_customer[order["customer_key"]].append(order)
    customers = []
    for uniq_id in sorted(set(contacts) | set(by_customer)):
        contact = contacts.get(uniq_id)
        own = by_customer.get(uniq_id, [])
        ltv = sum(
            (
                Decimal(o["revenue"])
                for o in own
                if o["status_type"] == "PAID" and o["revenue"] is not None
            ),
            Decimal(0),
        )
        customers.append(
            {
                "uniq_id": uniq_id,
                "name": contact["name"] if contact else None,
                "client_ids": list(contact["client_ids"] or ()) if contact else [],
                "orders": [
                    {
                        "id": o["order_key"],
                        "status": o["status_id"],
                        "status_type": o["status_type"],
                        "revenue": o["revenue"],
                        "linked_visit_id": o["linked_visit_id"],
                    }
                    for o in own
                ],
                "lifetime_value": str(ltv),
            }
        )
    return customers


def order_keys(reader: Reader, counter_id: int) -> list[str]:
    return reader.orders(counter_id, columns=["order_key"]).column("order_key").to_pylist()
