"""Apply every field rule of an upload kind to a batch of raw cells, column by column.

The same function validates CSV segments and JSON bodies: both arrive as a
:class:`~emulator.formats.rawbatch.RawBatch` of raw columns, so a rule is stated once and an
emulated upload, ``crmemu check`` and the tests all see the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.dates import zone
from emulator.domain import RowError, Severity, UploadKind
from emulator.formats.arrowbits import mask, present, take_strings
from emulator.formats.cellrules import TextRule
from emulator.formats.cells import Checked, Ctx, Family, Finding, show
from emulator.formats.header import Layout
from emulator.formats.limits import MAX_CELL_CHARS
from emulator.formats.options import FormatOptions
from emulator.formats.rawbatch import RawBatch
from emulator.formats.vdates import ZoneOffsets

ATTRIBUTE_TEXT = TextRule(MAX_CELL_CHARS)


def make_ctx(options: FormatOptions, family: Family) -> Ctx:
    tz = zone(options.time_zone)
    now = options.now or datetime.now(UTC)
    return Ctx(options, family, tz, now, ZoneOffsets(tz))


@dataclass
class ValidatedBatch:
    """Checked columns of consecutive records.

    ``values`` maps a field name to typed values for every record of the batch (null where
    the cell was empty or invalid); ``attributes`` holds the custom attribute columns by
    attribute name; ``labels`` maps a field name to its column as written in the header (or
    the JSON key). ``valid`` says which records have no error; ``lines`` where each starts.
    ``rows`` counts every data row seen, including rows that could not be split into cells.
    """

    kind: UploadKind
    lines: np.ndarray
    valid: np.ndarray
    values: dict[str, pa.Array] = field(default_factory=dict)
    attributes: dict[str, pa.Array] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows: int = 0
    fatal: bool = False
    notes: dict[str, Any] = field(default_factory=dict)  # per-batch work of later stages

    @classmethod
    def issues_only(cls, kind: UploadKind, issues: list[RowError], fatal: bool) -> ValidatedBatch:
        empty = np.zeros(0, np.int64)
        batch = cls(kind, empty, empty.astype(bool), fatal=fatal)
        batch.add(issues)
        return batch

    def add(self, issues: list[RowError]) -> None:
        for issue in issues:
            (self.warnings if issue.severity is Severity.WARNING else self.errors).append(issue)


class _Collector:
    """Turns findings on batch rows into RowErrors on file lines and marks bad rows."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        self.bad = np.zeros(len(lines), bool)
        self.issues: list[tuple[int, int, RowError]] = []

    def add(self, finding: Finding, label: str | None, order: int) -> None:
        for row, message in zip(finding.rows, finding.messages, strict=True):
            line = int(self.lines[row])
            self.issues.append(
                (line, order, RowError(line, label, message, finding.code, finding.severity))
            )
        if finding.severity is Severity.ERROR and finding.rows:
            self.bad[np.asarray(finding.rows, np.int64)] = True

    def add_checked(self, checked: Checked, label: str, order: int) -> None:
        for finding in checked.findings:
            self.add(finding, label, order)


def validate(raw: RawBatch, layout: Layout, ctx: Ctx) -> ValidatedBatch:
    """Check every column of ``raw`` against the fields of ``layout``."""
    spec = layout.spec
    collect = _Collector(raw.lines)
    if raw.bad is not None:
        collect.bad |= raw.bad
    batch = ValidatedBatch(spec.kind, raw.lines, np.zeros(0, bool), rows=raw.rows, fatal=raw.fatal)
    order = {column.index: i for i, column in enumerate(layout.columns)}
    for name, column in layout.fields.items():
        cells = raw.columns[column.index]
        checked = column.field.rule.check(cells, ctx)  # type: ignore[union-attr]
        batch.values[name] = checked.values
        batch.labels[name] = column.label
        collect.add_checked(checked, column.label, order[column.index])
        if column.field.required:  # type: ignore[union-attr]
            missing = np.flatnonzero(~present(cells))
            if len(missing):
                message = (
                    "a required value is missing"
                    if ctx.family is Family.JSON
                    else "a required value is empty"
                )
                collect.add(
                    Finding(missing.tolist(), [message] * len(missing), "missing_value"),
                    column.label,
                    order[column.index],
                )
    for column in layout.attributes:
        checked = ATTRIBUTE_TEXT.check(raw.columns[column.index], ctx)
        batch.attributes[column.attribute or column.label] = checked.values
        collect.add_checked(checked, column.label, order[column.index])
    for column in layout.ignored:
        _check_cell_size(raw.columns[column.index], collect, column.label, order[column.index])
    _check_identifiers(raw, layout, collect, ctx)
    batch.valid = ~collect.bad
    collect.issues.sort(key=lambda item: (item[0], item[1]))
    batch.add(list(raw.errors))
    batch.add([issue for _, _, issue in collect.issues])
    return batch


def _check_cell_size(cells: pa.Array, collect: _Collector, label: str, order: int) -> None:
    rows = np.flatnonzero(mask(pc.greater(pc.utf8_length(cells), MAX_CELL_CHARS)))
    if len(rows):
        messages = [
            f"{show(v)} is longer than {MAX_CELL_CHARS} characters"
            for v in take_strings(cells, rows)
        ]
        collect.add(Finding(rows.tolist(), messages, "too_long"), label, order)


def _check_identifiers(raw: RawBatch, layout: Layout, collect: _Collector, ctx: Ctx) -> None:
    """Rows with none of the kind's identifiers (e.g. simple orders without any contact)."""
    spec = layout.spec
    columns = [layout.fields[name] for name in spec.identifiers if name in layout.fields]
    if not spec.identifiers or not columns:
        return
    sent = np.zeros(len(raw.lines), bool)
    for column in columns:
        sent |= present(raw.columns[column.index])
    rows = np.flatnonzero(~sent)
    if len(rows):
        names = ", ".join(c.label for c in columns)
        message = f"the row has no identifier: fill at least one of {names}"
        collect.add(Finding(rows.tolist(), [message] * len(rows), "no_identifier"), None, -1)
