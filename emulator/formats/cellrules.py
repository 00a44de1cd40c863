"""Rules for single cells, applied to a whole column at once, plus their writers.

A :class:`Rule` knows one kind of value in both directions:

- ``check(cells, ctx)`` validates an Arrow column of raw cells (CSV text, or JSON scalars
  already turned into text) and returns typed values (null where not sent or invalid) and
  :class:`Finding` objects naming the bad rows and saying why in plain words;
- ``to_python`` turns checked values into what the domain records hold;
- ``to_cell`` / ``to_json`` write a domain value back, so every codec of a field lives in
  one place and a round trip can be tested field by field;
- ``from_json`` turns one JSON value into a raw cell, with Jackson-like coercion between
  strings and numbers (the docs' own samples send ClientIDs as strings, ambiguity A7).

Each rule's common valid shapes are recognised with Arrow kernels; rarer values go to a
scalar function that decides and words the message, so the rule exists once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.dates import (
    DateFormatError,
    format_csv_datetime,
    parse_csv_date,
    parse_csv_datetime,
    parse_json_date,
    parse_json_datetime,
    parse_unix_seconds,
    zone,
)
from emulator.domain import Severity
from emulator.formats.arrowbits import mask, present, take_strings
from emulator.formats.currencies import ISO_4217
from emulator.formats.limits import MAX_ID_LENGTH, MAX_INT32, MAX_MONEY
from emulator.formats.options import FormatOptions
from emulator.formats.vdates import LocalColumn, ZoneOffsets, date_from_days
from emulator.formats.videntity import check_client_ids
from emulator.identity import IdentityError, normalize_phone


class Family(StrEnum):
    """Which date syntax applies: CSV files or JSON bodies (spec §2.5)."""

    CSV = "csv"
    JSON = "json"


@dataclass
class Ctx:
    """Everything a rule needs besides the cells; one per file or body."""

    options: FormatOptions
    family: Family
    zone: ZoneInfo
    now: datetime
    offsets: ZoneOffsets


@dataclass
class Finding:
    """Rows of one batch that break one rule, each with its own message."""

    rows: list[int]
    messages: list[str]
    code: str
    severity: Severity = Severity.ERROR


@dataclass
class Checked:
    values: pa.Array
    findings: list[Finding] = field(default_factory=list)

    def bad_rows(self) -> np.ndarray:
        rows = [r for f in self.findings if f.severity is Severity.ERROR for r in f.rows]
        return np.asarray(rows, np.int64)


class JsonTypeError(ValueError):
    """A JSON value of the wrong type for its field."""


def show(value: object, limit: int = 60) -> str:
    """A value for a message: quoted, and cut when long (a 10,000-character cell stays readable)."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def finding_from(
    rows: np.ndarray, values: list[Any], message: Callable[[Any], str], code: str
) -> Finding:
    return Finding(rows.tolist(), [message(v) for v in values], code)


def failing(cells: pa.Array, ok: pa.Array) -> np.ndarray:
    """Rows that hold a value for which ``ok`` is not true."""
    return np.flatnonzero(present(cells) & ~mask(ok))


def drop(values: pa.Array, bad: np.ndarray) -> pa.Array:
    """``values`` with nulls at the ``bad`` rows (invalid values are never passed on)."""
    if len(bad) == 0:
        return values
    keep = np.ones(len(values), bool)
    keep[bad] = False
    return pc.if_else(pa.array(keep), values, pa.scalar(None, values.type))


