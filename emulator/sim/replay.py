"""Send a timeline through any ``httpx.Client``: the emulator, a live server or a foreign endpoint.

For the emulator, the replayer also drives its control routes (issue 4): it creates the counter,
feeds the visits that have happened by each upload's time, and sets the emulator's clock to the
upload's ``sent_at`` before sending it, so the service sees the upload when the CRM sent it. All of
that is switched off with ``set_clock=False`` (and no ``visits``/``counter``) for an endpoint
that has no control routes.

Retries follow the usual integrator practice on 429 and 5xx (and on connection errors): an
exponential backoff ``base * 2**attempt`` capped at ``max_seconds``, with jitter drawn from a
generator seeded by the run's seed, so a replay's waits are reproducible. A ``Retry-After`` header
lengthens the wait up to the cap. Every attempt is recorded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import numpy as np

from emulator.sim.calendar import stream_seed
from emulator.sim.settings import Retry
from emulator.sim.uploads import Upload
from emulator.sim.visits import VisitTable

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_RETRY = Retry()


@dataclass(frozen=True)
class Exchange:
    """One HTTP attempt and its outcome (``status`` is ``None`` when no response came)."""

    seq: int | None  # the upload's sequence number; None for control requests
    attempt: int
    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    status: int | None
    response: str
    waited: float = 0.0


@dataclass
class ReplayReport:
    exchanges: list[Exchange] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # upload seqs that never got a 2xx

    @property
    def ok(self) -> bool:
        return not self.failed


class Replayer:
    def __init__(
        self,
        client: httpx.Client,
        token: str,
        counter_id: int,
        *,
        set_clock: bool = True,
        retry: Retry = DEFAULT_RETRY,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.token = token
        self.counter_id = counter_id
        self.set_clock = set_clock
        self.retry = retry
        self.sleep = sleep
        self.report = ReplayReport()
        self._jitter = random.Random(stream_seed(seed, "replay"))

    def replay(
        self,
        timeline: Iterable[Upload],
        visits: VisitTable | None = None,
        counter: Mapping[str, Any] | None = None,
    ) -> ReplayReport:
        """Send every upload in order.

        With ``counter``, the counter is created first; with ``visits``, the visits that
        started before each upload's ``sent_at`` are loaded before it (the tag would have
        recorded them by then).
        """
        if counter is not None:
            self.setup_counter(counter)
        loaded = 0
        for upload in timeline:
            if visits is not None:
                due = int(
                    np.searchsorted(visits.columns["start"], upload.sent_at.timestamp(), "right")
                )
                if due > loaded:
                    self.load_visits(visits.csv(loaded, due))
                    loaded = due
            self.send(upload)
        return self.report

    def setup_counter(self, config: Mapping[str, Any]) -> Exchange:
        """Create or replace the counter on the emulator (``PUT /_emulator/counters/{id}``)."""
        return self._control("PUT", f"/_emulator/counters/{self.counter_id}", json=dict(config))

    def load_visits(self, csv: bytes) -> Exchange:
        return self._control(
            "POST",
            f"/_emulator/counters/{self.counter_id}/visits",
            content=csv,
            headers={"Content-Type": "text/csv"},
        )

    def set_time(self, now: datetime) -> Exchange:
        return self._control("POST", "/_emulator/clock", json={"now": now.isoformat()})

    def send(self, upload: Upload) -> bool:
        """Send one upload with retries; True when it got a 2xx answer."""
        if self.set_clock:
            self.set_time(upload.sent_at)
        kwargs: dict[str, Any] = {"params": list(upload.params)}
        if upload.multipart:
            kwargs["files"] = {"file": (upload.file_name, upload.body, upload.content_type)}
        else:
            kwargs["content"] = upload.body
            kwargs["headers"] = {"Content-Type": upload.content_type}
        status = self._with_retries(upload.seq, upload.method, upload.path, kwargs)
        if status is None or not 200 <= status < 300:
            self.report.failed.append(upload.seq)
            return False
        return True

    def _control(self, method: str, path: str, **kwargs: Any) -> Exchange:
        status = self._with_retries(None, method, path, kwargs)
        exchange = self.report.exchanges[-1]
        if status is None or status >= 400:
            raise ReplayError(f"{method} {path} answered {status}: {exchange.response[:300]}")
        return exchange

    def _with_retries(
        self, seq: int | None, method: str, path: str, kwargs: dict[str, Any]
    ) -> int | None:
        headers = {"Authorization": f"OAuth {self.token}", **kwargs.pop("headers", {})}
        waited = 0.0
        for attempt in range(self.retry.attempts + 1):
            status, text, retry_after = self._attempt(method, path, headers, kwargs)
            params = tuple(kwargs.get("params") or ())
            self.report.exchanges.append(
                Exchange(seq, attempt, method, path, params, status, text, waited)
            )
            if status is not None and status not in RETRY_STATUSES:
                return status
            if attempt == self.retry.attempts:
                return status
            waited = self._backoff(attempt, retry_after)
            self.sleep(waited)
        return None  # pragma: no cover - the loop always returns

    def _attempt(
        self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> tuple[int | None, str, float | None]:
        try:
            response = self.client.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            return None, f"{type(exc).__name__}: {exc}", None
        return response.status_code, response.text, _retry_after(response)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        retry = self.retry
        delay = retry.base_seconds * 2**attempt
        delay *= 1 + retry.jitter * (2 * self._jitter.random() - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, retry.max_seconds)


class ReplayError(RuntimeError):
    """A control request (counter, clock, visits) failed: the target is not an emulator."""


def send_timeline(
    timeline: Iterable[Upload],
    client: httpx.Client,
    token: str,
    counter_id: int,
    *,
    visits: VisitTable | None = None,
    counter: Mapping[str, Any] | None = None,
    **options: Any,
) -> ReplayReport:
    """Send every upload in order through a :class:`Replayer` made with ``options``
    (``set_clock``, ``retry``, ``seed``, ``sleep``); see :meth:`Replayer.replay`."""
    return Replayer(client, token, counter_id, **options).replay(timeline, visits, counter)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
