"""The visits of a run as a column table, and their CSV in the emulator's control-route schema.

``POST /_emulator/counters/{id}/visits`` takes a CSV with the header :data:`CONTROL_FIELDS`
(issue 4); ``start_time`` is written as Unix seconds, one of the two forms the route accepts, so
the file is exact and needs no time-zone arithmetic. Millions of rows are written through
pyarrow in one pass, never a Python loop per row.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from emulator.sim.settings import SimulationSettings

CHUNK_ROWS = 250_000
CONTROL_FIELDS = (
    "visit_id",
    "client_id",
    "start_time",
    "duration",
    "traffic_source",
    "source_detail",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "yclid",
    "user_id",
    "purchase_id",
    "device",
    "region",
    "email_md5",
    "phone_md5",
)


@dataclass(frozen=True)
class VisitTable:
    """Visit columns sorted by start time, the labels their codes stand for, and the hashes
    advanced matching recorded (visit id → (email_md5, phone_md5))."""

    columns: dict[str, np.ndarray]
    settings: SimulationSettings
    typed: dict[int, tuple[str, str]]
    source_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.columns["visit_id"])

    def arrow(self, start: int = 0, stop: int | None = None, truth: bool = False) -> pa.Table:
        """Rows ``start:stop`` as an Arrow table: the control fields, plus with ``truth`` the
        person behind each visit, the source's name and the click cost."""
        c = {name: column[start:stop] for name, column in self.columns.items()}
        sources = [self.settings.sources[name] for name in self.source_names]
        src = c["source"]
        campaign = _labels([s.campaigns for s in sources], src, c["campaign"])
        term = _labels([s.terms for s in sources], src, c["term"])
        email_md5, phone_md5 = self._typed(c["visit_id"])
        table = {
            "visit_id": pa.array(c["visit_id"]),
            "client_id": pa.array(c["client_id"]),
            "start_time": pa.array(c["start"]),
            "duration": pa.array(c["duration"]),
            "traffic_source": _pick([s.traffic_source for s in sources], src),
            "source_detail": _pick([s.source_detail for s in sources], src),
            "utm_source": _pick([s.utm_source for s in sources], src),
            "utm_medium": _pick([s.utm_medium for s in sources], src),
            "utm_campaign": campaign,
            "utm_term": term,
            "utm_content": pa.nulls(len(src), pa.string()),
            "yclid": pa.array(c["yclid"], mask=c["yclid"] == 0),
            "user_id": pa.nulls(len(src), pa.string()),
            "purchase_id": pa.nulls(len(src), pa.string()),
            "device": _pick(list(self.settings.traffic.devices), c["device"]),
            "region": _pick(list(self.settings.traffic.regions), c["region"]),
            "email_md5": email_md5,
            "phone_md5": phone_md5,
        }
        if truth:
            landing = _labels([s.landing_pages for s in sources], src, c["landing"])
            cost = np.array([s.cost_per_click for s in sources])[src]
            table |= {
                "person": pa.array(c["person"]),
                "source_name": _pick(list(self.source_names), src),
                "landing_page": landing,
                "click_cost": pa.array(cost),
            }
        return pa.table(table)

    def csv(self, start: int = 0, stop: int | None = None) -> bytes:
        """Rows ``start:stop`` as the control route's CSV (header included)."""
        sink = io.BytesIO()
        self.write_csv(sink, start, stop)
        return sink.getvalue()

    def write_csv(self, sink: BinaryIO, start: int = 0, stop: int | None = None) -> None:
        """Write rows ``start:stop`` as CSV to ``sink`` (see :meth:`_write`)."""
        options = pa_csv.WriteOptions(quoting_style="needed", quoting_header="none")
        self._write(
            lambda schema: pa_csv.CSVWriter(sink, schema, write_options=options),
            start,
            stop,
            truth=False,
        )

    def write_parquet(self, path: Path) -> None:
        """Every row with the truth columns as Parquet (one row group per chunk)."""
        self._write(lambda schema: pq.ParquetWriter(path, schema, compression="zstd"), truth=True)

    def _write(
        self,
        open_writer: Callable[[pa.Schema], Any],
        start: int = 0,
        stop: int | None = None,
        truth: bool = False,
    ) -> None:
        """A chunk of rows at a time, so a run of millions of visits is never held whole as
        text; dictionary columns are decoded per chunk."""
        stop = len(self) if stop is None else stop
        writer = None
        for first in range(start, max(start + 1, stop), CHUNK_ROWS):
            table = _decoded(self.arrow(first, min(first + CHUNK_ROWS, stop), truth))
            if writer is None:
                writer = open_writer(table.schema)
            writer.write_table(table)
        if writer is not None:
            writer.close()

    def _typed(self, visit_ids: np.ndarray) -> tuple[pa.Array, pa.Array]:
        email = np.full(len(visit_ids), None, dtype=object)
        phone = np.full(len(visit_ids), None, dtype=object)
        if self.typed:
            keys = np.fromiter(sorted(self.typed), dtype=np.int64)
            found = np.isin(visit_ids, keys)
            for row in np.flatnonzero(found).tolist():
                e, p = self.typed[int(visit_ids[row])]
                email[row], phone[row] = e or None, p or None
        return pa.array(email, pa.string()), pa.array(phone, pa.string())


def _pick(labels: list[str | None], codes: np.ndarray) -> pa.Array:
    """Labels by code as a dictionary column (``None`` → an empty cell)."""
    missing = [code for code, label in enumerate(labels) if label is None]
    indices = pa.array(codes.astype(np.int32), mask=np.isin(codes, missing))
    dictionary = pa.array([label or "" for label in labels], pa.string())
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain strings (the CSV writer takes no dictionaries)."""
    columns = [
        column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _labels(per_source: list[tuple[str, ...]], source: np.ndarray, index: np.ndarray) -> pa.Array:
    """A per-source list label (campaign, term, landing page) for each visit; ``-1`` → empty."""
    flat: list[str | None] = [None]
    offsets = []
    for labels in per_source:
        offsets.append(len(flat))
        flat.extend(labels)
    codes = np.where(index >= 0, np.array(offsets, dtype=np.int64)[source] + index, 0)
    return _pick(flat, codes)
