"""Streaming CSV reading: bytes in, columns of raw cells with their line numbers out.

A file is read in chunks (:mod:`~emulator.formats.bytesource`) and never held whole. Each
chunk is cut after the last line break that is outside quotes (an even number of ``"``
before it), so a *segment* holds whole records. A segment is parsed by one of two readers:

- the **fast** reader, ``pyarrow.csv.read_csv`` on the segment's bytes (C++); it is
  trusted only when its record count agrees with the segment's line count, after
  accounting for line breaks inside quoted cells;
- the **exact** reader, Python's ``csv`` module fed one decoded line at a time. It is used
  for any segment the fast reader refuses or cannot vouch for: invalid UTF-8, NUL bytes, a
  row with too many or too few cells, a lone carriage return, unbalanced quotes, blank
  lines. It finds the exact line and column of each problem and passes every good row on.

Segments are parsed and validated by a small thread pool (:data:`WORKERS`; Arrow and numpy
release the GIL) while the main thread reads ahead at most :data:`QUEUE` segments, so
memory stays bounded; results come back in file order.

Both readers follow the same CSV dialect: RFC 4180 quoting with doubled quotes, a quote in
the middle of an unquoted cell taken literally, ``"a"b`` read as ``ab`` (pyarrow's and
Python's lenient reading), empty cells as "not sent", and rows without any value skipped
like blank lines. Lines are counted by ``\\n``: the header is line 1, and a cell holding a
line break moves the following rows down.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from emulator.domain import RowError
from emulator.formats import bytesource
from emulator.formats.bytesource import ByteSource, count_lines
from emulator.formats.csvexact import csv_problem, read_exact
from emulator.formats.rawbatch import RawBatch

SNIFF_BYTES = 4096  # how much of the file's start is looked at to tell binary data
WORKERS = 2  # segments validated at once (Arrow kernels release the GIL)
QUEUE = 2  # segments read ahead of the consumer; each holds its columns in memory
_BOM = b"\xef\xbb\xbf"

T = TypeVar("T")


def _arrow_read(segment: bytes, names: list[str], delimiter: str, newlines: bool) -> pa.Table:
    return pcsv.read_csv(
        pa.py_buffer(segment),
        # One block per segment: segments already run in parallel, and one chunk per
        # column needs no copy to combine.
        read_options=pcsv.ReadOptions(
            column_names=names, block_size=len(segment) + 1, use_threads=False
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=newlines, ignore_empty_lines=False
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _drop_blank_rows(
    columns: list[pa.Array], lines: np.ndarray
) -> tuple[list[pa.Array], np.ndarray]:
    """Rows without any value (blank lines, ``,,,``) are skipped like the exact reader does."""
    if any(c.null_count == 0 for c in columns):
        return columns, lines
    blank = np.ones(len(lines), bool)
    for column in columns:
        blank &= np.asarray(column.is_null())
    if not blank.any():
        return columns, lines
    keep = pa.array(~blank)
    return [pc.filter(c, keep) for c in columns], lines[~blank]


def _single(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array (a segment is one block, so one chunk: no copy)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def read_fast(
    segment: bytes, first_line: int, names: list[str], delimiter: str, lines_in_segment: int
) -> RawBatch | None:
    """Parse a clean segment with Arrow, or None when only the exact reader can vouch for it."""
    if b"\x00" in segment:
        return None
    if b"\r" in segment:
        data = np.frombuffer(segment, np.uint8)
        cr = np.flatnonzero(data == 13)
        follow = np.append(data, np.uint8(0))[cr + 1]
        if (follow != 10).any():  # a lone carriage return
            return None
    try:
        table = _arrow_read(segment, names, delimiter, newlines=False)
        if table.num_rows != lines_in_segment:
            table = _arrow_read(segment, names, delimiter, newlines=True)
    except pa.ArrowException:
        return None
    columns = [_single(table.column(i)) for i in range(table.num_columns)]
    rows = table.num_rows
    if rows == lines_in_segment:
        lines = first_line + np.arange(rows, dtype=np.int64)
    else:
        inner = np.zeros(rows, np.int64)
        for column in columns:
            inner += pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy(
                zero_copy_only=False
            )
        if rows + int(inner.sum()) != lines_in_segment:
            return None
        lines = first_line + np.arange(rows, dtype=np.int64) + np.cumsum(inner) - inner
    columns, lines = _drop_blank_rows(columns, lines)
    return RawBatch(columns, lines, rows=len(lines))


def _looks_binary(start: bytes) -> bool:
    """NUL bytes in the first line, or NUL bytes with invalid UTF-8 (an image, an archive,
    UTF-16 text). A single NUL in a later row of a text file is a row error instead."""
    if b"\x00" in start.split(b"\n", 1)[0]:
        return True
    if b"\x00" not in start:
        return False
    try:
        start.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(start) - 3  # not just a character cut at the window's end
    return False


@dataclass
class Header:
    cells: list[str]
    errors: list[RowError]


def read_header(source: ByteSource, delimiter: str) -> Header:
    """The first line as header cells, or a file-level error (empty, binary, not UTF-8)."""
    source.fill(SNIFF_BYTES)
    if not source.pending:
        return _refused(0, "the file is empty; the first line must be the header", "empty_file")
    if source.pending.startswith(_BOM):
        source.take(len(_BOM))
    if _looks_binary(source.pending[:SNIFF_BYTES]):
        message = "this is a binary file (or UTF-16 text), not UTF-8 CSV text"
        return _refused(0, message, "binary_file")
    raw = source.read_line()
    if len(raw) > bytesource.MAX_LINE_BYTES:
        message = "the first line has no line break within 1 MiB: is this a CSV file?"
        return _refused(1, message, "binary_file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = (
            f"the header is not UTF-8 text (byte 0x{raw[exc.start]:02X}); is this a binary "
            "file or another encoding?"
        )
        return _refused(1, message, "invalid_encoding")
    if not text.strip():
        return _refused(1, "line 1 is empty; the first line must be the header", "missing_header")
    if text.count('"') & 1:
        return _refused(1, "the header has unbalanced quotes", "unbalanced_quotes")
    try:
        return Header(next(csv.reader([text], delimiter=delimiter)), [])
    except csv.Error as exc:  # e.g. lone carriage returns (classic Mac line breaks)
        return _refused(1, *csv_problem(str(exc)))


def _refused(line: int, message: str, code: str) -> Header:
    return Header([], [RowError(line, None, message, code)])


def iter_segments(
    source: ByteSource,
    labels: list[str],
    delimiter: str,
    process: Callable[[RawBatch], T],
) -> Iterator[T]:
    """``process`` applied to the raw batch of every segment after the header, in file order.

    Clean segments are parsed and processed by a small thread pool; a segment without a
    clean cut is read at once by the exact reader, which may take more bytes from the
    source to finish its last record. Reading stops after a fatal batch.
    """
    names = [f"c{i}" for i in range(len(labels))]
    single = len(labels) == 1

    def clean(segment: bytes, first_line: int, lines: int) -> T:
        batch = None if single else read_fast(segment, first_line, names, delimiter, lines)
        if batch is None:
            batch, _ = read_exact(segment, first_line, labels, delimiter)
        return process(batch)

    pending: deque[Future[T] | T] = deque()
    line = 2
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="crmemu-csv") as pool:
        try:
            while True:
                while len(pending) > QUEUE:
                    result = _result(pending.popleft())
                    yield result
                    if _fatal(result):
                        return
                cut = source.next_segment()
                if cut is None:
                    break
                segment, is_clean = cut
                if is_clean:
                    lines = count_lines(segment)
                    pending.append(pool.submit(clean, segment, line, lines))
                    line += lines
                    continue
                batch, consumed = read_exact(segment, line, labels, delimiter, source)
                line += consumed
                pending.append(process(batch))
                if batch.fatal:
                    break
            while pending:
                result = _result(pending.popleft())
                yield result
                if _fatal(result):
                    return
        finally:
            for item in pending:
                if isinstance(item, Future):
                    item.cancel()


def _result(item: Any) -> Any:
    return item.result() if isinstance(item, Future) else item


def _fatal(result: Any) -> bool:
    return bool(getattr(result, "fatal", False))
