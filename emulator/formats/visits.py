"""Visits for ``POST /_emulator/counters/{id}/visits``: CSV with a header row, or JSON, as columns.

Fields (issue 4): ``visit_id, client_id, start_time, duration, traffic_source, source_detail,
utm_source, utm_medium, utm_campaign, utm_term, utm_content, yclid, user_id, purchase_id,
device, region, email_md5, phone_md5``. ``visit_id``, ``client_id`` and ``start_time`` are
required; ``start_time`` is ISO-8601 with an offset or Unix seconds; ``email_md5`` and
``phone_md5`` are lists of MD5 hex digests (a JSON array, or comma-separated values in one
cell). An empty CSV cell or a JSON ``null`` means "not given". A visit id is a whole number
below 2^63, a ClientID or yclid below 2^64. Every value is checked a column at a time (the CSV
is read by the formats layer's chunked reader), and every problem is a row error with its line
and column; an unknown column is an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import RowError, Visit
from emulator.formats.arrowbits import mask, present, take_strings
from emulator.formats.bytesource import ByteSource
from emulator.formats.csvread import iter_segments, read_header
from emulator.formats.rawbatch import RawBatch

FIELDS = tuple(f.name for f in dataclasses.fields(Visit))
REQUIRED = ("visit_id", "client_id", "start_time")
LISTS = frozenset({"email_md5", "phone_md5"})
LIMITS = {"visit_id": 2**63 - 1, "duration": 2**63 - 1, "client_id": 2**64 - 1, "yclid": 2**64 - 1}
TYPES = {
    "visit_id": pa.int64(),
    "duration": pa.int64(),
    "client_id": pa.uint64(),
    "yclid": pa.uint64(),
}
MAX_ERRORS = 100
ISO_FORMS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")
SCHEMA = pa.schema(
    [
        pa.field(name, TYPES.get(name, pa.list_(pa.string()) if name in LISTS else pa.string()))
        for name in FIELDS
        if name != "start_time"
    ]
).insert(2, pa.field("start_time", pa.int64()))
DEFAULTS = {"duration": 0, "traffic_source": "direct"}


class _Checks:
    """Row errors of one batch, by row; rows with any error are dropped."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        self.bad = np.zeros(len(lines), bool)
        self.errors: list[RowError] = []

    def add(self, rows: np.ndarray, column: str, messages: list[str]) -> None:
        for row, message in zip(rows.tolist(), messages, strict=True):
            self.errors.append(RowError(int(self.lines[row]), column, message))
        self.bad[rows] = True


def _whole(cells: pa.Array, name: str, checks: _Checks) -> pa.Array:
    """Whole numbers from 0 to the field's limit (up to 18 digits cast at once, others one
    by one)."""
    text = pc.utf8_trim_whitespace(cells)
    sent = present(text)
    shaped = mask(pc.match_substring_regex(text, r"^[0-9]{1,18}$"))
    values = np.zeros(len(cells), np.uint64 if TYPES[name] == pa.uint64() else np.int64)
    if shaped.any():
        values[shaped] = np.asarray(text.filter(pa.array(shaped)).cast(TYPES[name]))
    rest = np.flatnonzero(sent & ~shaped)
    bad, messages = [], []
    for row, raw in zip(rest.tolist(), take_strings(text, rest), strict=True):
        digits = raw[1:] if raw[:1] == "-" else raw
        if not (digits.isascii() and digits.isdigit()):
            bad.append(row)
            messages.append(f"{raw!r} is not a whole number")
        elif not 0 <= int(raw) <= LIMITS[name]:
            bad.append(row)
            messages.append(f"{raw} is out of range (0 to {LIMITS[name]})")
        else:
            values[row] = int(raw)
    if bad:
        checks.add(np.array(bad), name, messages)
    ok = sent.copy()
    ok[bad] = False
    return pa.array(values, TYPES[name], mask=~ok)


def _start_times(cells: pa.Array, checks: _Checks) -> pa.Array:
    text = pc.utf8_trim_whitespace(cells)
    sent = present(text)
    values = np.zeros(len(cells), np.int64)
    done = mask(pc.match_substring_regex(text, r"^[0-9]{1,11}$"))
    if done.any():
        values[done] = np.asarray(text.filter(pa.array(done)).cast(pa.int64()))
    for form in ISO_FORMS:
        parsed = pc.strptime(text, format=form, unit="s", error_is_null=True)
        hit = present(parsed) & ~done
        values[hit] = np.asarray(parsed.cast(pa.int64()).fill_null(0))[hit]
        done |= hit
    rest = np.flatnonzero(sent & ~done)
    bad, messages = [], []
    for row, raw in zip(rest.tolist(), take_strings(text, rest), strict=True):
        try:
            moment = datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                raise ValueError(f"{raw!r} has no UTC offset (e.g. 2024-03-20T12:00:00+03:00)")
            values[row] = int(moment.timestamp())
        except ValueError as exc:
            bad.append(row)
            text_ = (
                str(exc)
                if "UTC offset" in str(exc)
                else (f"{raw!r} is neither ISO-8601 with an offset nor Unix seconds")
            )
            messages.append(text_)
    if bad:
        checks.add(np.array(bad), "start_time", messages)
    ok = sent.copy()
    ok[bad] = False
    return pa.array(values, pa.int64(), mask=~ok)


