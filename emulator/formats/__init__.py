"""Codecs of every upload kind: CSV and JSON in and out, row-level errors, ``check`` warnings.

The public surface (see ``__all__``):

- reading: :func:`parse_csv`, :func:`iter_parse_csv` (streaming), :func:`iter_validate_csv`
  (checked columns without records, for ``check``), :func:`parse_json`,
  :func:`parse_status_mapping`;
- writing: :func:`write_csv`, :func:`to_json`, :func:`status_mapping_to_json`;
- options: :class:`FormatOptions`, :class:`UnknownColumns`, :func:`delimiter_from_type`,
  :func:`parse_columns_mapping`;
- warnings that predict silent loss: :class:`Linter`.

``None`` in a record always means "not sent" (an empty CSV cell, a missing or null JSON
key); see :mod:`emulator.formats.api` for the full reading semantics and
:mod:`emulator.formats.limits` for every field limit and the assumptions behind them.
"""

from emulator.dates import EndOfDay
from emulator.formats.api import (
    ParsedBatch,
    ParseResult,
    iter_parse_csv,
    iter_validate_csv,
    parse_csv,
)
from emulator.formats.jsonread import parse_json
from emulator.formats.lint import MIN_CLIENT_ID_SHARE, Linter
from emulator.formats.options import (
    FormatOptions,
    UnknownColumns,
    delimiter_from_type,
    parse_columns_mapping,
)
from emulator.formats.statuses import parse_status_mapping, status_mapping_to_json
from emulator.formats.validate import ValidatedBatch
from emulator.formats.writers import to_json, write_csv

__all__ = [
    "MIN_CLIENT_ID_SHARE",
    "EndOfDay",
    "FormatOptions",
    "Linter",
    "ParseResult",
    "ParsedBatch",
    "UnknownColumns",
    "ValidatedBatch",
    "delimiter_from_type",
    "iter_parse_csv",
    "iter_validate_csv",
    "parse_columns_mapping",
    "parse_csv",
    "parse_json",
    "parse_status_mapping",
    "status_mapping_to_json",
    "to_json",
    "write_csv",
]
