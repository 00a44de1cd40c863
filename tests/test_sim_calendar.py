"""Simulated time: local times and sim seconds round-trip, and schedules land where the
settings say."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.sim.calendar import SimCalendar, next_local_time

ZONES = [
    "Europe/Moscow",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]


@settings(max_examples=300)
@given(zone=st.sampled_from(ZONES), t=st.integers(min_value=0, max_value=400 * 86400))
def test_local_time_and_sim_seconds_round_trip_across_dst_changes(zone, t):
    calendar = SimCalendar(date(2024, 1, 1), zone, 400)
    moment = calendar.local(t)
    assert moment.tzinfo is calendar.tz
    assert calendar.seconds(moment) == t
    assert calendar.seconds(moment.replace(tzinfo=None, fold=moment.fold)) == t


@given(t=st.integers(min_value=0, max_value=20 * 86400))
def test_the_office_opens_on_working_days_within_hours(t):
    calendar = SimCalendar(date(2024, 3, 1), "Europe/Moscow", 30)
    opens = calendar.next_open(t, 9, 19, (0, 1, 2, 3, 4))
    moment = calendar.local(opens)
    assert opens >= t
    assert moment.weekday() < 5 and 9 <= moment.hour < 19
    if opens > t:  # closed at t: it opened exactly at 09:00
        assert (moment.hour, moment.minute, moment.second) == (9, 0, 0)


@given(t=st.integers(min_value=0, max_value=20 * 86400), weekday=st.none() | st.integers(0, 6))
def test_a_daily_or_weekly_job_runs_next_at_its_local_time(t, weekday):
    calendar = SimCalendar(date(2024, 3, 1), "Europe/Moscow", 30)
    at = next_local_time(calendar, t, 3, 5, weekday)
    moment = calendar.local(at)
    assert t < at <= t + (7 if weekday is not None else 1) * 86400
    assert (moment.hour, moment.minute) == (3, 5)
    if weekday is not None:
        assert moment.weekday() == weekday
