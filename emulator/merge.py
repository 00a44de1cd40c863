"""Merge modes SAVE / UPDATE / APPEND, exactly as the table of
https://yandex.ru/dev/metrika/en/data-import/modes (project spec §2.7):

| mode   | before | in upload        | after   |
|--------|--------|------------------|---------|
| SAVE   | 1      | attribute absent | null    |
| SAVE   | 1,2    | 1,3              | 1,3     |
| UPDATE | 1      | attribute absent | 1       |
| UPDATE | 1,2    | 1,3              | 1,3     |
| APPEND | 1      | attribute absent | 1       |
| APPEND | 1,2    | 1,3              | 1,2,3   |

"Absent" is ``None`` in a record (an empty CSV cell or a missing JSON key). Key fields and the
creation date are never touched here: the caller owns identity and create-date immutability.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from emulator.domain import MergeMode

R = TypeVar("R")

KEY_FIELDS = frozenset({"id", "uniq_id", "create_date_time"})
MAPPING_FIELDS = frozenset({"products", "attribute_values"})
"""Tuples of ``(name, value)`` pairs: APPEND unites them by name, the upload's value winning."""


def merge(old: R, new: R, mode: MergeMode) -> R:
    """The record stored after ``new`` is applied to ``old`` under ``mode``."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(old):  # type: ignore[arg-type]
        name = f.name
        if name in KEY_FIELDS:
            continue
        before, sent = getattr(old, name), getattr(new, name)
        changes[name] = _merge_value(name, before, sent, mode)
    return dataclasses.replace(old, **changes)  # type: ignore[type-var]


def _merge_value(name: str, before: Any, sent: Any, mode: MergeMode) -> Any:
    if mode is MergeMode.SAVE:
        return sent
    if sent is None:
        return before
    if mode is MergeMode.UPDATE or not isinstance(sent, tuple) or before is None:
        return sent
    if name in MAPPING_FIELDS:
        merged = dict(before)
        merged.update(dict(sent))
        return tuple(merged.items())
    return before + tuple(item for item in sent if item not in before)
