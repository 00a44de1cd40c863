"""Request bodies read as they stream in, with the upload limit enforced while reading.

A multipart ``file`` part goes to a spooled temporary file (memory up to
``spool_memory_bytes``, then disk), never whole into memory; a JSON or CSV body is read up to
the same limit. Once a body is over the limit the rest is read and dropped, so the client,
which is still sending, gets the answer instead of a reset connection.

Decisions (the docs name no code for these; see docs/FIDELITY.md):
- a file over the limit (1 GB, spec §2.1) → 400 ``invalid_uploading``: the docs state the
  limit as a property of the file and list ``invalid_uploading`` for a bad file (§2.4);
- a body that is not ``multipart/form-data`` or is malformed → 400 ``invalid_uploading``;
- a multipart body without a part named ``file`` → 400 ``missing_parameter`` at ``file``;
- a multipart boundary over :data:`MAX_BOUNDARY` characters → 400 ``invalid_uploading``
  (RFC 2046 §5.1.1 allows 70; the parser allows 256).

Once read, a body waits for its turn at the engine (:mod:`emulator.api.admission`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from fastapi import Request
from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

from emulator.api.admission import JSON_WEIGHT
from emulator.api.common import off_loop
from emulator.api.guard import context
from emulator.api.jsonbody import parse_body
from emulator.api.settings import ApiSettings
from emulator.errors import ApiError

FILE_PART = "file"
MULTIPART = "multipart/form-data"
MAX_BOUNDARY = 256


def too_large(limit: int, what: str = "the file") -> ApiError:
    return ApiError(
        "invalid_uploading", f"{what} is larger than the upload limit of {limit} bytes", "file"
    )


def media_type(request: Request) -> str:
    raw, _ = parse_options_header(request.headers.get("content-type", ""))
    return raw.decode("latin-1").lower()


class _FilePart:
    """python-multipart callbacks that copy the part named ``file`` into ``sink``."""

    def __init__(self, sink: IO[bytes], limit: int) -> None:
        self.sink = sink
        self.limit = limit
        self.size = 0
        self.found = False
        self.finished = False
        self.over = False
        self._in_file = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._header_name = self._header_value = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self._in_file = name == FILE_PART and not self.found
        self.found = self.found or self._in_file

    def _data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file or self.over:
            return
        self.size += end - start
        if self.size > self.limit:
            self.over = True
            return
        self.sink.write(data[start:end])

    def _part_end(self) -> None:
        self._in_file = False

    def _end(self) -> None:
        self.finished = True


def _counter(request: Request) -> Hashable:
    """Which counter an upload is for (its queue in :mod:`emulator.api.admission`)."""
    params = request.path_params
    return params.get("counterId", params.get("counter_id"))


def _multipart_problem(content_type: bytes, boundary: bytes | None) -> str | None:
    if content_type.lower() != MULTIPART.encode() or not boundary:
        return "the body must be multipart/form-data with the file in a part named 'file'"
    if len(boundary) > MAX_BOUNDARY:
        return f"the multipart boundary is longer than {MAX_BOUNDARY} characters"
    return None


@asynccontextmanager
async def uploaded_file(request: Request, settings: ApiSettings) -> AsyncIterator[IO[bytes]]:
    """The multipart ``file`` part, spooled, admitted and rewound; deleted afterwards."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    problem = _multipart_problem(content_type, boundary)
    if problem is not None:
        await _drain(request)
        raise ApiError("invalid_uploading", problem, "Content-Type")
    with SpooledTemporaryFile(
        max_size=settings.spool_memory_bytes, dir=settings.spool_dir
    ) as spool:
        part = _FilePart(spool, settings.max_upload_bytes)
        parser = MultipartParser(boundary, part.callbacks())
        broken = None
        async for chunk in request.stream():
            if broken is None and chunk:
                try:
                    parser.write(chunk)
                except MultipartParseError as exc:
                    broken = str(exc)
        if part.over:
            raise too_large(settings.max_upload_bytes)
        if broken is not None or not part.finished:
            reason = broken or "it ends before its closing boundary"
            raise ApiError("invalid_uploading", f"malformed multipart body: {reason}", "file")
        if not part.found:
            raise ApiError("missing_parameter", "the multipart part 'file' is missing", "file")
        async with context(request).admission.admit(_counter(request), part.size, spool):
            spool.seek(0)
            yield spool


@asynccontextmanager
async def spooled_body(
    request: Request, settings: ApiSettings, weight: int = 1
) -> AsyncIterator[IO[bytes]]:
    """The raw body, spooled, admitted (its size × ``weight``) and rewound; refused (after
    draining) when over the limit."""
    limit = settings.max_upload_bytes
    with SpooledTemporaryFile(
        max_size=settings.spool_memory_bytes, dir=settings.spool_dir
    ) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                spool.write(chunk)
        if size > limit:
            raise too_large(limit, "the body")
        async with context(request).admission.admit(_counter(request), size * weight, spool):
            spool.seek(0)
            yield spool


@asynccontextmanager
async def json_document(
    request: Request, settings: ApiSettings, exact: bool = False
) -> AsyncIterator[Any]:
    """The body as JSON (see :mod:`emulator.api.jsonbody`), admitted while the caller works
    on it; ``exact`` reads numbers with a fraction as ``Decimal`` (money stays exact)."""
    async with spooled_body(request, settings, JSON_WEIGHT) as body:
        yield await off_loop(parse_body, body.read(), exact)


async def read_json(request: Request, settings: ApiSettings) -> Any:
    """The body as JSON, for the small bodies of control and management routes."""
    async with json_document(request, settings) as document:
        return document


async def _drain(request: Request) -> None:
    async for _ in request.stream():
        pass
