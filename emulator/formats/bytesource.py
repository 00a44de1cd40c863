"""A binary stream read in chunks, cut into segments of whole CSV records.

A chunk is cut after the last line break that is outside quotes (an even number of ``"``
before it), so a segment holds whole records and can be parsed on its own.
"""

from __future__ import annotations

import io
from typing import IO

import numpy as np

CHUNK_BYTES = 8 << 20
MAX_LINE_BYTES = 1 << 20  # a longer line without a break: binary data or a broken file


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
