"""Streaming CSV reading: bytes in, columns of raw cells with their line numbers out.

A file is read in chunks of :data:`CHUNK_BYTES` and never held whole. Each chunk is cut
after the last line break that is outside quotes (an even number of ``"`` before it), so a
*segment* holds whole records. A segment is parsed by one of two readers:

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
import io
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from emulator.domain import RowError

CHUNK_BYTES = 8 << 20
SNIFF_BYTES = 4096  # how much of the file's start is looked at to tell binary data
MAX_LINE_BYTES = 1 << 20  # a longer line without a break: binary data or a broken file
WORKERS = 2  # segments validated at once (Arrow kernels release the GIL)
QUEUE = 2  # segments read ahead of the consumer; each holds its columns in memory
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\udc80-\udcff]")
_NUL = re.compile("\x00")

T = TypeVar("T")


@dataclass
class RawBatch:
    """Raw cells of consecutive records of one segment.

    ``columns`` are string arrays in file column order (null = empty cell), ``lines`` the
    line on which each record starts. ``errors`` are problems found while reading (rows
    that could not be split into cells are not in ``columns``), ``rows`` counts every
    record seen, good or bad. ``bad`` marks records already known to be invalid (JSON values
    of the wrong type). ``fatal`` means reading stopped here.
    """

    columns: list[pa.Array]
    lines: np.ndarray
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    fatal: bool = False
    bad: np.ndarray | None = None


def _text_adapter(stream: IO[str]) -> IO[bytes]:
    """A text stream seen as UTF-8 bytes (so callers may pass ``io.StringIO``)."""

    class _Encoded(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return stream.read(size if size > 0 else -1).encode("utf-8", "surrogateescape")

    return _Encoded()  # type: ignore[return-value]


class ByteSource:
    """Chunks of a binary stream, with the bytes not yet handed out kept in ``pending``."""

    def __init__(self, stream: IO[bytes] | IO[str], chunk_bytes: int | None = None) -> None:
        if isinstance(stream, io.TextIOBase):
            stream = _text_adapter(stream)
        self._stream: IO[bytes] = stream  # type: ignore[assignment]
        self._chunk = chunk_bytes or CHUNK_BYTES
        self.pending = b""
        self.eof = False

    def fill(self, size: int) -> None:
        """Read until ``pending`` holds ``size`` bytes or the stream ends."""
        parts = [self.pending]
        have = len(self.pending)
        while have < size and not self.eof:
            data = self._stream.read(size - have)
            if not data:
                self.eof = True
                break
            parts.append(data)
            have += len(data)
        self.pending = b"".join(parts)

    def take(self, size: int) -> bytes:
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def read_line(self) -> bytes:
        """The next line including its ``\\n`` (or the rest, at most MAX_LINE_BYTES + 1)."""
        start = 0
        while True:
            end = self.pending.find(b"\n", start)
            if end >= 0:
                return self.take(end + 1)
            if self.eof or len(self.pending) > MAX_LINE_BYTES:
                return self.take(MAX_LINE_BYTES + 1)
            start = len(self.pending)
            self.fill(len(self.pending) + self._chunk)

    def next_segment(self) -> tuple[bytes, bool] | None:
        """Whole records up to about one chunk, and whether the cut is known to be clean.

        A cut is clean when it follows a line break with an even number of quotes before it
        in the segment. Without such a break within a chunk (a quoted cell open for a whole
        chunk: unbalanced quotes, or an enormous cell), the chunk is returned unclean and
        the exact reader decides where its last record ends.
        """
        self.fill(self._chunk)
        if not self.pending:
            return None
        data = self.pending
        if self.eof:
            self.pending = b""
            return data, True
        cut = _clean_cut(data)
        if cut < 0:
            self.pending = b""
            return data, False
        return self.take(cut + 1), True


def _clean_cut(data: bytes, max_steps: int = 64) -> int:
    """Index of the last ``\\n`` with an even number of quotes before it, or -1."""
    if b'"' not in data:
        return data.rfind(b"\n")
    position = data.rfind(b"\n")
    if position < 0:
        return -1
    odd = int(np.count_nonzero(np.frombuffer(data, np.uint8, count=position) == 34)) & 1
    for _ in range(max_steps):
        if not odd:
            return position
        previous = data.rfind(b"\n", 0, position)
        if previous < 0:
            return -1
        odd ^= data.count(b'"', previous, position) & 1
        position = previous
    return -1


def count_lines(segment: bytes) -> int:
    """Physical lines of a segment (the last one may lack its ``\\n`` at the end of a file)."""
    if not segment:
        return 0
    breaks = int(np.count_nonzero(np.frombuffer(segment, np.uint8) == 10))
    return breaks + (0 if segment.endswith(b"\n") else 1)


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


class _Lines:
    """Decoded lines for ``csv.reader``, remembering what each record's lines held.

    Lines come from ``first`` and then, when ``source`` is given and a record is still
    open at the end of ``first``, from the source. Invalid UTF-8 is decoded with
    ``surrogateescape`` so the reader can still find the cell, and reported.
    """

    def __init__(self, first: bytes, source: ByteSource | None) -> None:
        self._lines = _split_lf(first)
        self._index = 0
        self._source = source
        self.count = 0  # lines handed out so far
        self.too_long: int | None = None  # a line without a break: no more lines after it
        self.reset()

    def reset(self) -> None:
        """Forget what the previous record's lines held."""
        self.bad_byte: tuple[int, int, int] | None = None  # (line offset, position, byte)
        self.nul_line: int | None = None
        self.quotes = 0
        self.texts: list[str] = []

    @property
    def first_done(self) -> bool:
        return self._index >= len(self._lines)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.too_long is not None:
            raise StopIteration
        if self._index < len(self._lines):
            raw = self._lines[self._index]
            self._index += 1
        elif self._source is not None and not (self._source.eof and not self._source.pending):
            raw = self._source.read_line()
            if not raw:
                raise StopIteration
        else:
            raise StopIteration
        offset = self.count
        self.count += 1
        if len(raw) > MAX_LINE_BYTES:
            self.too_long = offset
            raise StopIteration
        if b"\x00" in raw and self.nul_line is None:
            self.nul_line = offset
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if self.bad_byte is None:
                self.bad_byte = (offset, exc.start, raw[exc.start])
            text = raw.decode("utf-8", "surrogateescape")
        self.quotes += text.count('"')
        self.texts.append(text)
        return text


