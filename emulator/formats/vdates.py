"""Vectorised CSV date parsing and counter-zone conversion, checked against emulator.dates.

:mod:`emulator.dates` is the one source of truth for date rules. This module is its fast
path for whole columns: it parses the canonical fixed-width shapes of the CSV formats
(``dd.MM.yy``, ``dd.MM.yyyy``, ``yyyy-MM-dd``, each optionally with `` HH:mm`` or
`` HH:mm:ss``) with numpy, and hands every value it does not accept back to the scalar
functions, which decide and word the message. A property test proves that every value the
fast path accepts gets the same instant from the scalar parser.

Local → UTC conversion asks :mod:`zoneinfo` once per distinct local day (and per hour on
days with a clock change), so zoneinfo stays the authority on offsets, with ``fold=0`` for
repeated or skipped local times exactly like ``datetime.combine(..., tzinfo=zone)``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from emulator.dates import EndOfDay, two_digit_year
from emulator.formats.arrowbits import present, string_buffers

_WIDTH = 19  # longest canonical form: dd.MM.yyyy HH:mm:ss
_EPOCH = datetime(1970, 1, 1)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
# Bytes minus ord("0") as uint8, the form the parser compares (it subtracts 48 once).
_DOT, _DASH, _COLON, _SPACE = (np.uint8((ord(c) - 48) % 256) for c in ".-: ")
_YEAR_OF_YY = np.array([two_digit_year(yy) for yy in range(100)], np.int64)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


class LocalColumn:
    """The fast-path reading of a column of CSV dates, before any zone is applied.

    ``accepted`` rows hold a canonical date (from 1970 on); for them ``seconds`` is the local
    wall time in seconds since 1970-01-01 00:00 and ``has_time`` says whether a time was
    written (when not, ``seconds`` is the day's end per ``end_of_day``); ``json_shape``
    marks the shapes that JSON bodies use too. Every other value must be read by the scalar
    parser.
    """

    def __init__(self, cells: pa.Array, end_of_day: EndOfDay) -> None:
        offsets, data = string_buffers(cells)
        lengths = np.diff(offsets)
        sent = present(cells)
        rows = np.flatnonzero(sent & _one_of(lengths, 8, 10, 14, 16, 17, 19))
        length = lengths[rows]
        value = _byte_rows(data, offsets[:-1][rows], length) - np.uint8(48)
        digit = value < 10  # uint8 wraps: below 10 only for the bytes '0'..'9'

        def num(*ks: int) -> np.ndarray:
            out = value[ks[0]].astype(np.int32)
            for k in ks[1:]:
                out = out * 10 + value[k]
            return out

        dmy = (value[2] == _DOT) & (value[5] == _DOT) & digit[[0, 1, 3, 4, 6, 7]].all(0)
        short = dmy & _one_of(length, 8, 14, 17)
        long_dmy = dmy & digit[8] & digit[9] & _one_of(length, 10, 16, 19)
        ymd = (value[4] == _DASH) & (value[7] == _DASH) & _one_of(length, 10, 16, 19)
        ymd &= digit[[0, 1, 2, 3, 5, 6, 8, 9]].all(0)
        day = np.where(ymd, num(8, 9), num(0, 1))
        month = np.where(ymd, num(5, 6), num(3, 4))
        year = np.where(ymd, num(0, 1, 2, 3), num(6, 7, 8, 9))
        year = np.where(short, _YEAR_OF_YY[num(6, 7) % 100], year)

        date_len = np.where(short, 8, 10)
        has_time = length > date_len
        with_seconds = length == date_len + 9
        t = value[10:19]
        if short.any():
            t = value[8:17] if short.all() else np.where(short, value[8:17], value[10:19])
        tdigit = t < 10
        time_shape = (t[0] == _SPACE) & tdigit[1] & tdigit[2] & (t[3] == _COLON)
        time_shape &= tdigit[4] & tdigit[5]
        time_shape &= ~with_seconds | ((t[6] == _COLON) & tdigit[7] & tdigit[8])
        tnum = t.astype(np.int32)
        eod = end_of_day.time
        hour = np.where(has_time, tnum[1] * 10 + tnum[2], eod.hour)
        minute = np.where(has_time, tnum[4] * 10 + tnum[5], eod.minute)
        second = np.where(with_seconds, tnum[7] * 10 + tnum[8], np.where(has_time, 0, eod.second))

        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        month_ok = (month >= 1) & (month <= 12)
        dim = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
        ok = (short | long_dmy | ymd) & month_ok & (day >= 1) & (day <= dim) & (year >= 1970)
        ok &= ~has_time | (time_shape & (hour <= 23) & (minute <= 59) & (second <= 59))

        days = _days_from_civil(year.astype(np.int64), month.astype(np.int64), day.astype(np.int64))
        self.accepted = np.zeros(len(cells), bool)
        self.accepted[rows[ok]] = True
        self.seconds = np.zeros(len(cells), np.int64)
        self.seconds[rows] = days * 86400 + (hour * 3600 + minute * 60 + second)
        self.has_time = np.zeros(len(cells), bool)
        self.has_time[rows] = has_time
        # ``yyyy-MM-dd`` and ``yyyy-MM-dd HH:mm:ss`` mean the same in JSON (spec §2.5).
        self.json_shape = np.zeros(len(cells), bool)
        self.json_shape[rows] = ymd & (~has_time | with_seconds)


def _one_of(values: np.ndarray, *choices: int) -> np.ndarray:
    out = values == choices[0]
    for choice in choices[1:]:
        out |= values == choice
    return out


def _byte_rows(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Byte ``k`` of every value as row ``k`` of a (19, n) matrix.

    When every value has one length and they lie back to back (a column written by one
    program), the matrix is a transposed copy of the data; otherwise bytes are gathered,
    and past a value's end a row holds bytes of the next values (the shape checks look
    only at positions below each value's length).
    """
    out = np.zeros((_WIDTH, len(starts)), np.uint8)
    if len(starts) == 0:
        return out
    width = int(lengths[0])
    if (lengths == width).all() and int(starts[-1]) - int(starts[0]) == width * (len(starts) - 1):
        first = int(starts[0])
        out[:width] = data[first : first + width * len(starts)].reshape(-1, width).T
        return out
    padded = np.concatenate([data, np.zeros(_WIDTH, np.uint8)])
    for k in range(_WIDTH):  # row by row: no (19, n) index matrix
        out[k] = padded[starts + k]
    return out


class ZoneOffsets:
    """UTC offsets of one zone for local wall times, asked of zoneinfo and remembered.

    One instance serves a whole file, so each local day is looked up once.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._days: dict[int, int | None] = {}
        self._hours: dict[int, int | None] = {}

    def _offset(self, local_seconds: int) -> int:
        naive = _EPOCH + timedelta(seconds=local_seconds)
        offset = naive.replace(tzinfo=self.zone).utcoffset()
        assert offset is not None
        return int(offset.total_seconds())

    def _steady(self, start: int, span: int) -> int | None:
        """The offset over ``[start, start+span)`` local seconds, or None if it changes."""
        probes = {
            self._offset(start),
            self._offset(start + span // 2),
            self._offset(start + span - 1),
        }
        return probes.pop() if len(probes) == 1 else None

    def _lookup(self, keys: np.ndarray, span: int, cache: dict[int, int | None]) -> np.ndarray:
        """Offsets for ``keys`` (local days or hours); NaN where the offset changes inside."""
        low, high = int(keys.min()), int(keys.max())
        dense = high - low < 1 << 22  # a table over the range beats sorting
        if dense:
            seen = np.zeros(high - low + 1, bool)
            seen[keys - low] = True
            unique = np.flatnonzero(seen) + low
        else:
            unique = np.unique(keys)
        found = np.empty(len(unique), np.float64)
        for i, key in enumerate(unique.tolist()):
            if key not in cache:
                cache[key] = self._steady(key * span, span)
            value = cache[key]
            found[i] = np.nan if value is None else value
        if not dense:
            return found[np.searchsorted(unique, keys)]
        table = np.empty(high - low + 1, np.float64)
        table[unique - low] = found
        return table[keys - low]

    def to_utc(self, local_seconds: np.ndarray) -> np.ndarray:
        """Unix seconds of local wall times (int64 array in, int64 array out)."""
        if len(local_seconds) == 0:
            return local_seconds.copy()
        offsets = self._lookup(local_seconds // 86400, 86400, self._days)
        changing = np.flatnonzero(np.isnan(offsets))
        if len(changing):
            offsets[changing] = self._lookup(local_seconds[changing] // 3600, 3600, self._hours)
            for i in np.flatnonzero(np.isnan(offsets)).tolist():
                offsets[i] = self._offset(int(local_seconds[i]))
        return local_seconds - offsets.astype(np.int64)


def datetime_from_unix(seconds: int, zone: ZoneInfo | None) -> datetime:
    """An aware datetime for Unix ``seconds``, in ``zone`` (UTC when None)."""
    return datetime.fromtimestamp(seconds, tz=zone or UTC)


def date_from_days(days: int) -> date:
    return date(1970, 1, 1) + timedelta(days=days)
