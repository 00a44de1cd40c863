"""The engine's notion of "now": a virtual clock, frozen unless told to move.

Like SimPy's environments, the simulated clock and the wall clock are interchangeable: the
engine only ever asks ``clock.now()``. A :class:`VirtualClock` stands still until ``set`` or
``advance`` moves it (tests and scenario replays are therefore exact); a :class:`WallClock`
follows real time for people who point a live pipeline at the emulator.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class VirtualClock:
    """A settable, advanceable clock. Time never goes backwards unless ``set`` is forced."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start or datetime(2024, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def set(self, value: datetime) -> datetime:
        self._now = _aware(value)
        return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the clock only advances; use set() to jump back")
        self._now = self._now + timedelta(seconds=seconds)
        return self._now


class WallClock:
    """Real UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("clock times need a UTC offset (e.g. 2024-03-20T12:00:00+03:00)")
    return value.astimezone(UTC)
