"""Append-only data as Arrow IPC chunks in BLOBs: visits and the ledger.

A chunk is one record batch, LZ4-compressed; one INSERT stores a whole visit load or everything
one upload decided, instead of a row per visit, decision or goal reach. Readers decode only the
chunks they need (the ledger keeps, per order and contact, which entries mention it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

_OPTIONS = ipc.IpcWriteOptions(compression="lz4")
_LEDGER_OPTIONS = ipc.IpcWriteOptions(compression=pa.Codec("zstd", compression_level=1))
"""The ledger is written by every upload and read only when asked (history, goal reports):
zstd at level 1 stores it in about half LZ4's bytes for the same encoding time, so an upload's
durable commit writes and syncs less (13 MB of decisions per 100k orders become 7.9 MB).
Chunks that uploads read back (records, visits, pending parts) keep LZ4, which decodes faster."""
PARAMETERS = 500
"""Bound parameters per ``IN (...)`` look-up (SQLite allows more; this keeps statements small)."""


def in_chunks(items: Sequence[Any], size: int = PARAMETERS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


LEDGER_KINDS = ("decisions", "reaches", "offline_rows")


def encode(table: pa.Table, options: ipc.IpcWriteOptions = _OPTIONS) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode(blob: bytes) -> pa.Table:
    return ipc.open_stream(pa.py_buffer(blob)).read_all()


class VisitChunks:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, counter_id: int, seq: int, visits: pa.Table) -> None:
        self.conn.execute(
            "INSERT INTO visit_chunks (counter_id, seq, rows, chunk) VALUES (?, ?, ?, ?)",
            (counter_id, seq, len(visits), encode(visits)),
        )

    def next_seq(self, counter_id: int) -> int:
        row = self.conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM visit_chunks WHERE counter_id = ?", (counter_id,)
        ).fetchone()
        return int(row[0]) + 1

    def load(self, counter_id: int) -> list[pa.Table]:
        rows = self.conn.execute(
            "SELECT chunk FROM visit_chunks WHERE counter_id = ? ORDER BY seq", (counter_id,)
        )
        return [decode(r[0]) for r in rows]


class RecordChunks:
    """Versions of orders and contacts: each chunk holds the new state of the records one
    flush touched; its key column is kept apart so an index rebuild reads only keys."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, counter_id: int, kind: str, rows: pa.Table, key: str) -> int:
        row = self.conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM record_chunks WHERE counter_id = ? AND kind = ?",
            (counter_id, kind),
        ).fetchone()
        seq = int(row[0]) + 1
        self.conn.execute(
            "INSERT INTO record_chunks (counter_id, kind, seq, rows, keys, chunk) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (counter_id, kind, seq, len(rows), encode(rows.select([key])), encode(rows)),
        )
        return seq

    def keys(self, counter_id: int, kind: str) -> list[tuple[int, pa.Array]]:
        rows = self.conn.execute(
            "SELECT seq, keys FROM record_chunks WHERE counter_id = ? AND kind = ? ORDER BY seq",
            (counter_id, kind),
        )
        return [(seq, decode(blob).column(0).combine_chunks()) for seq, blob in rows]

    def chunk(self, counter_id: int, kind: str, seq: int) -> pa.Table:
        return self._blob("chunk", counter_id, kind, seq)

    def chunk_keys(self, counter_id: int, kind: str, seq: int) -> pa.Table:
        """Only the key column of one chunk (to check a key look-up)."""
        return self._blob("keys", counter_id, kind, seq)

    def _blob(self, column: str, counter_id: int, kind: str, seq: int) -> pa.Table:
        (blob,) = self.conn.execute(
            f"SELECT {column} FROM record_chunks WHERE counter_id = ? AND kind = ? AND seq = ?",
            (counter_id, kind, seq),
        ).fetchone()
        return decode(blob)


@dataclass(frozen=True)
class Entry:
    """One ledger entry: what one processed upload (or re-link) decided and reached."""

    seq: int
    uploading_id: str
    at: int
    table: pa.Table