def _lists(cells: pa.Array, name: str, checks: _Checks) -> pa.Array:
    items = pc.split_pattern(cells, ",")
    stripped = pa.ListArray.from_arrays(
        items.offsets, pc.utf8_trim_whitespace(items.values), mask=items.is_null()
    )
    parents = np.asarray(pc.list_parent_indices(stripped))
    flat = pc.list_flatten(stripped)
    keep = pa.array(mask(pc.not_equal(flat, "")))
    rows = np.flatnonzero(~mask(pc.match_substring_regex(flat.filter(keep), r"^[0-9a-fA-F]{32}$")))
    if len(rows):
        bad_rows = parents[np.asarray(keep)][rows]
        values = take_strings(flat.filter(keep), rows)
        checks.add(
            bad_rows, name, [f"{v!r} is not an MD5 hex digest (32 hex digits)" for v in values]
        )
    kept_parents = parents[np.asarray(keep)]
    counts = np.bincount(kept_parents, minlength=len(cells))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat.filter(keep), mask=pc.is_null(cells))


def check_columns(
    columns: dict[str, pa.Array], lines: np.ndarray
) -> tuple[pa.Table, list[RowError]]:
    """Typed visit columns of the valid rows, and the errors of the others."""
    checks = _Checks(lines)
    out: dict[str, pa.Array] = {}
    for name in REQUIRED:
        cells = columns.get(name)
        missing = np.arange(len(lines)) if cells is None else np.flatnonzero(~present(cells))
        if len(missing):
            checks.add(missing, name, ["is required"] * len(missing))
    for field in SCHEMA:
        name = field.name
        cells = columns.get(name, pa.nulls(len(lines), pa.string()))
        if name in TYPES:
            out[name] = _whole(cells, name, checks)
        elif name == "start_time":
            out[name] = _start_times(cells, checks)
        elif name in LISTS:
            out[name] = _lists(cells, name, checks)
        else:
            out[name] = cells
        if name in DEFAULTS:
            out[name] = pc.fill_null(out[name], DEFAULTS[name])
    table = pa.table(out, schema=SCHEMA)
    if checks.bad.any():  # a filter copies every column: only when a row must go
        table = table.filter(pa.array(~checks.bad))
    checks.errors.sort(key=lambda e: e.line)
    return table, checks.errors


def from_csv(stream: IO[bytes]) -> Iterator[tuple[pa.Table, list[RowError]]]:
    """Visit columns of a CSV with a header row, batch by batch, with their errors."""
    source = ByteSource(stream)
    header = read_header(source, ",")
    if header.errors:
        yield SCHEMA.empty_table(), header.errors
        return
    unknown = [name for name in header.cells if name not in FIELDS]
    if unknown:
        yield SCHEMA.empty_table(), [RowError(1, name, "is not a visit field") for name in unknown]
        return
    if not header.cells:
        yield SCHEMA.empty_table(), [RowError(1, None, "the header row is missing")]
        return

    def process(raw: RawBatch) -> tuple[pa.Table, list[RowError]]:
        table, errors = check_columns(dict(zip(header.cells, raw.columns, strict=True)), raw.lines)
        return table, [*raw.errors, *errors]

    yield from iter_segments(source, header.cells, ",", process)


def _scalar(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str | list):
        raise ValueError(f"{value!r} is not a number or a string")
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise ValueError(f"{value!r} is not a list of strings")
        return ",".join(value)
    return str(value)


def from_json(body: Any) -> tuple[pa.Table, list[RowError]]:
    """Visit columns of ``{"visits": [{...}, ...]}``; an error's line is the 1-based position."""
    if not isinstance(body, dict) or not isinstance(body.get("visits"), list):
        return SCHEMA.empty_table(), [RowError(0, "visits", 'the body must be {"visits": [...]}')]
    items = body["visits"]
    errors: list[RowError] = []
    raw: dict[str, list[str | None]] = {name: [None] * len(items) for name in FIELDS}
    for line, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(line, None, "each visit must be a JSON object"))
            continue
        for name, value in item.items():
            if name not in raw:
                errors.append(RowError(line, name, "is not a visit field"))
            elif value is not None:
                try:
                    raw[name][line - 1] = _scalar(value)
                except ValueError as exc:
                    errors.append(RowError(line, name, str(exc)))
    if errors:
        return SCHEMA.empty_table(), errors
    columns = {name: pa.array(values, pa.string()) for name, values in raw.items()}
    return check_columns(columns, np.arange(1, len(items) + 1))


def from_records(visits: Sequence[Visit]) -> pa.Table:
    """Visit columns of :class:`~emulator.domain.Visit` records (already typed)."""
    columns: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    for visit in visits:
        for name in SCHEMA.names:
            value = getattr(visit, name)
            if name == "start_time":
                value = int(value.timestamp())
            elif name in LISTS:
                value = list(value)
            columns[name].append(value)
    return pa.table(columns, schema=SCHEMA)
