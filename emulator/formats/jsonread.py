"""JSON bodies of ``data/orders/json`` and ``data/contacts/json`` (spec §4.3, §4.5).

A body is ``{"orders": [OrderRow, ...]}`` or ``{"contacts": [ContactRow, ...]}`` with at
least one element. Its elements are turned into the same raw columns as a CSV file and go
through the same validator, so every field rule is shared; ``line`` in a RowError is the
element's 1-based index in the array and ``column`` the JSON key.

Type leniency, as Jackson (which the service's samples suggest) coerces by default:
strings and numbers stand for each other in scalar fields, so ``"client_ids":
["12345678910"]`` and ``[12345678910]`` are both ClientIDs (ambiguity A7) and an ``id``
sent as a number is its text. Booleans, objects and lists in scalar fields are errors.
``products`` is an object ``{"pear": 10}`` (A8). ``attribute_values`` (A6) may be an
object ``{"name": value}``, a list of such objects, or a list of ``[name, value]`` pairs.
A key that is missing or ``null`` means "not sent".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from emulator.domain import RowError, Severity, UploadKind
from emulator.formats.api import ParseResult
from emulator.formats.cells import Family, JsonTypeError, json_type, scalar_text
from emulator.formats.fields import SPECS, KindSpec
from emulator.formats.header import Column, Layout, attribute_name_problem
from emulator.formats.options import FormatOptions, UnknownColumns
from emulator.formats.rawbatch import RawBatch
from emulator.formats.records import build_records
from emulator.formats.validate import ValidatedBatch, make_ctx, validate

ATTRIBUTES_KEY = "attribute_values"


def load_json(body: bytes | str | Mapping[str, Any]) -> tuple[Any, RowError | None]:
    """A JSON document (numbers with a fraction as Decimal), or a plain error."""
    if isinstance(body, Mapping):
        return body, None
    try:
        return json.loads(body, parse_float=Decimal), None
    except UnicodeDecodeError as exc:
        return None, RowError(0, None, f"the body is not UTF-8 text ({exc.reason})", "invalid_json")
    except json.JSONDecodeError as exc:
        message = f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        return None, RowError(0, None, message, "invalid_json")


def elements(document: Any, key: str, what: str) -> tuple[list[Any], list[RowError]]:
    """The array under ``key`` of a ``{key: [...]}`` body, or why there is none."""
    if not isinstance(document, Mapping):
        return [], [
            RowError(
                0,
                None,
                f'the body must be a JSON object {{"{key}": [...]}}, not {json_type(document)}',
                "invalid_json",
            )
        ]
    if key not in document:
        found = ", ".join(repr(k) for k in document) or "none"
        return [], [
            RowError(0, key, f"the body has no key {key!r} (keys found: {found})", "invalid_json")
        ]
    errors = [
        RowError(
            0,
            k,
            f"the body's key {k!r} is not {key!r} and is ignored",
            "unknown_key",
            Severity.WARNING,
        )
        for k in document
        if k != key
    ]
    items = document[key]
    if not isinstance(items, list):
        return [], [
            *errors,
            RowError(0, key, f"{key!r} must be a list, not {json_type(items)}", "invalid_json"),
        ]
    if not items:
        return [], [
            *errors,
            RowError(0, key, f"{key!r} is empty; send at least one {what}", "no_rows"),
        ]
    return items, errors


def _attribute_pairs(value: Any) -> list[tuple[str, Any]]:
    """The shapes of ``attribute_values`` seen in the docs (ambiguity A6) as pairs."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list):
        pairs: list[tuple[str, Any]] = []
        for item in value:
            if isinstance(item, Mapping):
                pairs += item.items()
            elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                pairs.append((item[0], item[1]))
            else:
                raise JsonTypeError(
                    "each item must be an object {name: value} or a [name, value] pair"
                )
        return pairs
    raise JsonTypeError(f"must be an object {{name: value}}, not {json_type(value)}")


