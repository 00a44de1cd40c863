"""Admission of large uploads: no sequence of uploads may exhaust the host's memory.

A body is first spooled (memory up to ``spool_memory_bytes``, then a temporary file), which
costs little memory however large it is. What costs memory is the engine working on it, so
an upload whose weighed size (below) is over ``spool_memory_bytes`` is *large* and is
admitted to the engine only:

- one at a time per counter, in arrival order (a second upload to the same counter waits);
- within a global budget (``upload_budget_bytes``) of the bytes being worked on at once,
  weighed by their spooled size (JSON ×:data:`JSON_WEIGHT`: parsed, it takes several times
  its text); an upload larger than the whole budget waits until it can run alone.

A waiting upload moves its spool to disk first, so waiting holds no memory. Nothing here
answers 429 or 503: the real service documents no such refusal for a valid upload, and the
documented limit on concurrency is the quota of 3 parallel requests per user (spec §2.3,
:mod:`emulator.api.quotas`), which a queued request keeps counting against.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from tempfile import SpooledTemporaryFile

JSON_WEIGHT = 6
"""Parsed JSON costs ~5× its text in Python objects (measured on orders bodies), plus the text."""


class Admission:
    """The queue of large uploads of one app (see the module docstring)."""

    def __init__(self, budget_bytes: int, large_bytes: int) -> None:
        self.budget = max(budget_bytes, 1)
        self.large_bytes = large_bytes
        self.in_use = 0
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._counters: dict[Hashable, asyncio.Lock] = {}
        self._holders: dict[Hashable, int] = {}

    @asynccontextmanager
    async def admit(
        self, key: Hashable, size: int, spool: SpooledTemporaryFile[bytes] | None = None
    ) -> AsyncIterator[None]:
        """Hold a place for an upload of ``size`` weighed bytes to counter ``key``."""
        if size <= self.large_bytes:
            yield
            return
        weight = min(size, self.budget)
        lock = self._counters.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            if spool is not None and (lock.locked() or not self._fits(weight)):
                spool.rollover()
            async with lock:
                await self._take(weight, spool)
                try:
                    yield
                finally:
                    self.in_use -= weight
                    self._wake()
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key], self._counters[key]

    def _fits(self, weight: int) -> bool:
        return not self._waiting and self.in_use + weight <= self.budget

    async def _take(self, weight: int, spool: SpooledTemporaryFile[bytes] | None) -> None:
        if self._fits(weight):
            self.in_use += weight
            return
        if spool is not None:
            spool.rollover()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((weight, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.in_use -= weight  # granted just as it was cancelled
            self._wake()
            raise

    def _wake(self) -> None:
        """Grant waiting uploads in arrival order while the budget allows."""
        while self._waiting:
            weight, future = self._waiting[0]
            if future.done():
                self._waiting.popleft()
                continue
            if self.in_use + weight > self.budget:
                return
            self._waiting.popleft()
            self.in_use += weight
            future.set_result(None)
