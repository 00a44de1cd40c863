"""Orders and contacts: one row per record, read and written as Arrow tables.

Every column of a record table is named in its schema, so the engine hands over and gets back
Arrow columns and never sees SQL or the text encoding of lists (:mod:`.arrowsql`). Look-ups by
key run in chunks of bound parameters on whichever connection the caller holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from emulator.store.arrowsql import from_sql, to_sql

CHUNK = 500


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecordTable:
    """One table of keyed records of a counter (``orders`` or ``contacts``)."""

    def __init__(self, conn: sqlite3.Connection, table: str, key: str, schema: pa.Schema) -> None:
        self.conn = conn
        self.table = table
        self.key = key
        self.schema = schema
        self._columns = ", ".join(schema.names)

    def _table(self, rows: list[Any]) -> pa.Table:
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in self.schema]
        return pa.table(
            [
                from_sql(values, field.type)
                for values, field in zip(columns, self.schema, strict=True)
            ],
            schema=self.schema,
        )

    def load(self, counter_id: int, keys: Sequence[str]) -> pa.Table:
        """The stored records with these keys (any order; unknown keys are absent)."""
        rows: list[Any] = []
        for part in chunks(sorted(set(keys))):
            marks = ",".join("?" * len(part))
            rows += self.conn.execute(
                f"SELECT {self._columns} FROM {self.table} WHERE counter_id = ? "
                f"AND {self.key} IN ({marks})",
                (counter_id, *part),
            ).fetchall()
        return self._table(rows)

    def where(
        self, counter_id: int, column: str, values: Sequence[Any], extra: str = ""
    ) -> pa.Table:
        """Records whose ``column`` is one of ``values`` (plus an optional SQL condition)."""
        rows: list[Any] = []
        for part in chunks(sorted(set(values))):
            marks = ",".join("?" * len(part))
            rows += self.conn.execute(
                f"SELECT {self._columns} FROM {self.table} WHERE counter_id = ? "
                f"AND {column} IN ({marks}){extra} ORDER BY {self.key}",
                (counter_id, *part),
            ).fetchall()
        return self._table(rows)

    def all(self, counter_id: int, columns: Sequence[str] | None = None) -> pa.Table:
        """Every record of the counter (or only ``columns``), by key."""
        names = list(columns or self.schema.names)
        rows = self.conn.execute(
            f"SELECT {', '.join(names)} FROM {self.table} WHERE counter_id = ? ORDER BY {self.key}",
            (counter_id,),
        ).fetchall()
        fields = [self.schema.field(n) for n in names]
        columns_ = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        return pa.table(
            [from_sql(v, f.type) for v, f in zip(columns_, fields, strict=True)],
            schema=pa.schema(fields),
        )

    def count(self, counter_id: int) -> int:
        return int(
            self.conn.execute(
                f"SELECT COUNT(*) FROM {self.table} WHERE counter_id = ?", (counter_id,)
            ).fetchone()[0]
        )

    def counts_by(self, counter_id: int, column: str, values: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(sorted(set(values))):
            marks = ",".join("?" * len(part))
            for value, count in self.conn.execute(
                f"SELECT {column}, COUNT(*) FROM {self.table} WHERE counter_id = ? "
                f"AND {column} IN ({marks}) GROUP BY {column}",
                (counter_id, *part),
            ):
                found[value] = count
        return found

    def upsert(self, counter_id: int, records: pa.Table) -> None:
        """Insert or replace whole records (every column of the schema)."""
        if not len(records):
            return
        records = records.select(self.schema.names)
        columns = [to_sql(records.column(i)) for i in range(records.num_columns)]
        marks = ", ".join("?" * (len(columns) + 1))
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {self.table} (counter_id, {self._columns}) VALUES ({marks})",
            zip([counter_id] * len(records), *columns, strict=True),
        )
