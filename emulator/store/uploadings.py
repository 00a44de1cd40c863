"""Uploadings: what each accepted upload answered, when it is due, and its pending rows.

An accepted upload's validated rows wait here as Arrow chunks (``pending_parts``) until it is
processed; processing deletes them in the same transaction that applies them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from emulator.store.chunks import decode, encode


@dataclass(frozen=True)
class UploadingRow:
    counter_id: int
    family: str
    uploading_id: str
    kind: str
    received_at: int
    process_at: int
    processed_at: int | None
    meta: dict[str, Any]
    params: dict[str, Any]


def _row(r: sqlite3.Row) -> UploadingRow:
    return UploadingRow(
        r["counter_id"],
        r["family"],
        r["uploading_id"],
        r["kind"],
        r["received_at"],
        r["process_at"],
        r["processed_at"],
        json.loads(r["meta_json"]),
        json.loads(r["params_json"]),
    )


class Uploadings:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, row: UploadingRow) -> None:
        self.conn.execute(
            "INSERT INTO uploadings (counter_id, family, uploading_id, kind, received_at, "
            "process_at, processed_at, meta_json, params_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.counter_id,
                row.family,
                row.uploading_id,
                row.kind,
                row.received_at,
                row.process_at,
                row.processed_at,
                json.dumps(row.meta),
                json.dumps(row.params),
            ),
        )

    def add_part(
        self, counter_id: int, family: str, uploading_id: str, part: int, rows: pa.Table
    ) -> None:
        self.conn.execute(
            "INSERT INTO pending_parts (counter_id, family, uploading_id, part, chunk) "
            "VALUES (?, ?, ?, ?, ?)",
            (counter_id, family, uploading_id, part, encode(rows)),
        )

    def parts(self, counter_id: int, family: str, uploading_id: str) -> Iterator[pa.Table]:
        """The pending rows, one part at a time (a large upload never sits in memory whole)."""
        numbers = [
            r[0]
            for r in self.conn.execute(
                "SELECT part FROM pending_parts WHERE counter_id = ? AND family = ? "
                "AND uploading_id = ? ORDER BY part",
                (counter_id, family, uploading_id),
            )
        ]
        for number in numbers:
            (blob,) = self.conn.execute(
                "SELECT chunk FROM pending_parts WHERE counter_id = ? AND family = ? "
                "AND uploading_id = ? AND part = ?",
                (counter_id, family, uploading_id, number),
            ).fetchone()
            yield decode(blob)

    def finish(
        self,
        counter_id: int,
        family: str,
        uploading_id: str,
        processed_at: int,
        meta: dict[str, Any],
    ) -> None:
        self.conn.execute(
            "UPDATE uploadings SET processed_at = ?, meta_json = ? WHERE counter_id = ? "
            "AND family = ? AND uploading_id = ?",
            (processed_at, json.dumps(meta), counter_id, family, uploading_id),
        )
        self.conn.execute(
            "DELETE FROM pending_parts WHERE counter_id = ? AND family = ? AND uploading_id = ?",
            (counter_id, family, uploading_id),
        )

    def get(self, counter_id: int, family: str, uploading_id: str) -> UploadingRow | None:
        row = self.conn.execute(
            "SELECT * FROM uploadings WHERE counter_id = ? AND family = ? AND uploading_id = ?",
            (counter_id, family, uploading_id),
        ).fetchone()
        return None if row is None else _row(row)

    def family_of(
        self, counter_id: int, uploading_id: str, families: tuple[str, ...]
    ) -> str | None:
        marks = ",".join("?" * len(families))
        row = self.conn.execute(
            f"SELECT family FROM uploadings WHERE counter_id = ? AND uploading_id = ? "
            f"AND family IN ({marks})",
            (counter_id, uploading_id, *families),
        ).fetchone()
        return None if row is None else row[0]

    def newest(
        self, counter_id: int, family: str, limit: int, before: int | None = None
    ) -> list[UploadingRow]:
        """Newest first, received strictly before ``before`` when given."""
        condition = " AND received_at < ?" if before is not None else ""
        rows = self.conn.execute(
            f"SELECT * FROM uploadings WHERE counter_id = ? AND family = ?{condition} "
            "ORDER BY received_at DESC, rowid DESC LIMIT ?",
            (counter_id, family, *([before] if before is not None else []), limit),
        ).fetchall()
        return [_row(r) for r in rows]

    def oldest(self, counter_id: int, family: str, limit: int, offset: int) -> list[UploadingRow]:
        rows = self.conn.execute(
            "SELECT * FROM uploadings WHERE counter_id = ? AND family = ? "
            "ORDER BY received_at, rowid LIMIT ? OFFSET ?",
            (counter_id, family, limit, offset),
        ).fetchall()
        return [_row(r) for r in rows]

    def oldest_of_type(
        self, counter_id: int, families: tuple[str, ...], upload_type: str, limit: int, offset: int
    ) -> list[UploadingRow]:
        """Uploadings of ``families`` whose answer has ``type`` = ``upload_type``, oldest first."""
        marks = ",".join("?" * len(families))
        rows = self.conn.execute(
            f"SELECT * FROM uploadings WHERE counter_id = ? AND family IN ({marks}) "
            "AND json_extract(meta_json, '$.type') = ? "
            "ORDER BY received_at, rowid LIMIT ? OFFSET ?",
            (counter_id, *families, upload_type, limit, offset),
        ).fetchall()
        return [_row(r) for r in rows]

    def due(self, now: int) -> list[tuple[int, str, str]]:
        """``(counter_id, family, uploading_id)`` of every unprocessed upload due by ``now``."""
        rows = self.conn.execute(
            "SELECT counter_id, family, uploading_id FROM uploadings WHERE processed_at IS NULL "
            "AND process_at <= ? ORDER BY process_at, rowid",
            (now,),
        )
        return [(r[0], r[1], r[2]) for r in rows]