def lone_surrogate(text: str) -> str | None:
    """Where ``text`` holds a lone UTF-16 surrogate (JSON can escape one, ``"\\ud800"``, but
    it is no character and has no UTF-8 form), or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(text[exc.start]):04x} at character {exc.start + 1}"
    return None


def unicode_text(text: str) -> str:
    """``text``, or JsonTypeError when it holds a lone surrogate."""
    where = lone_surrogate(text)
    if where is not None:
        raise JsonTypeError(f"holds a lone UTF-16 surrogate ({where}), which is not a character")
    return text


def scalar_text(value: Any) -> str:
    """A JSON scalar as the text a CSV cell would hold (Jackson-like coercion)."""
    if isinstance(value, str):
        return unicode_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise JsonTypeError(f"must be a string or a number, not {json_type(value)}")
    if isinstance(value, int):
        return str(value)
    return format(Decimal(str(value)), "f")  # str(float) is the shortest exact form


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number"


class Rule(ABC):
    """A cell rule (see the module docstring); subclasses define ``check``."""

    raw_type: pa.DataType = pa.string()

    @abstractmethod
    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        """Typed values and findings for a column of raw cells (null = not sent)."""

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        return values.to_pylist()

    def to_cell(self, value: Any, options: FormatOptions) -> str:
        return str(value)

    def to_cells(self, values: list[Any], options: FormatOptions) -> list[str]:
        """A column of cells (empty for ``None``); rules override it to hoist work out."""
        to_cell = self.to_cell
        return ["" if value is None else to_cell(value, options) for value in values]

    def to_json(self, value: Any, options: FormatOptions | None) -> Any:
        return value

    def from_json(self, value: Any) -> Any:
        return scalar_text(value)


def _matches(cells: pa.Array, pattern: str) -> pa.Array:
    """``match_substring_regex``, run once per distinct value when values repeat a lot
    (order statuses: a handful of values over millions of rows)."""
    distinct = pc.unique(cells)
    if len(distinct) * 4 > len(cells):
        return pc.match_substring_regex(cells, pattern)
    return pc.is_in(cells, distinct.filter(pc.match_substring_regex(distinct, pattern)))


@dataclass(frozen=True)
class TextRule(Rule):
    """Free text or an identifier: a length limit, optionally a pattern or a set of values."""

    max_length: int = MAX_ID_LENGTH
    pattern: str | None = None
    pattern_help: str = ""
    choices: tuple[str, ...] = ()

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        findings = []
        too_long = np.zeros(0, np.int64)
        if (pc.max(pc.binary_length(cells)).as_py() or 0) > self.max_length:  # bytes ≥ characters
            too_long = np.flatnonzero(mask(pc.greater(pc.utf8_length(cells), self.max_length)))
        if len(too_long):
            findings.append(
                finding_from(
                    too_long,
                    take_strings(cells, too_long),
                    lambda v: f"{show(v)} is longer than {self.max_length} characters",
                    "too_long",
                )
            )
        if self.pattern:
            rows = failing(cells, _matches(cells, self.pattern))
            rows = np.setdiff1d(rows, too_long)
            findings.append(
                finding_from(
                    rows,
                    take_strings(cells, rows),
                    lambda v: f"{show(v)} may hold only {self.pattern_help}",
                    "invalid_value",
                )
            )
        if self.choices:
            rows = failing(cells, pc.is_in(cells, pa.array(self.choices)))
            findings.append(
                finding_from(
                    rows,
                    take_strings(cells, rows),
                    lambda v: f"{show(v)} is not {' or '.join(self.choices)}",
                    "invalid_value",
                )
            )
        checked = Checked(cells, [f for f in findings if f.rows])
        checked.values = drop(cells, checked.bad_rows())
        return checked


_CURRENCIES = pa.array(sorted(ISO_4217))


@dataclass(frozen=True)
class CurrencyRule(Rule):
    """A three-letter ISO 4217 code in upper case (spec §4.12, §7.2)."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        rows = failing(cells, pc.is_in(cells, _CURRENCIES))

        def message(v: str) -> str:
            hint = f" (write {v.upper()!r})" if v.upper() in ISO_4217 else ""
            return f"{show(v)} is not an ISO 4217 currency code such as RUB or EUR{hint}"

        found = finding_from(rows, take_strings(cells, rows), message, "invalid_currency")
        return Checked(drop(cells, rows), [found] if len(rows) else [])