class Ledger:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(
        self, counter_id: int, uploading_id: str, at: int, parts: dict[str, pa.Table | None]
    ) -> int:
        """Store one entry; returns its sequence number."""
        blobs = [
            encode(parts[k], _LEDGER_OPTIONS)
            if parts.get(k) is not None and len(parts[k])
            else None  # type: ignore[arg-type]
            for k in LEDGER_KINDS
        ]
        cursor = self.conn.execute(
            "INSERT INTO ledger (counter_id, uploading_id, at, decisions, reaches, offline_rows) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (counter_id, uploading_id, at, *blobs),
        )
        return int(cursor.lastrowid or 0)

    def mention(self, counter_id: int, seq: int, subjects: Iterable[tuple[str, str]]) -> None:
        """Note that entry ``seq`` mentions subjects that have no row of their own (an order
        refused by the per-customer cap): their history is found here."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO ledger_mentions (counter_id, subject_type, subject_key, seq) "
            "VALUES (?, ?, ?, ?)",
            [(counter_id, kind, key, seq) for kind, key in subjects],
        )

    def mentions(self, counter_id: int, subject_type: str, key: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT seq FROM ledger_mentions WHERE counter_id = ? AND subject_type = ? "
            "AND subject_key = ? ORDER BY seq",
            (counter_id, subject_type, key),
        )
        return [r[0] for r in rows]

    def entries(
        self,
        counter_id: int,
        kind: str,
        seqs: Sequence[int] | None = None,
        uploading_id: str | None = None,
    ) -> list[Entry]:
        """Entries of the counter holding ``kind`` (all, some by seq, or one upload's), in order."""
        if kind not in LEDGER_KINDS:
            raise ValueError(kind)
        base = (
            f"SELECT seq, uploading_id, at, {kind} FROM ledger "
            f"WHERE counter_id = ? AND {kind} IS NOT NULL"
        )
        if seqs is not None:
            rows: list[sqlite3.Row] = []
            for part in in_chunks(sorted(set(seqs))):
                marks = ",".join("?" * len(part))
                rows += self.conn.execute(
                    f"{base} AND seq IN ({marks})", (counter_id, *part)
                ).fetchall()
            rows.sort(key=lambda r: r[0])
        elif uploading_id is not None:
            rows = self.conn.execute(
                f"{base} AND uploading_id = ? ORDER BY seq", (counter_id, uploading_id)
            ).fetchall()
        else:
            rows = self.conn.execute(f"{base} ORDER BY seq", (counter_id,)).fetchall()
        return [Entry(r[0], r[1], r[2], decode(r[3])) for r in rows]


class Conversions:
    """Offline conversions already counted, by identifier + Target + DateTime (the FAQ's key)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def find(self, counter_id: int, keys: Iterable[str]) -> dict[str, tuple[int, str | None]]:
        found: dict[str, tuple[int, str | None]] = {}
        for part in in_chunks(sorted(set(keys))):
            marks = ",".join("?" * len(part))
            for key, reach, revenue in self.conn.execute(
                "SELECT conversion_key, reach_id, revenue FROM offline_conversions "
                f"WHERE counter_id = ? AND conversion_key IN ({marks})",
                (counter_id, *part),
            ):
                found[key] = (reach, revenue)
        return found

    def put(self, counter_id: int, rows: Iterable[tuple[str, int, str | None, str | None]]) -> None:
        """Upsert ``(conversion_key, reach_id, revenue, currency)``."""
        self.conn.executemany(
            "INSERT INTO offline_conversions (counter_id, conversion_key, reach_id, revenue, "
            "currency) VALUES (?, ?, ?, ?, ?) ON CONFLICT(counter_id, conversion_key) DO UPDATE "
            "SET revenue = excluded.revenue, currency = excluded.currency",
            [(counter_id, *row) for row in rows],
        )

    def revised(self, counter_id: int) -> dict[int, tuple[str | None, str | None]]:
        """The current revenue and currency of every offline reach, by reach id."""
        rows = self.conn.execute(
            "SELECT reach_id, revenue, currency FROM offline_conversions WHERE counter_id = ?",
            (counter_id,),
        )
        return {r[0]: (r[1], r[2]) for r in rows}
