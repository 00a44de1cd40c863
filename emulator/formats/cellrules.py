"""Rules for text, money, numbers and identifiers, applied to a whole column at once.

See :mod:`~emulator.formats.cells` for the :class:`~emulator.formats.cells.Rule` contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.formats.arrowbits import mask, present, take_strings
from emulator.formats.cells import (
    Checked,
    Ctx,
    Finding,
    Rule,
    cast_fast,
    drop,
    failing,
    finding_from,
    kept_text,
    numeric_column,
    show,
)
from emulator.formats.currencies import ISO_4217
from emulator.formats.limits import MAX_ID_LENGTH, MAX_INT32, MAX_MONEY
from emulator.formats.options import FormatOptions
from emulator.formats.videntity import check_client_ids
from emulator.identity import IdentityError, normalize_phone


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
        return kept_text(cells, r"^[0-9]{1,12}(\.[0-9]+)?$", parse_money, "invalid_number")

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


@dataclass(frozen=True)
class IntRule(Rule):
    """Durations and quantities: whole numbers from 0 to ``maximum``."""

    maximum: int = MAX_INT32

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        fast = mask(pc.match_substring_regex(cells, r"^[0-9]{1,9}$"))
        numbers = cast_fast(cells, fast, pa.int64())
        fast &= numbers <= self.maximum
        return numeric_column(
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
        numbers = cast_fast(cells, fast, pa.uint64())
        return numeric_column(cells, fast, numbers, parse_yclid, "invalid_value", pa.uint64())


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
        return kept_text(cells, r"^\+?[0-9]{10,15}$", _check_call_phone, "invalid_phone")
