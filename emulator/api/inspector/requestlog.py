"""The live request log: every request the app answered, in a bounded ring buffer.

What integrators most want when a pipeline "does nothing" is to see what actually arrived:
the method, the path, the answer and, for a refused request, the error body (the row errors of
a rejected upload live only in its 400 answer). The log keeps the newest ``capacity`` entries
in memory, never the request bodies, and at most ``body_limit`` bytes of each error answer.

The same middleware writes the access log: one line per request on the ``emulator.access``
logger (``crmemu serve`` shows it unless ``--no-access-log``).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "emulator.access"
CAPACITY = 500
BODY_LIMIT = 32 * 1024
COUNTER_IN_PATH = re.compile(r"/counters?/(\d+)(?:/|$)")
COUNTER_IN_QUERY = re.compile(r"(?:^|&)ids=(\d+)")


@dataclass(frozen=True)
class Entry:
    """One answered request."""

    seq: int
    at: datetime
    clock: datetime
    client: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    counter_id: int | None
    error_body: bytes = field(default=b"", repr=False)

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def access_line(self) -> str:
        counter = f" counter {self.counter_id}" if self.counter_id is not None else ""
        return (
            f'{self.client} "{self.method} {self.target}" {self.status} '
            f"{self.duration_ms:.1f} ms{counter}"
        )


def counter_of(path: str, query: str) -> int | None:
    """The counter a request is about: ``/counter/{id}/…``, ``/counters/{id}`` or ``ids=``."""
    match = COUNTER_IN_PATH.search(path) or COUNTER_IN_QUERY.search(query)
    return int(match[1]) if match else None


class RequestLog:
    """A thread-safe ring buffer of :class:`Entry`, newest last."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def next_seq(self) -> int:
        with self._lock:
            return next(self._seq)

    def add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, after: int = 0, counter_id: int | None = None) -> list[Entry]:
        """Entries newer than ``after`` (optionally of one counter), newest first."""
        with self._lock:
            chosen = [e for e in self._entries if e.seq > after]
        if counter_id is not None:
            chosen = [e for e in chosen if e.counter_id == counter_id]
        return chosen[::-1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RequestLogMiddleware:
    """Records every HTTP request in ``log`` and writes its access-log line.

    ``skip`` names paths that are neither recorded nor logged (the inspector's polling and
    assets), ``keep`` those that enter the ring buffer (not the inspector's own pages);
    ``clock`` reads the emulator's clock at the moment of the answer.
    """

    def __init__(
        self,
        app: ASGIApp,
        log: RequestLog,
        clock: Callable[[], datetime],
        skip: Callable[[str], bool],
        keep: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.log = log
        self.clock = clock
        self.skip = skip
        self.keep = keep
        self.access = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or self.skip(path):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # An exception escaping the app becomes the envelope's 503 ``backend_error`` outside.
        answer = {"status": 503}
        error_body = bytearray()

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body" and answer["status"] >= 400:
                room = BODY_LIMIT - len(error_body)
                if room > 0:
                    error_body.extend(message.get("body", b"")[:room])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self._record(scope, answer["status"], time.perf_counter() - started, error_body)

    def _record(self, scope: Scope, status: int, seconds: float, error_body: bytearray) -> None:
        path = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client")
        entry = Entry(
            seq=self.log.next_seq(),
            at=datetime.now(UTC),
            clock=self.clock(),
            client=client[0] if client else "-",
            method=scope.get("method", ""),
            path=path,
            query=query,
            status=status,
            duration_ms=seconds * 1000,
            counter_id=counter_of(path, query),
            error_body=bytes(error_body),
        )
        if self.keep(path):
            self.log.add(entry)
        self.access.info(entry.access_line())