class _Columns:
    """Raw columns built from JSON elements, with type errors per element."""

    def __init__(self, spec: KindSpec, items: list[Any], options: FormatOptions) -> None:
        self.spec = spec
        self.n = len(items)
        self.raw: dict[str, list[Any]] = {f.name: [None] * self.n for f in spec.fields}
        self.readers = {f.name: f.rule.from_json for f in spec.fields}
        self.attributes: dict[str, list[Any]] = {}
        self.errors: list[RowError] = []
        self.bad = np.zeros(self.n, bool)
        self.unknown: dict[str, int] = {}
        for row, item in enumerate(items):
            self._element(row, item, options)

    def _fail(self, row: int, key: str | None, message: str, code: str = "invalid_type") -> None:
        self.errors.append(RowError(row + 1, key, message, code))
        self.bad[row] = True

    def _element(self, row: int, item: Any, options: FormatOptions) -> None:
        if not isinstance(item, Mapping):
            self._fail(row, None, f"each element must be an object, not {json_type(item)}")
            return
        for key, value in item.items():
            if value is None:
                continue
            if key in self.raw:
                try:
                    self.raw[key][row] = self.readers[key](value)
                except JsonTypeError as exc:
                    self._fail(row, key, f"{key} {exc}")
            elif key == ATTRIBUTES_KEY and self.spec.attributes:
                self._attributes(row, value)
            else:
                self.unknown.setdefault(key, row)
                if options.unknown_columns is UnknownColumns.ERROR:
                    self._fail(
                        row, key, f"{key!r} is not a field of {self.spec.kind}", "unknown_column"
                    )

    def _attributes(self, row: int, value: Any) -> None:
        try:
            pairs = _attribute_pairs(value)
            for name, text in pairs:
                problem = attribute_name_problem(str(name))
                if problem:
                    raise JsonTypeError(problem)
                column = self.attributes.setdefault(str(name), [None] * self.n)
                column[row] = None if text is None else scalar_text(text)
        except JsonTypeError as exc:
            self._fail(row, ATTRIBUTES_KEY, f"{ATTRIBUTES_KEY} {exc}")

    def batch_and_layout(self) -> tuple[RawBatch, Layout]:
        columns: list[pa.Array] = []
        layout = Layout(self.spec, [])
        for f in self.spec.fields:
            column = Column(len(columns), f.name, field=f)
            layout.columns.append(column)
            layout.fields[f.name] = column
            columns.append(pa.array(self.raw[f.name], f.rule.raw_type))
        for name, values in self.attributes.items():
            column = Column(len(columns), ATTRIBUTES_KEY, attribute=name)
            layout.columns.append(column)
            layout.attributes.append(column)
            columns.append(pa.array(values, pa.string()))
        lines = np.arange(1, self.n + 1, dtype=np.int64)
        return RawBatch(columns, lines, rows=self.n, bad=self.bad), layout


def validate_json(
    kind: UploadKind, body: bytes | str | Mapping[str, Any], options: FormatOptions | None = None
) -> ValidatedBatch:
    """Checked columns of an orders or contacts JSON body, with every problem of the body.

    What the engine reads (records are built only by :func:`parse_json`); ``rows`` is the
    number of elements, ``lines`` their 1-based positions.
    """
    options = options or FormatOptions()
    spec = SPECS[UploadKind(kind)]
    if spec.json_key is None:
        raise ValueError(f"{kind} has no JSON form; only orders and contacts do")
    document, error = load_json(body)
    if error:
        return ValidatedBatch.issues_only(spec.kind, [error], fatal=True)
    items, issues = elements(document, spec.json_key, spec.json_key.rstrip("s"))
    if not items:
        return ValidatedBatch.issues_only(spec.kind, issues, fatal=True)
    columns = _Columns(spec, items, options)
    for key, row in columns.unknown.items():
        if options.unknown_columns is not UnknownColumns.ERROR:
            message = f"{key!r} is not a field of {spec.kind} and is ignored"
            issues.append(RowError(row + 1, key, message, "unknown_column", Severity.WARNING))
    raw, layout = columns.batch_and_layout()
    batch = validate(raw, layout, make_ctx(options, Family.JSON))
    batch.errors = sorted(columns.errors + batch.errors, key=lambda e: e.line)
    batch.add(issues)
    return batch


def parse_json(
    kind: UploadKind, body: bytes | str | Mapping[str, Any], options: FormatOptions | None = None
) -> ParseResult:
    """Records of an orders or contacts JSON body (see the module docstring)."""
    options = options or FormatOptions()
    batch = validate_json(kind, body, options)
    result = ParseResult(batch.kind)
    records, lines = build_records(batch, make_ctx(options, Family.JSON))
    result.records, result.lines, result.rows = records, lines, batch.rows
    result.errors += batch.errors
    result.warnings += batch.warnings
    return result
