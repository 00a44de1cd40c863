"""Calendar periods of the Reporting API's time grouping: ``group`` of ``/stat/v1/data/bytime``
and the ``ym:s:datePeriod<group>`` dimensions.

https://yandex.ru/dev/metrika/ru/stat/openapi/bytime: ``group`` is ``all``, ``auto``, a
minute or hour grouping, ``day``, ``week`` (the default), ``month``, ``quarter`` or ``year``.
Weeks are calendar weeks from Monday (https://yandex.ru/dev/metrika/ru/stat/examples). Periods
are computed on days since 1970-01-01, for whole arrays at once. The emulator keeps visits and
orders by local day, so groupings finer than a day are refused.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

EPOCH = date(1970, 1, 1)
CALENDAR = ("day", "week", "month", "quarter", "year")
FINER = ("minutes", "dekaminute", "minute", "hour", "hours")
GROUPS = ("all", "auto", *FINER, *CALENDAR)
AUTO_DAYS = 92
AUTO_WEEKS = 366
"""``auto`` (the docs: "set from the period and the amount of data"): days up to about a
quarter, weeks up to a year, months beyond (the emulator's choice)."""


def effective(group: str, date1: date, date2: date) -> str:
    """The calendar grouping ``group`` stands for over [date1, date2] (``ValueError`` if none)."""
    if group not in GROUPS:
        raise ValueError(f"group {group!r} is not one of {', '.join(GROUPS)}")
    if group in FINER:
        raise ValueError(f"group {group!r} is finer than a day, which the emulator does not keep")
    if group != "auto":
        return group
    span = (date2 - date1).days + 1
    return "day" if span <= AUTO_DAYS else "week" if span <= AUTO_WEEKS else "month"


def starts(days: np.ndarray, group: str) -> np.ndarray:
    """The first day of each day's calendar ``group`` period (days since 1970-01-01)."""
    days = np.asarray(days, np.int64)
    if group == "day":
        return days
    if group == "week":
        return days - (days + 3) % 7  # 1970-01-01 was a Thursday
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if group == "quarter":
        months = months - months % 3
    elif group == "year":
        months = months - months % 12
    elif group != "month":
        raise ValueError(f"group {group!r} is not a calendar period")
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def intervals(date1: date, date2: date, group: str) -> list[tuple[date, date]]:
    """The periods that cover [date1, date2], each clipped to it (``all``: one interval)."""
    if group == "all":
        return [(date1, date2)]
    first, last = (date1 - EPOCH).days, (date2 - EPOCH).days
    every = np.arange(first, last + 1, dtype=np.int64)
    bounds = np.unique(starts(every, group))
    out = []
    for i, start in enumerate(bounds.tolist()):
        end = bounds[i + 1] - 1 if i + 1 < len(bounds) else last
        out.append((EPOCH + timedelta(days=max(start, first)), EPOCH + timedelta(days=int(end))))
    return out
