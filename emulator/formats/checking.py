"""Checking a whole CSV file the way ``crmemu check`` does: every row error, then warnings.

:class:`FileCheck` walks the file batch by batch (bounded memory), yields each problem as
soon as it is known — row errors and value warnings in file order per batch, the
file-level warnings of :class:`~emulator.formats.lint.Linter` at the end — and keeps the
running :class:`CheckSummary`. It builds no records. Errors are always all yielded;
warnings beyond ``max_warnings_per_code`` of one code are only counted (``omitted``).

For files over :data:`LEAN_ABOVE_BYTES` (and streams of unknown size) checking favours
memory over speed: batches cover :data:`LEAN_CHUNK_BYTES`, an eighth of what the parser
reads at once, so a 1 GB file is checked in under 300 MB.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from emulator.domain import RowError, Severity, UploadKind
from emulator.formats.api import Source, iter_validate_csv
from emulator.formats.lint import Linter
from emulator.formats.options import FormatOptions
from emulator.formats.validate import ValidatedBatch

LEAN_ABOVE_BYTES = 256 << 20
LEAN_CHUNK_BYTES = 1 << 20


def _chunk_bytes(source: Source) -> int | None:
    """Small batches for big files and streams of unknown size (None: the parser's default)."""
    try:
        if isinstance(source, str | Path):
            size = os.path.getsize(source)
        else:
            size = os.fstat(source.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return LEAN_CHUNK_BYTES
    return None if size < LEAN_ABOVE_BYTES else LEAN_CHUNK_BYTES


@dataclass
class CheckSummary:
    """Counts over the whole file; ``warnings`` and ``by_code`` include omitted warnings."""

    rows: int = 0
    valid_rows: int = 0
    errors: int = 0
    warnings: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    omitted: Counter[str] = field(default_factory=Counter)

    def count(self, issue: RowError) -> None:
        if issue.severity is Severity.ERROR:
            self.errors += 1
        else:
            self.warnings += 1
        self.by_code[issue.code] += 1

    def count_omitted(self, omitted: Counter[str]) -> None:
        self.omitted += omitted
        self.by_code += omitted
        self.warnings += sum(omitted.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "valid_rows": self.valid_rows,
            "errors": self.errors,
            "warnings": self.warnings,
            "by_code": dict(sorted(self.by_code.items())),
        }


class FileCheck:
    """Iterate to get the problems of one file; ``summary`` is complete once iteration ends."""

    def __init__(
        self,
        kind: UploadKind,
        source: Source,
        options: FormatOptions,
        max_warnings_per_code: int | None = None,
    ) -> None:
        self.kind = UploadKind(kind)
        self.source = source
        self.options = options
        self.cap = max_warnings_per_code
        self.summary = CheckSummary()

    def _capped(
        self, warnings: list[RowError], shown: Counter[str], omitted: Counter[str]
    ) -> list[RowError]:
        out = []
        for warning in warnings:
            if self.cap is not None and shown[warning.code] >= self.cap:
                omitted[warning.code] += 1
            else:
                shown[warning.code] += 1
                out.append(warning)
        return out

    def __iter__(self) -> Iterator[RowError]:
        linter = Linter(self.kind, self.options, self.cap)
        shown: Counter[str] = Counter()
        omitted: Counter[str] = Counter()

        def prepare(batch: ValidatedBatch) -> None:
            linter.prepare(batch)
            batch.values = {}  # the lint keeps what it needs; free the rest while queued
            batch.attributes = {}

        chunk = _chunk_bytes(self.source)
        batches = iter_validate_csv(self.kind, self.source, self.options, prepare, chunk)
        for batch in batches:
            self.summary.rows += batch.rows
            self.summary.valid_rows += int(batch.valid.sum())
            issues = (
                batch.errors + self._capped(batch.warnings, shown, omitted) + linter.feed(batch)
            )
            issues.sort(key=lambda issue: issue.line)
            for issue in issues:
                self.summary.count(issue)
                yield issue
        for issue in linter.finish():
            self.summary.count(issue)
            yield issue
        self.summary.count_omitted(omitted + linter.omitted)
