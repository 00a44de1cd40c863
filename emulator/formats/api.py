"""Parsing entry points: a CSV file or a JSON body in, records and row errors out.

Semantics shared by every kind:

- ``None`` in a record means "not sent": an empty CSV cell, or a JSON key that is missing
  or ``null``. Merge modes decide what that does to a stored value (spec §2.7). In
  particular a simple order with an empty ``order_status`` keeps ``None`` (the engine reads
  it as ``PAID``), and a JSON ``[]`` is an empty list that *was* sent.
- Only rows without errors become records; ``lines[i]`` is where ``records[i]`` starts.
- Every problem is a :class:`~emulator.domain.RowError` with the line (0 or 1 for the whole
  file), the column as written in the header (or the JSON key) and a plain message;
  warnings (values the service keeps but that will never match, ignored columns) have
  severity ``warning`` and do not make a row invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from emulator.domain import RowError, Severity, UploadKind
from emulator.formats.bytesource import ByteSource
from emulator.formats.cells import Ctx, Family
from emulator.formats.csvread import iter_segments, read_header
from emulator.formats.fields import SPECS
from emulator.formats.header import resolve
from emulator.formats.options import FormatOptions
from emulator.formats.rawbatch import RawBatch
from emulator.formats.records import build_records
from emulator.formats.validate import ValidatedBatch, make_ctx, validate

Source = str | Path | IO[bytes]


@dataclass
class ParsedBatch:
    """Records of consecutive rows of a file, with the problems found in those rows."""

    kind: UploadKind
    records: list[Any] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ParseResult(ParsedBatch):
    """A whole file or body: every valid record in file order and every problem."""

    def extend(self, batch: ParsedBatch) -> None:
        self.records += batch.records
        self.lines += batch.lines
        self.errors += batch.errors
        self.warnings += batch.warnings
        self.rows += batch.rows


@contextmanager
def _opened(source: Source) -> Iterator[IO[bytes]]:
    if isinstance(source, str | Path):
        with open(source, "rb") as stream:
            yield stream
    else:
        yield source


def _validated(
    kind: UploadKind,
    source: Source,
    options: FormatOptions,
    ctx: Ctx,
    then: Callable[[ValidatedBatch], None] | None = None,
    chunk_bytes: int | None = None,
) -> Iterator[ValidatedBatch]:
    spec = SPECS[UploadKind(kind)]
    with _opened(source) as stream:
        reader = ByteSource(stream, chunk_bytes)
        header = read_header(reader, options.delimiter)
        if header.errors:
            yield ValidatedBatch.issues_only(spec.kind, header.errors, fatal=True)
            return
        layout, issues = resolve(spec, header.cells, options)
        fatal = any(issue.severity is Severity.ERROR for issue in issues)
        yield ValidatedBatch.issues_only(spec.kind, issues, fatal)
        if fatal:
            return

        def process(raw: RawBatch) -> ValidatedBatch:
            batch = validate(raw, layout, ctx)
            if then is not None:
                then(batch)
            return batch

        rows = 0
        for batch in iter_segments(reader, header.cells, options.delimiter, process):
            rows += batch.rows
            yield batch
        if rows == 0:
            message = "the file has a header but no data rows"
            yield ValidatedBatch.issues_only(
                spec.kind, [RowError(0, None, message, "no_rows")], True
            )


def iter_validate_csv(
    kind: UploadKind,
    source: Source,
    options: FormatOptions | None = None,
    then: Callable[[ValidatedBatch], None] | None = None,
    chunk_bytes: int | None = None,
) -> Iterator[ValidatedBatch]:
    """Checked columns of a CSV file, batch by batch, without building records.

    This is what ``crmemu check`` reads; memory stays bounded whatever the file size.
    ``then`` runs on each batch right after validation, in the reading threads (e.g.
    :meth:`~emulator.formats.lint.Linter.prepare`); batches are still yielded in order.
    ``chunk_bytes`` sets how much of the file one batch covers (smaller: less memory,
    default :data:`~emulator.formats.bytesource.CHUNK_BYTES`).
    """
    options = options or FormatOptions()
    ctx = make_ctx(options, Family.CSV)
    yield from _validated(kind, source, options, ctx, then, chunk_bytes)


def iter_parse_csv(
    kind: UploadKind, source: Source, options: FormatOptions | None = None
) -> Iterator[ParsedBatch]:
    """Records of a CSV file, batch by batch (the file is read in chunks)."""
    options = options or FormatOptions()
    ctx = make_ctx(options, Family.CSV)
    for batch in _validated(kind, source, options, ctx):
        records, lines = build_records(batch, ctx)
        yield ParsedBatch(batch.kind, records, lines, batch.errors, batch.warnings, batch.rows)


def parse_csv(
    kind: UploadKind, source: Source, options: FormatOptions | None = None
) -> ParseResult:
    """Every record and problem of a CSV file (see the module docstring for the semantics)."""
    result = ParseResult(UploadKind(kind))
    for batch in iter_parse_csv(kind, source, options):
        result.extend(batch)
    return result
