"""An upload of the timeline read the way the service reads it: rows in the engine's columns.

The body goes through the engine's own readers (:mod:`emulator.engine.sources`) with the
counter's zone and rules and the upload's ``sent_at`` as "now", so a row that the HTTP route
would refuse is refused here too. What the service decides about the whole upload (a CRM file
with any row error is refused; an offline file keeps its valid rows unless its header is
broken) is left to :mod:`emulator.batch.plan`, which also knows the rules of the batch run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import UploadKind
from emulator.engine import sources
from emulator.engine.accept import Parsed
from emulator.engine.config import CounterConfig
from emulator.engine.orders import status_ids
from emulator.formats import parse_status_mapping
from emulator.sim.uploads import Upload
from emulator.sim.verify import KINDS

STATUS_MAPPING = "status_mapping"
ORDER_KINDS = frozenset({UploadKind.ORDERS, UploadKind.SIMPLE_ORDERS})


@dataclass(frozen=True)
class Intake:
    """One upload's row of ``uploads.parquet`` and its valid rows (``None`` for a mapping)."""

    meta: dict[str, Any]
    kind: UploadKind | None
    rows: pa.Table | None


def read_upload(upload: Upload, counter: CounterConfig) -> Intake:
    """Parse ``upload`` as the counter would on receiving it."""
    params = dict(upload.params)
    meta: dict[str, Any] = {
        "seq": upload.seq,
        "sent_at": upload.sent_at,
        "kind": upload.kind,
        "params": json.dumps(params, sort_keys=True),
        "rows": 0,
        "errors": 0,
        "structural": False,
        "statuses": None,
        "mapping": None,
    }
    if upload.kind == STATUS_MAPPING:
        statuses, errors = parse_status_mapping(json.loads(upload.body))
        meta |= {"rows": len(statuses), "errors": len(errors), "mapping": upload.body.decode()}
        return Intake(meta, None, None)
    kind = KINDS[upload.kind]
    parts = list(_parsed(upload, kind, counter, params))
    errors = [e for part in parts for e in part.errors]
    rows = pa.concat_tables([part.rows for part in parts])
    meta |= {
        "rows": len(rows),
        "errors": len(errors),
        "structural": any(e.line <= 1 for e in errors),
    }
    if kind in ORDER_KINDS:
        meta["statuses"] = sorted(
            set(pc.unique(status_ids(rows.column("order_status"))).to_pylist())
        )
    return Intake(meta, kind, rows)


def _parsed(
    upload: Upload, kind: UploadKind, counter: CounterConfig, params: dict[str, str]
) -> list[Parsed]:
    now = upload.sent_at
    if kind in (UploadKind.OFFLINE_CONVERSIONS, UploadKind.CALLS):
        return list(sources.csv_batches(kind, upload.body, sources.options(counter, now)))
    if not upload.multipart:
        body = json.loads(upload.body, parse_float=Decimal)
        return list(sources.json_batches(kind, body, sources.options(counter, now)))
    fmt = sources.csv_options(
        counter, now, params.get("delimiter_type"), params.get("columns_mapping")
    )
    return list(sources.csv_batches(kind, upload.body, fmt))
