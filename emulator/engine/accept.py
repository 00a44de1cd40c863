"""The upload lifecycle: validate → record → process when due.

1. *Validate and record*: the parsed batches are checked (formats, then the counter's
   statuses) and stored as pending Arrow chunks with the uploading's answer. A bad upload
   leaves nothing behind: the transaction rolls back and the caller gets the errors.
2. *Process*, when the virtual clock reaches the processing time: the pending chunks are
   applied a batch at a time, the ledger entries and rows are written, and the pending chunks
   are deleted. Memory stays bounded by the batch size.
An upload due at once is recorded and processed in one transaction; a delayed one is durable
once recorded and processed in its own transaction later. Either way each step is all or
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from emulator.domain import MergeMode, RowError, UploadKind
from emulator.engine.arrays import combined
from emulator.engine.statuses import StatusBook
from emulator.errors import ApiError
from emulator.formats.hashing import hash_strings
from emulator.store import Session, UploadingRow

CRM = "crm"
OFFLINE = "offline"
CALLS = "calls"
MAX_KEPT_ERRORS = 1000
"""Row errors kept for the answer; the rest are counted."""


@dataclass(frozen=True)
class Parsed:
    """One parsed batch: the valid rows as columns, the problems, and how many rows it read."""

    rows: pa.Table
    errors: list[RowError]
    seen: int


@dataclass(frozen=True)
class PendingUpload:
    """An accepted upload, as the process step needs it."""

    counter_id: int
    family: str
    uploading_id: str
    kind: UploadKind
    mode: MergeMode
    target: str | None
    received_at: int
    process_at: int

    def params(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "target": self.target}

    @classmethod
    def from_row(cls, row: UploadingRow) -> PendingUpload:
        return cls(
            row.counter_id,
            row.family,
            row.uploading_id,
            UploadKind(row.kind),
            MergeMode(row.params["mode"]),
            row.params.get("target"),
            row.received_at,
            row.process_at,
        )


@dataclass
class Intake:
    """What validation found across every batch of one upload."""

    errors: list[RowError]
    error_count: int = 0
    valid: int = 0
    seen: int = 0
    parts: int = 0


def record_parts(
    session: Session,
    pending: PendingUpload,
    batches: Iterable[Parsed],
    statuses: StatusBook | None,
) -> Intake:
    """Check and store every batch as a pending part; stop storing at the first error."""
    intake = Intake([])
    for batch in batches:
        errors = list(batch.errors)
        if statuses is not None and len(batch.rows):
            errors += _unknown_statuses(batch.rows, statuses)
        intake.seen += batch.seen
        intake.valid += len(batch.rows)
        intake.error_count += len(errors)
        room = MAX_KEPT_ERRORS - len(intake.errors)
        intake.errors += errors[:room]
        if not intake.error_count and len(batch.rows):
            session.uploadings.add_part(
                pending.counter_id, pending.family, pending.uploading_id, intake.parts, batch.rows
            )
            intake.parts += 1
    intake.errors.sort(key=lambda e: (e.line, e.column or ""))
    return intake


def _unknown_statuses(rows: pa.Table, statuses: StatusBook) -> list[RowError]:
    from emulator.engine.orders import status_ids

    status = status_ids(rows.column("order_status"))
    unknown = np.flatnonzero(statuses.unknown(status))
    lines = np.asarray(rows.column("line"))[unknown].tolist()
    values = status.take(pa.array(unknown, pa.int64())).to_pylist()
    return [
        RowError(
            line,
            "order_status",
            f"status {value!r} is not PAID, IN_PROGRESS, CANCELLED, SPAM, a mapped status "
            "(schema/order_statuses) or a JS goal identifier of the counter",
            code="unknown_status",
        )
        for line, value in zip(lines, values, strict=True)
    ]


def rejected(intake: Intake, json_key: str | None = None) -> ApiError:
    return ApiError.invalid_uploading(intake.errors, total=intake.error_count, json_key=json_key)


def crossing(parts: Iterable[np.ndarray]) -> np.ndarray:
    """Key hashes that occur in more than one part (each item: one part's key hashes).

    Rows sharing a key must be applied together (spec §2.7), so a key repeated across parts
    is applied after the others, with all its rows; every other key stays in its part. Each
    part is reduced to its distinct hashes first, so a hash seen twice in the sorted whole
    was sent in two parts (8 bytes a key at most are held).
    """
    distinct = [np.unique(hashed) for hashed in parts]
    if len(distinct) < 2:
        return np.zeros(0, np.uint64)
    every = np.concatenate(distinct)
    del distinct
    every.sort()
    return np.unique(every[1:][every[1:] == every[:-1]])


def key_hashes(keys: pa.Array) -> np.ndarray:
    return hash_strings(combined(keys))


def iter_parts(session: Session, pending: PendingUpload) -> Iterator[pa.Table]:
    return session.uploadings.parts(pending.counter_id, pending.family, pending.uploading_id)