def _scalar_pass(
    cells: pa.Array, fast: np.ndarray, scalar: Callable[[str], Any], code: str
) -> tuple[list[int], list[Any], Finding | None]:
    """Run ``scalar`` on the sent values the fast path did not accept.

    Returns the rows it accepted with their values, and a finding for those it refused
    (``scalar`` raises ``ValueError`` with the message).
    """
    rest = np.flatnonzero(present(cells) & ~fast)
    good_rows, good_values, bad_rows, messages = [], [], [], []
    for row, raw in zip(rest.tolist(), take_strings(cells, rest), strict=True):
        try:
            good_values.append(scalar(raw))
            good_rows.append(row)
        except ValueError as exc:
            bad_rows.append(row)
            messages.append(str(exc))
    return good_rows, good_values, (Finding(bad_rows, messages, code) if bad_rows else None)


def _kept_text(cells: pa.Array, fast: str, scalar: Callable[[str], Any], code: str) -> Checked:
    """Values kept as written: those matching the ``fast`` pattern pass, the others are
    judged by ``scalar``; refused ones become null with a finding."""
    _, _, finding = _scalar_pass(cells, mask(pc.match_substring_regex(cells, fast)), scalar, code)
    if finding is None:
        return Checked(cells)
    return Checked(drop(cells, np.asarray(finding.rows)), [finding])


_MONEY = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


def parse_money(text: str) -> Decimal:
    """An amount: digits with an optional ``.`` fraction, from 0 to 9223372036854 (spec §4.12)."""
    if not _MONEY.fullmatch(text):
        if text.startswith("-") and _MONEY.fullmatch(text[1:]):
            raise ValueError(f"{show(text)} is negative; amounts are 0 or more")
        hint = " (use a dot as the decimal separator)" if "," in text else ""
        raise ValueError(f"{show(text)} is not a number{hint}")
    value = Decimal(text)
    if value > MAX_MONEY:
        raise ValueError(f"{show(text)} is more than the maximum {MAX_MONEY}")
    return value


def money_text(value: Decimal) -> str:
    return format(value, "f")


def money_json(value: Decimal) -> int | float:
    """JSON has no decimals: whole amounts become integers, others floats (15 digits exact)."""
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True)
class MoneyRule(Rule):
    """``revenue``, ``cost``, goal and offline prices: a non-negative decimal with a dot."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        return _kept_text(cells, r"^[0-9]{1,12}(\.[0-9]+)?$", parse_money, "invalid_number")

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        return [None if v is None else Decimal(v) for v in values.to_pylist()]

    def to_cell(self, value: Decimal, options: FormatOptions) -> str:
        return money_text(value)

    def to_json(self, value: Decimal, options: FormatOptions | None) -> Any:
        return money_json(value)


_WHOLE = re.compile(r"[0-9]+", re.ASCII)


def parse_whole(text: str, maximum: int = MAX_INT32) -> int:
    """A whole number from 0 to ``maximum``."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{show(text)} is not a whole number (0 or more)")
    value = int(text)
    if value > maximum:
        raise ValueError(f"{show(text)} is more than the maximum {maximum}")
    return value


_INT64 = pa.int64()


def _numbers(
    cells: pa.Array,
    fast: np.ndarray,
    fast_values: np.ndarray,
    scalar: Callable[[str], int],
    code: str,
    type_: pa.DataType = _INT64,
) -> Checked:
    """A numeric column: fast rows take ``fast_values``, the other sent rows ``scalar``."""
    rows, values, bad = _scalar_pass(cells, fast, scalar, code)
    out = np.where(fast, fast_values, 0).astype(type_.to_pandas_dtype())
    valid = fast.copy()
    if rows:
        out[rows] = values
        valid[rows] = True
    return Checked(pa.array(out, type_, mask=~valid), [bad] if bad else [])


