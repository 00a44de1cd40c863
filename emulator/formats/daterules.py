"""Rules for dates and times: CRM date-times in the counter's zone, dates, Unix seconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.dates import (
    format_csv_datetime,
    parse_csv_date,
    parse_csv_datetime,
    parse_json_date,
    parse_json_datetime,
    parse_unix_seconds,
    zone,
)
from emulator.formats.arrowbits import mask, take_strings
from emulator.formats.cells import (
    Checked,
    Ctx,
    Family,
    Rule,
    cast_fast,
    dated,
    drop,
    finding_from,
    numeric_column,
)
from emulator.formats.options import FormatOptions
from emulator.formats.vdates import LocalColumn, date_from_days


@dataclass(frozen=True)
class DateTimeRule(Rule):
    """A CRM date-time read in the counter's zone; values are Unix seconds (spec §2.5).

    CSV takes the CSV formats, JSON the JSON ones (:mod:`emulator.dates`); a date without a
    time is the end of that day per ``FormatOptions.end_of_day``.
    """

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        end_of_day = ctx.options.end_of_day
        local = LocalColumn(cells, end_of_day)
        if ctx.family is Family.JSON:
            fast = local.accepted & local.json_shape
            parse: Callable[..., datetime] = parse_json_datetime
        else:
            fast = local.accepted
            parse = parse_csv_datetime
        seconds = np.zeros(len(cells), np.int64)
        seconds[fast] = ctx.offsets.to_utc(local.seconds[fast])

        def scalar(text: str) -> int:
            return int(parse(text, ctx.zone, end_of_day).timestamp())

        return numeric_column(cells, fast, seconds, dated(scalar), "invalid_date")

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        tz = ctx.zone
        return [None if s is None else datetime.fromtimestamp(s, tz) for s in values.to_pylist()]

    def to_cell(self, value: datetime, options: FormatOptions) -> str:
        return format_csv_datetime(value, zone(options.time_zone))

    def to_cells(self, values: list[Any], options: FormatOptions) -> list[str]:
        tz = zone(options.time_zone)
        return ["" if value is None else format_csv_datetime(value, tz) for value in values]

    def to_json(self, value: datetime, options: FormatOptions | None) -> Any:
        tz = zone(options.time_zone) if options else value.tzinfo
        return format_csv_datetime(value, tz)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DateRule(Rule):
    """``birth_date``: a date without a time; values are days since 1970-01-01."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        days = np.zeros(len(cells), np.int64)
        if ctx.family is Family.JSON:
            fast = np.zeros(len(cells), bool)
            parse: Callable[[str], date] = parse_json_date
        else:
            local = LocalColumn(cells, ctx.options.end_of_day)
            fast = local.accepted & ~local.has_time
            days[fast] = local.seconds[fast] // 86400
            parse = parse_csv_date
        return numeric_column(
            cells, fast, days, dated(lambda t: (parse(t) - date(1970, 1, 1)).days), "invalid_date"
        )

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        return [None if d is None else date_from_days(d) for d in values.to_pylist()]

    def to_cell(self, value: date, options: FormatOptions) -> str:
        return value.isoformat()

    def to_json(self, value: date, options: FormatOptions | None) -> Any:
        return value.isoformat()


@dataclass(frozen=True)
class UnixTimeRule(Rule):
    """Offline ``DateTime``: Unix seconds in UTC, not after the upload (spec §7.2)."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        fast = mask(pc.match_substring_regex(cells, r"^[0-9]{1,11}$"))
        seconds = cast_fast(cells, fast, pa.int64())
        checked = numeric_column(
            cells,
            fast,
            seconds,
            dated(lambda t: int(parse_unix_seconds(t).timestamp())),
            "invalid_date",
        )
        now = int(ctx.now.timestamp())
        future = np.flatnonzero(mask(pc.greater(checked.values, now)))
        if len(future):
            upload = _utc_text(now)
            stamps = take_strings(checked.values, future)
            checked.findings.append(
                finding_from(
                    future,
                    stamps,
                    lambda v: (
                        f"{v} ({_utc_text(v)} UTC) is after the upload ({upload} UTC); "
                        "conversions must already have happened"
                    ),
                    "future_date",
                )
            )
            checked.values = drop(checked.values, future)
        return checked

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        return [None if s is None else datetime.fromtimestamp(s, UTC) for s in values.to_pylist()]

    def to_cell(self, value: datetime, options: FormatOptions) -> str:
        return str(int(value.timestamp()))


def _utc_text(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
