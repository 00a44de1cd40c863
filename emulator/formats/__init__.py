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

Choices where the docs are silent or disagree (spec §0.1), each stated where it is made:

- A3: ``CANCELED`` is read as ``CANCELLED`` in status mappings (:mod:`.statuses`); order
  rows keep ``order_status`` as sent, for the engine to interpret.
- A4: unknown columns are ignored with a warning by default (:class:`UnknownColumns`).
- A6: ``attribute_values`` in JSON may be an object, a list of objects or a list of pairs;
  records hold sorted ``(name, value)`` pairs (:mod:`.jsonread`).
- A7/A8/A10: ClientIDs as strings or numbers, ``products`` as an object, and
  ``goal_action_ids`` as a list or a single string are all accepted.
- A12: a simple-orders file without ``id`` is read, with a warning.
- A21: MD5 hashes in upper case are accepted and lower-cased.
- ``goals`` items are split at their last colon when what follows looks like a price
  (:mod:`.listrules`); phones and e-mails are kept as sent, with a warning when they are
  not in the form Metrica matches (:mod:`.videntity`).
- Ids without a documented maximum length are limited to 255 characters, any cell to 4096.
"""

from emulator.dates import EndOfDay
from emulator.formats.api import (
    ParsedBatch,
    ParseResult,
    iter_parse_csv,
    iter_validate_csv,
    parse_csv,
)
from emulator.formats.jsonread import parse_json, validate_json
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
    "validate_json",
    "write_csv",
]