def _dated(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` with the value named in its error message (the dates module may omit it)."""

    def wrapped(text: str) -> Any:
        try:
            return parse(text)
        except DateFormatError as exc:
            if text in str(exc):
                raise
            raise DateFormatError(f"{show(text)} is not a valid date: {exc}") from None

    return wrapped


def _cast_fast(cells: pa.Array, fast: np.ndarray, type_: pa.DataType) -> np.ndarray:
    """The fast rows' text cast to numbers (other rows read as 0)."""
    return pc.cast(pc.if_else(pa.array(fast), cells, "0"), type_).to_numpy(zero_copy_only=False)


@dataclass(frozen=True)
class IntRule(Rule):
    """Durations and quantities: whole numbers from 0 to ``maximum``."""

    maximum: int = MAX_INT32

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        fast = mask(pc.match_substring_regex(cells, r"^[0-9]{1,9}$"))
        numbers = _cast_fast(cells, fast, pa.int64())
        fast &= numbers <= self.maximum
        return _numbers(
            cells, fast, numbers, lambda t: parse_whole(t, self.maximum), "invalid_number"
        )


@dataclass(frozen=True)
class FlagRule(Rule):
    """``StaticCall``, ``CallMissed``, ``FirstTimeCaller``: 1 or 0 (spec §7.7)."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        rows = failing(cells, pc.is_in(cells, pa.array(["0", "1"])))
        found = finding_from(
            rows, take_strings(cells, rows), lambda v: f"{show(v)} is not 1 or 0", "invalid_value"
        )
        return Checked(drop(pc.equal(cells, "1"), rows), [found] if len(rows) else [])

    def to_cell(self, value: bool, options: FormatOptions) -> str:
        return "1" if value else "0"


@dataclass(frozen=True)
class ClientIdRule(Rule):
    """One ClientID (offline ``ClientId``): a positive integer that fits in uint64."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        sent = np.flatnonzero(present(cells))
        verdict = check_client_ids(cells.take(pa.array(sent, pa.int64())))
        values = np.zeros(len(cells), np.uint64)
        valid = np.zeros(len(cells), bool)
        values[sent] = verdict.values.to_numpy(zero_copy_only=False) if len(sent) else []
        valid[sent] = verdict.ok
        rows = [int(sent[i]) for i in verdict.errors]
        findings = (
            [Finding(rows, list(verdict.errors.values()), "invalid_client_id")] if rows else []
        )
        return Checked(pa.array(values, pa.uint64(), mask=~valid), findings)


_UINT64 = re.compile(r"[0-9]{1,20}", re.ASCII)


def parse_yclid(text: str) -> int:
    """A Direct click id: a positive integer that fits in uint64."""
    if not _UINT64.fullmatch(text) or not 0 < int(text) < 2**64:
        raise ValueError(f"{show(text)} is not a Yclid (a positive whole number below 2^64)")
    return int(text)


@dataclass(frozen=True)
class YclidRule(Rule):
    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        fast = mask(pc.match_substring_regex(cells, r"^[1-9][0-9]{0,18}$"))
        numbers = _cast_fast(cells, fast, pa.uint64())
        return _numbers(cells, fast, numbers, parse_yclid, "invalid_value", pa.uint64())


def _check_call_phone(text: str) -> str:
    try:
        normalize_phone(text)
    except IdentityError as exc:
        raise ValueError(str(exc)) from None
    return text


@dataclass(frozen=True)
class CallPhoneRule(Rule):
    """``PhoneNumber`` of a call (e.g. ``+70123456789``): 10 to 15 digits, kept as sent."""

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        return _kept_text(cells, r"^\+?[0-9]{10,15}$", _check_call_phone, "invalid_phone")


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

        return _numbers(cells, fast, seconds, _dated(scalar), "invalid_date")

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
        return _numbers(
            cells, fast, days, _dated(lambda t: (parse(t) - date(1970, 1, 1)).days), "invalid_date"
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
        seconds = _cast_fast(cells, fast, pa.int64())
        checked = _numbers(
            cells,
            fast,
            seconds,
            _dated(lambda t: int(parse_unix_seconds(t).timestamp())),
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