def _split_lf(data: bytes) -> list[bytes]:
    """Lines ending in ``\\n`` (the last may lack it); faster than splitlines for plain files."""
    lines = data.split(b"\n")
    last = lines.pop()
    out = [line + b"\n" for line in lines]
    if last:
        out.append(last)
    return out


def _unbalanced(texts: list[str], delimiter: str) -> bool:
    """True when the record's text ends inside a quoted cell."""
    try:
        list(csv.reader(texts, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def read_exact(
    data: bytes,
    first_line: int,
    labels: list[str],
    delimiter: str,
    source: ByteSource | None = None,
) -> tuple[RawBatch, int]:
    """Parse ``data`` record by record; returns the batch and the number of lines consumed.

    With ``source``, a record still open at the end of ``data`` is completed from it.
    """
    if source is not None and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1  # a partial last line continues in the source
        source.pending = data[cut:] + source.pending
        data = data[:cut]
    feed = _Lines(data, source)
    reader = csv.reader(feed, delimiter=delimiter, strict=False)
    good: list[list[str]] = []
    lines: list[int] = []
    batch = RawBatch([], np.zeros(0, np.int64))

    def error(offset: int, column: str | None, message: str, code: str) -> None:
        batch.errors.append(RowError(first_line + offset, column, message, code))

    while not batch.fatal:
        start = feed.count
        feed.reset()
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            batch.rows += 1
            batch.fatal = "field larger than field limit" in str(exc)
            error(start, None, *_csv_problem(str(exc)))
            continue
        finally:
            if feed.too_long is not None:
                message = f"the line is longer than {MAX_LINE_BYTES} bytes without a line break"
                error(feed.too_long, None, message + ": is this a binary file?", "binary_file")
                batch.fatal = True
        if not any(record):
            if feed.first_done and source is not None:
                break
            continue
        batch.rows += 1
        problem = _record_problem(feed, record, labels, delimiter, start)
        if problem:
            error(*problem)
        else:
            good.append(record)
            lines.append(first_line + start)
        if feed.first_done and source is not None:
            break
    batch.columns = _columns(good, len(labels))
    batch.lines = np.asarray(lines, np.int64)
    return batch, feed.count


def _csv_problem(reason: str) -> tuple[str, str]:
    """A plain message and a code for an error of the ``csv`` module."""
    if "field larger than field limit" in reason:
        limit = csv.field_size_limit()
        return (
            "a quoted cell starting on this line never ends (unbalanced quotes) or is longer "
            f"than {limit} characters",
            "unbalanced_quotes",
        )
    if "new-line character" in reason:
        message = "a lone carriage return (\\r) splits this line; line breaks must be \\n or \\r\\n"
        return message, "invalid_line_break"
    return f"the row cannot be read as CSV ({reason})", "invalid_csv"


def _cell_with(record: list[str], labels: list[str], pattern: re.Pattern[str]) -> str | None:
    """The header of the first cell of ``record`` that ``pattern`` finds something in."""
    for label, cell in zip(labels, record, strict=False):
        if pattern.search(cell):
            return label
    return None


def _record_problem(
    feed: _Lines, record: list[str], labels: list[str], delimiter: str, start: int
) -> tuple[int, str | None, str, str] | None:
    """Why a record the exact reader read cannot be used: (line offset, column, message, code)."""
    if feed.bad_byte is not None:
        offset, position, byte = feed.bad_byte
        return (
            offset,
            _cell_with(record, labels, _SURROGATE),
            f"invalid UTF-8: byte 0x{byte:02X} at byte {position + 1} of the line; "
            "the file must be UTF-8 text",
            "invalid_encoding",
        )
    if feed.nul_line is not None:
        column = _cell_with(record, labels, _NUL)
        return feed.nul_line, column, "the cell holds a NUL byte (binary data?)", "nul_byte"
    if feed.quotes & 1 and _unbalanced(feed.texts, delimiter):
        message = "unbalanced quotes: a quoted cell that starts on this line never ends"
        return start, None, message, "unbalanced_quotes"
    if len(record) != len(labels):
        more = "more" if len(record) > len(labels) else "fewer"
        hint = " (an unquoted comma inside a value?)" if more == "more" else ""
        return (
            start,
            None,
            f"the row has {len(record)} cells, {more} than the {len(labels)} columns of the "
            f"header{hint}",
            "wrong_cell_count",
        )
    return None


def _columns(rows: list[list[str]], width: int) -> list[pa.Array]:
    return [pa.array([row[i] or None for row in rows], pa.string()) for i in range(width)]


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
        return Header(
            [],
            [
                RowError(
                    0, None, "the file is empty; the first line must be the header", "empty_file"
                )
            ],
        )
    if source.pending.startswith(_BOM):
        source.take(len(_BOM))
    if _looks_binary(source.pending[:SNIFF_BYTES]):
        return Header(
            [],
            [
                RowError(
                    0,
                    None,
                    "this is a binary file (or UTF-16 text), not UTF-8 CSV text",
                    "binary_file",
                )
            ],
        )
    raw = source.read_line()
    if len(raw) > MAX_LINE_BYTES:
        return Header(
            [],
            [
                RowError(
                    1,
                    None,
                    "the first line has no line break within 1 MiB: is this a CSV file?",
                    "binary_file",
                )
            ],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Header(
            [],
            [
                RowError(
                    1,
                    None,
                    f"the header is not UTF-8 text (byte 0x{raw[exc.start]:02X}); is this a "
                    "binary file or another encoding?",
                    "invalid_encoding",
                )
            ],
        )
    if not text.strip():
        return Header(
            [],
            [
                RowError(
                    1, None, "line 1 is empty; the first line must be the header", "missing_header"
                )
            ],
        )
    if text.count('"') & 1:
        return Header(
            [], [RowError(1, None, "the header has unbalanced quotes", "unbalanced_quotes")]
        )
    try:
        return Header(next(csv.reader([text], delimiter=delimiter)), [])
    except csv.Error as exc:  # e.g. lone carriage returns (classic Mac line breaks)
        return Header([], [RowError(1, None, *_csv_problem(str(exc)))])


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
