"""Uploads as Arrow tables of the engine's columns, and back to domain records.

Every upload kind becomes one table per batch with a ``line`` column and the kind's fields in
the store's types (:mod:`emulator.store.tables`): date-times as Unix seconds, money as decimal
text, lists as Arrow lists. A parsed file arrives column by column (the formats layer already
checked it); records given in Python (``upload_records``) are turned into the same columns.
Records are rebuilt only where a reader needs one (an order's view, a seeded shuffle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from emulator.dates import from_ts
from emulator.domain import (
    Call,
    Contact,
    OfflineConversion,
    Order,
    OrderGoal,
    SimpleOrder,
    UploadKind,
)
from emulator.formats import ValidatedBatch
from emulator.store.tables import ATTRIBUTE_ITEM, CONTACT_FIELDS, ORDER_FIELDS

LINE = pa.field("line", pa.int64())
OFFLINE_FIELDS = pa.schema(
    [
        pa.field("target", pa.string()),
        pa.field("date_time", pa.int64()),
        pa.field("client_id", pa.uint64()),
        pa.field("user_id", pa.string()),
        pa.field("yclid", pa.uint64()),
        pa.field("purchase_id", pa.string()),
        pa.field("price", pa.string()),
        pa.field("currency", pa.string()),
    ]
)
CALL_FIELDS = pa.schema(
    [
        pa.field("date_time", pa.int64()),
        pa.field("client_id", pa.uint64()),
        pa.field("user_id", pa.string()),
        pa.field("yclid", pa.uint64()),
        pa.field("static_call", pa.bool_()),
        pa.field("price", pa.string()),
        pa.field("currency", pa.string()),
        pa.field("phone_number", pa.string()),
        pa.field("talk_duration", pa.int64()),
        pa.field("hold_duration", pa.int64()),
        pa.field("call_missed", pa.bool_()),
        pa.field("tag", pa.string()),
        pa.field("first_time_caller", pa.bool_()),
        pa.field("url", pa.string()),
        pa.field("call_tracker_url", pa.string()),
    ]
)
SCHEMAS: dict[UploadKind, pa.Schema] = {
    UploadKind.SIMPLE_ORDERS: pa.schema([LINE, *ORDER_FIELDS]),
    UploadKind.ORDERS: pa.schema([LINE, *ORDER_FIELDS]),
    UploadKind.CONTACTS: pa.schema([LINE, *CONTACT_FIELDS]),
    UploadKind.OFFLINE_CONVERSIONS: pa.schema([LINE, *OFFLINE_FIELDS]),
    UploadKind.CALLS: pa.schema([LINE, *CALL_FIELDS]),
}
RECORD_TYPES: dict[UploadKind, type] = {
    UploadKind.SIMPLE_ORDERS: SimpleOrder,
    UploadKind.ORDERS: Order,
    UploadKind.CONTACTS: Contact,
    UploadKind.OFFLINE_CONVERSIONS: OfflineConversion,
    UploadKind.CALLS: Call,
}
EPOCH = date(1970, 1, 1)
FIELD_NAMES: dict[UploadKind, list[str]] = {
    kind: [f.name for f in dataclasses.fields(record)] for kind, record in RECORD_TYPES.items()
}
"""Record fields in their dataclass order (what an ``UPDATED`` decision lists)."""


def _attribute_lists(attributes: dict[str, pa.Array], size: int) -> pa.Array:
    """Per row, the sent ``(name, value)`` pairs sorted by name, or null when none."""
    if not attributes:
        return pa.nulls(size, pa.list_(ATTRIBUTE_ITEM))
    names = sorted(attributes)
    columns = [attributes[n].to_pylist() for n in names]
    rows = []
    for values in zip(*columns, strict=True):
        pairs = [
            {"name": n, "value": v} for n, v in zip(names, values, strict=True) if v is not None
        ]
        rows.append(pairs or None)
    return pa.array(rows, pa.list_(ATTRIBUTE_ITEM))


def from_batch(batch: ValidatedBatch) -> pa.Table:
    """The valid rows of a checked batch as the engine's columns."""
    schema = SCHEMAS[batch.kind]
    rows = np.flatnonzero(batch.valid)
    take = None if len(rows) == len(batch.valid) else pa.array(rows, pa.int64())
    columns = []
    for field in schema:
        if field.name == "line":
            columns.append(pa.array(batch.lines[rows], pa.int64()))
        elif field.name in batch.values:
            values = batch.values[field.name]
            columns.append((values if take is None else values.take(take)).cast(field.type))
        elif field.name == "attribute_values":
            attributes = {
                n: (a if take is None else a.take(take)) for n, a in batch.attributes.items()
            }
            columns.append(_attribute_lists(attributes, len(rows)))
        else:
            columns.append(pa.nulls(len(rows), field.type))
    return pa.table(columns, schema=schema)


# -- records → columns ----------------------------------------------------------------------
PAIR_KEYS = {"products": ("name", "qty"), "attribute_values": ("name", "value")}


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, date):
        return (value - EPOCH).days
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        if name in PAIR_KEYS:
            first, second = PAIR_KEYS[name]
            return [{first: a, second: b} for a, b in value]
        return [
            {"goal_action_id": v.goal_action_id, "price": _cell("price", v.price)}
            if isinstance(v, OrderGoal)
            else v
            for v in value
        ]
    return value


def from_records(kind: UploadKind, records: Sequence[Any], lines: Sequence[int]) -> pa.Table:
    """Domain records (of ``kind``) as the engine's columns."""
    schema = SCHEMAS[kind]
    names = {f.name for f in dataclasses.fields(RECORD_TYPES[kind])}
    columns: list[pa.Array] = [pa.array(list(lines), pa.int64())]
    for field in list(schema)[1:]:
        if field.name in names:
            values = [_cell(field.name, getattr(r, field.name)) for r in records]
            columns.append(pa.array(values, field.type))
        else:
            columns.append(pa.nulls(len(records), field.type))
    return pa.table(columns, schema=schema)


# -- columns → records ----------------------------------------------------------------------
def _to_python(name: str, value: Any, tz: ZoneInfo) -> Any:
    if value is None:
        return None
    if name == "birth_date":
        return date.fromordinal(EPOCH.toordinal() + value)
    if name.endswith("date_time"):
        return from_ts(value, tz)
    if name in ("revenue", "cost", "price"):
        return Decimal(value)
    if name == "goals":
        return tuple(
            OrderGoal(g["goal_action_id"], None if g["price"] is None else Decimal(g["price"]))
            for g in value
        )
    if name == "products":
        return tuple((p["name"], p["qty"]) for p in value)
    if name == "attribute_values":
        return tuple((a["name"], a["value"]) for a in value)
    if isinstance(value, list):
        return tuple(value)
    return value


def to_records(kind: UploadKind, table: pa.Table, tz: ZoneInfo) -> list[Any]:
    """Domain records of ``kind`` from rows of the engine's columns (date-times in ``tz``)."""
    record = RECORD_TYPES[kind]
    fields = [f for f in dataclasses.fields(record) if f.name in table.column_names]
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    out = []
    for row in table.select([f.name for f in fields]).to_pylist():
        values = {n: _to_python(n, v, tz) for n, v in row.items()}
        for name, default in defaults.items():
            if values[name] is None and default is not None:
                values[name] = default
        out.append(record(**values))
    return out
