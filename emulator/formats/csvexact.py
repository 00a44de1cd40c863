"""The exact CSV reader: Python's ``csv`` module fed one decoded line at a time.

It reads any segment the fast (Arrow) reader refuses or cannot vouch for: invalid UTF-8,
NUL bytes, a row with too many or too few cells, a lone carriage return, unbalanced quotes,
blank lines. It finds the exact line and column of each problem and passes every good row
on; with a :class:`~emulator.formats.bytesource.ByteSource` it completes a record that is
still open at the end of its segment.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pyarrow as pa

from emulator.domain import RowError
from emulator.formats import bytesource
from emulator.formats.bytesource import ByteSource
from emulator.formats.rawbatch import RawBatch

_SURROGATE = re.compile("[\udc80-\udcff]")
_NUL = re.compile("\x00")


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
        if len(raw) > bytesource.MAX_LINE_BYTES:
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
            error(start, None, *csv_problem(str(exc)))
            continue
        finally:
            if feed.too_long is not None:
                limit = bytesource.MAX_LINE_BYTES
                message = f"the line is longer than {limit} bytes without a line break"
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


def csv_problem(reason: str) -> tuple[str, str]:
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
