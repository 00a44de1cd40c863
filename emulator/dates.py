"""Date and date-time rules of CRM uploads (project spec §2.5).

Source: https://yandex.ru/dev/metrika/en/data-import/date

- CSV: ``dd.MM.yyyy``, ``dd.MM.yy``, ``yyyy-MM-dd``, each optionally followed by
  `` HH:mm`` or `` HH:mm:ss``.
- JSON: ``yyyy-MM-dd`` and ``yyyy-MM-dd HH:mm:ss``; the rendered OpenAPI page also shows
  ISO ``2025-01-01T00:00:00Z``, so ISO-8601 with ``T`` and an optional offset is accepted.
- Every value without an offset is read in the counter's time zone.
- A date without a time means the end of that day: 23:59 per the simple-orders example
  (https://yandex.ru/dev/metrika/en/data-import/simple-orders-data), 23:59:59 per the Direct
  Conversion Center (https://www.yandex.com/support/direct/statistics/conversions.html).
  That choice is :class:`EndOfDay`.
- Dates before 1970-01-01 are rejected.

Two-digit years follow the POSIX ``%y`` pivot (69-99 → 19xx, 00-68 → 20xx); the docs do not
say which pivot the service uses. Local times that a DST change makes ambiguous or skip are
resolved as :mod:`zoneinfo` does with ``fold=0`` (the earlier offset).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EPOCH_DATE = date(1970, 1, 1)


class EndOfDay(StrEnum):
    """What time a date-only ``create_date_time`` stands for."""

    METRICA = "23:59"  # https://yandex.ru/dev/metrika/en/data-import/simple-orders-data
    DIRECT = "23:59:59"  # https://www.yandex.com/support/direct/statistics/conversions.html

    @property
    def time(self) -> time:
        return time(23, 59, 59) if self is EndOfDay.DIRECT else time(23, 59)


class DateFormatError(ValueError):
    """A value that is not a date in any accepted format."""


# re.ASCII: ``\d`` must not accept other scripts' digits (``٢١.٠٤.٢٠٢٠``); ``\Z``: no
# trailing newline.
_CSV = re.compile(
    r"^(?:(?P<d>\d{2})\.(?P<m>\d{2})\.(?P<y>\d{4}|\d{2})|(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2}))"
    r"(?: (?P<H>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?\Z",
    re.ASCII,
)
_JSON = re.compile(
    r"^(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2})"
    r"(?:[ T](?P<H>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.\d{1,9})?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?\Z",
    re.ASCII,
)
_UNIX = re.compile(r"[0-9]{1,12}")

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

CSV_FORMATS_HELP = "dd.MM.yyyy, dd.MM.yy or yyyy-MM-dd, optionally with HH:mm or HH:mm:ss"
JSON_FORMATS_HELP = "yyyy-MM-dd or yyyy-MM-dd HH:mm:ss"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; raises ``ValueError`` with a plain message when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError too: a very long or odd name fails as a file lookup under tzdata, and the
        # message must name the zone, never the install path.
        shown = repr(name) if len(name) <= 64 else f"{name[:64]!r}… ({len(name)} characters)"
        raise ValueError(
            f"unknown time zone {shown}; use an IANA name like Europe/Moscow"
        ) from None


def two_digit_year(yy: int) -> int:
    return 1900 + yy if yy >= 69 else 2000 + yy


def _build(
    year: int, month: int, day: int, clock: time | None, tz: ZoneInfo, end_of_day: EndOfDay
) -> datetime:
    try:
        day_value = date(year, month, day)
    except ValueError as exc:
        raise DateFormatError(f"{exc}") from None
    if day_value < EPOCH_DATE:
        raise DateFormatError("dates before 1970-01-01 are not supported")
    return datetime.combine(day_value, clock or end_of_day.time, tzinfo=tz)


def _clock(hour: str | None, minute: str | None, second: str | None) -> time | None:
    if hour is None:
        return None
    try:
        return time(int(hour), int(minute or 0), int(second or 0))
    except ValueError as exc:
        raise DateFormatError(f"{exc}") from None


def parse_csv_datetime(
    text: str, tz: ZoneInfo, end_of_day: EndOfDay = EndOfDay.METRICA
) -> datetime:
    """A CSV date or date-time, read in ``tz``."""
    match = _CSV.match(text.strip())
    if not match:
        raise DateFormatError(f"{text!r} is not a date ({CSV_FORMATS_HELP})")
    g = match.groupdict()
    if g["Y"]:
        year, month, day = int(g["Y"]), int(g["M"]), int(g["D"])
    else:
        y = g["y"]
        year = int(y) if len(y) == 4 else two_digit_year(int(y))
        month, day = int(g["m"]), int(g["d"])
    return _build(year, month, day, _clock(g["H"], g["mi"], g["s"]), tz, end_of_day)


def parse_json_datetime(
    text: str, tz: ZoneInfo, end_of_day: EndOfDay = EndOfDay.METRICA
) -> datetime:
    """A JSON date or date-time, read in ``tz`` unless it carries its own offset."""
    match = _JSON.match(text.strip())
    if not match:
        raise DateFormatError(f"{text!r} is not a date ({JSON_FORMATS_HELP})")
    g = match.groupdict()
    value = _build(
        int(g["Y"]), int(g["M"]), int(g["D"]), _clock(g["H"], g["mi"], g["s"]), tz, end_of_day
    )
    offset = g["tz"]
    if offset:
        if offset == "Z":
            aware = value.replace(tzinfo=UTC)
        else:
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            aware = value.replace(tzinfo=None) - sign * delta
            aware = aware.replace(tzinfo=UTC)
        value = aware.astimezone(tz)
    return value


def parse_csv_date(text: str) -> date:
    """A CSV date without a time (``birth_date``): dd.MM.yyyy, dd.MM.yy or yyyy-MM-dd."""
    match = _CSV.match(text.strip())
    if not match or match["H"] is not None:
        raise DateFormatError(f"{text!r} is not a date (dd.MM.yyyy, dd.MM.yy or yyyy-MM-dd)")
    return parse_csv_datetime(text, zone("UTC")).date()


def parse_json_date(text: str) -> date:
    """A JSON ``yyyy-MM-dd`` date (``birth_date``); ISO's other forms (``20200421``) are not."""
    stripped = text.strip()
    try:
        if not _ISO_DATE.match(stripped):
            raise ValueError(stripped)
        value = date.fromisoformat(stripped)
    except ValueError:
        raise DateFormatError(f"{text!r} is not a date (yyyy-MM-dd)") from None
    if value < EPOCH_DATE:
        raise DateFormatError("dates before 1970-01-01 are not supported")
    return value


def format_csv_datetime(value: datetime, tz: ZoneInfo) -> str:
    """The ``yyyy-MM-dd HH:mm:ss`` form of ``value`` in ``tz`` (what exporters write)."""
    t = value.astimezone(tz)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def parse_unix_seconds(text: str) -> datetime:
    """An offline-conversion ``DateTime``: Unix seconds, UTC (spec §7.2)."""
    stripped = text.strip()
    if not _UNIX.fullmatch(stripped):
        raise DateFormatError(f"{text!r} is not a Unix timestamp in seconds")
    try:
        return datetime.fromtimestamp(int(stripped), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise DateFormatError(f"{text!r} is too far in the future for a timestamp") from None


def to_ts(value: datetime) -> int:
    """Unix seconds of an aware date-time (what the engine stores)."""
    return int(value.timestamp())


def from_ts(value: int, tz: ZoneInfo | None = None) -> datetime:
    """The date-time of Unix seconds, in ``tz`` (UTC by default)."""
    return datetime.fromtimestamp(value, tz=tz or UTC)
