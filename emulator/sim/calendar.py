"""Simulated time: SimPy's clock counts seconds from local midnight of the start date.

The world never reads the wall clock; every calendar question (what hour is it here, is the office
open) goes through :class:`SimCalendar`, so a run is the same on any machine and in any local zone.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, time, timedelta

import numpy as np

from emulator.dates import zone

DAY = 86400.0
HOUR = 3600.0


class SimCalendar:
    def __init__(self, start: date, time_zone: str, days: int) -> None:
        self.tz = zone(time_zone)
        self.origin = datetime.combine(start, time(), tzinfo=self.tz)
        self.origin_unix = int(self.origin.timestamp())
        self.days = days
        self.end = self.seconds(datetime.combine(start + timedelta(days=days), time(), self.tz))

    def local(self, t: float) -> datetime:
        """Sim time ``t`` as an aware datetime in the counter's zone, to the whole second."""
        return datetime.fromtimestamp(self.origin_unix + int(t), tz=self.tz)

    def unix(self, t: float) -> int:
        return self.origin_unix + int(t)

    def seconds(self, moment: datetime) -> float:
        """Sim time of an aware (or counter-local naive) datetime."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return float(int(moment.timestamp()) - self.origin_unix)

    def next_open(self, t: float, start_hour: int, end_hour: int, days: tuple[int, ...]) -> float:
        """``t`` if the office is open then, else the next opening time."""
        moment = self.local(t)
        for _ in range(15):
            if moment.weekday() in days:
                opens = moment.replace(hour=start_hour, minute=0, second=0)
                closes = moment.replace(hour=0, minute=0, second=0) + timedelta(hours=end_hour)
                if moment < opens:
                    return self.seconds(opens)
                if moment < closes:
                    return self.seconds(moment)
            moment = datetime.combine(moment.date() + timedelta(days=1), time(), self.tz)
        raise ValueError("no working hours in a fortnight")  # pragma: no cover


def stream_seed(seed: int, name: str) -> int:
    """A 64-bit seed for the named random stream, stable across runs and Python versions."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def numpy_stream(seed: int, name: str) -> np.random.Generator:
    """Vectorised draws (traffic). Each part of the world has its own stream so that changing
    one part's settings does not reshuffle the others."""
    return np.random.default_rng(stream_seed(seed, name))


def python_stream(seed: int, name: str) -> random.Random:
    """Scalar draws inside SimPy processes (a Python ``Random`` is several times faster per
    call than a numpy generator)."""
    return random.Random(stream_seed(seed, name))


def next_local_time(
    calendar: SimCalendar, t: float, hour: int, minute: int, weekday: int | None = None
) -> float:
    """The first sim time strictly after ``t`` whose local clock reads ``hour:minute`` (on
    ``weekday`` when given, Monday = 0)."""
    moment = calendar.local(t)
    day = moment.date()
    for _ in range(9):
        candidate = datetime.combine(day, time(hour, minute), calendar.tz)
        at = calendar.seconds(candidate)
        if at > t and (weekday is None or day.weekday() == weekday):
            return at
        day += timedelta(days=1)
    raise ValueError("no such local time within a week")  # pragma: no cover
