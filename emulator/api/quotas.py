"""Request quotas answered with 429 and the documented ``quota_*`` types (project spec §2.3).

https://yandex.ru/dev/metrika/ru/intro/quotas: 30 requests a second per IP (sliding window),
3 parallel requests per user, 5000 requests a day per user and 5000 per counter, each counted
separately for the method groups ``client_read``, ``client_write`` and ``report_read``. The
"user" is the token. A refused request does not count against any quota. The state lives in
memory only: a restart or ``POST /_emulator/reset`` starts every count afresh.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import date

from emulator.api.envelope import StatusError
from emulator.api.settings import QuotaSettings

CLIENT_READ = "client_read"
CLIENT_WRITE = "client_write"
REPORT_READ = "report_read"


def quota_error(error_type: str, message: str) -> StatusError:
    return StatusError(error_type, message, code=429, headers={"Retry-After": "1"})


class QuotaBook:
    """Counts admitted requests; :meth:`enter` refuses one that would exceed a quota."""

    def __init__(
        self, settings: QuotaSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self._recent: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._daily: dict[tuple[str, str, str, date], int] = defaultdict(int)
        self._in_flight: dict[str, int] = defaultdict(int)

    def enter(self, group: str, ip: str, user: str, counters: Iterable[int], day: date) -> bool:
        """Admit one request or raise the 429 of the first quota it would exceed.

        True when the request was counted (quotas on): then :meth:`leave` must follow.
        """
        s = self.settings
        if not s.enabled:
            return False
        with self._lock:
            now = self._monotonic()
            recent = self._recent[group, ip]
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            user_key = ("user", group, user, day)
            counter_keys = [("counter", group, str(c), day) for c in counters]
            if len(recent) >= s.requests_per_second_per_ip:
                raise quota_error(
                    "quota_requests_by_ip",
                    f"more than {s.requests_per_second_per_ip} {group} requests a second from {ip}",
                )
            if self._in_flight[user] >= s.parallel_requests_per_user:
                raise quota_error(
                    "quota_parallel_requests",
                    f"more than {s.parallel_requests_per_user} parallel requests of one user",
                )
            if self._daily[user_key] >= s.requests_per_day_per_user:
                raise quota_error(
                    "quota_requests_by_uid",
                    f"more than {s.requests_per_day_per_user} {group} requests of one user "
                    f"on {day}",
                )
            for key in counter_keys:
                if self._daily[key] >= s.requests_per_day_per_counter:
                    raise quota_error(
                        "quota_requests_by_counter_id",
                        f"more than {s.requests_per_day_per_counter} {group} requests for "
                        f"counter {key[2]} on {day}",
                    )
            recent.append(now)
            self._in_flight[user] += 1
            self._daily[user_key] += 1
            for key in counter_keys:
                self._daily[key] += 1
            return True

    def leave(self, user: str) -> None:
        """The request of ``user`` counted by :meth:`enter` has finished."""
        with self._lock:
            self._in_flight[user] = max(self._in_flight[user] - 1, 0)
