"""Cell rules: the machinery shared by every rule, and the :class:`Rule` contract.

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
scalar function that decides and words the message (:func:`scalar_pass`), so the rule
exists once. The rules themselves are in :mod:`~emulator.formats.cellrules` (text, money,
numbers, identifiers) and :mod:`~emulator.formats.daterules` (dates and times).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.dates import (
    DateFormatError,
)
from emulator.domain import Severity
from emulator.formats.arrowbits import mask, present, take_strings
from emulator.formats.options import FormatOptions
from emulator.formats.vdates import ZoneOffsets


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


def scalar_pass(
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


def kept_text(cells: pa.Array, fast: str, scalar: Callable[[str], Any], code: str) -> Checked:
    """Values kept as written: those matching the ``fast`` pattern pass, the others are
    judged by ``scalar``; refused ones become null with a finding."""
    _, _, finding = scalar_pass(cells, mask(pc.match_substring_regex(cells, fast)), scalar, code)
    if finding is None:
        return Checked(cells)
    return Checked(drop(cells, np.asarray(finding.rows)), [finding])


_INT64 = pa.int64()


def numeric_column(
    cells: pa.Array,
    fast: np.ndarray,
    fast_values: np.ndarray,
    scalar: Callable[[str], int],
    code: str,
    type_: pa.DataType = _INT64,
) -> Checked:
    """A numeric column: fast rows take ``fast_values``, the other sent rows ``scalar``."""
    rows, values, bad = scalar_pass(cells, fast, scalar, code)
    out = np.where(fast, fast_values, 0).astype(type_.to_pandas_dtype())
    valid = fast.copy()
    if rows:
        out[rows] = values
        valid[rows] = True
    return Checked(pa.array(out, type_, mask=~valid), [bad] if bad else [])


def cast_fast(cells: pa.Array, fast: np.ndarray, type_: pa.DataType) -> np.ndarray:
    """The fast rows' text cast to numbers (other rows read as 0)."""
    return pc.cast(pc.if_else(pa.array(fast), cells, "0"), type_).to_numpy(zero_copy_only=False)


def dated(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` with the value named in its error message (the dates module may omit it)."""

    def wrapped(text: str) -> Any:
        try:
            return parse(text)
        except DateFormatError as exc:
            if text in str(exc):
                raise
            raise DateFormatError(f"{show(text)} is not a valid date: {exc}") from None

    return wrapped
