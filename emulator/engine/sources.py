"""What an upload route hands the engine (a file, a JSON body, records) as parsed batches.

Files stream through the formats layer batch by batch (:func:`emulator.formats.iter_validate_csv`),
so a 1 GB upload never sits in memory whole; each batch becomes the engine's columns
(:mod:`.columns`) with its row errors.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from emulator import formats
from emulator.domain import UploadKind
from emulator.engine.accept import Parsed
from emulator.engine.columns import SCHEMAS, from_batch
from emulator.engine.config import CounterConfig
from emulator.errors import ApiError

Source = str | Path | bytes | BinaryIO
BATCH_BYTES = 16 << 20
"""How much of a file one batch covers (about 150k simple-order rows)."""


def readable(source: Source) -> str | Path | BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else source


def options(counter: CounterConfig, now: Any, **extra: Any) -> formats.FormatOptions:
    return formats.FormatOptions(
        time_zone=counter.time_zone, end_of_day=counter.rules.end_of_day, now=now, **extra
    )


def csv_options(
    counter: CounterConfig,
    now: Any,
    delimiter_type: str | None,
    columns_mapping: str | Mapping[str, str] | None = None,
) -> formats.FormatOptions:
    try:
        delimiter = formats.delimiter_from_type(delimiter_type or "COMMA")
    except ValueError as exc:
        raise ApiError("invalid_parameter", str(exc), "delimiter_type") from None
    mapping: Mapping[str, str] | None
    if isinstance(columns_mapping, str) and columns_mapping:
        try:
            mapping = formats.parse_columns_mapping(columns_mapping)
        except ValueError as exc:
            raise ApiError("invalid_parameter", str(exc), "columns_mapping") from None
    else:
        mapping = columns_mapping or None  # type: ignore[assignment]
    return options(
        counter, now, delimiter=delimiter, columns_mapping=dict(mapping) if mapping else None
    )


def _parsed(batch: formats.ValidatedBatch) -> Parsed:
    return Parsed(from_batch(batch), list(batch.errors), batch.rows)


def csv_batches(kind: UploadKind, source: Source, fmt: formats.FormatOptions) -> Iterator[Parsed]:
    for batch in formats.iter_validate_csv(kind, readable(source), fmt, chunk_bytes=BATCH_BYTES):
        yield _parsed(batch)


def json_batches(kind: UploadKind, body: Any, fmt: formats.FormatOptions) -> Iterator[Parsed]:
    yield _parsed(formats.validate_json(kind, body, fmt))


def column_batches(kind: UploadKind, rows: pa.Table) -> Iterator[Parsed]:
    """Rows already in the engine's columns (extra columns are dropped), lines as they are."""
    schema = SCHEMAS[kind]
    yield Parsed(rows.select(schema.names).cast(schema), [], len(rows))
