"""Domain records from checked columns: the only per-row Python step of parsing.

``crmemu check`` never builds records; the engine does, through
:func:`emulator.formats.parse_csv` and :func:`emulator.formats.parse_json`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from emulator.formats.cellrules import Ctx
from emulator.formats.fields import SPECS
from emulator.formats.validate import ValidatedBatch


def build_records(batch: ValidatedBatch, ctx: Ctx) -> tuple[list[Any], list[int]]:
    """The valid records of ``batch`` in file order, with the line each starts on.

    A field that was not sent is left out of the constructor call, so the record keeps
    its default (``None``, or e.g. ``static_call=False`` for calls).
    """
    spec = SPECS[batch.kind]
    rows = np.flatnonzero(batch.valid)
    if len(rows) == 0:
        return [], []
    take = pa.array(rows, pa.int64())
    names = list(batch.values)
    columns = [
        spec.field(name).rule.to_python(batch.values[name].take(take), ctx) for name in names
    ]
    if batch.attributes:
        names.append("attribute_values")
        columns.append(_attribute_pairs(batch.attributes, take))
    build = spec.record
    records = [
        build(
            **{name: value for name, value in zip(names, values, strict=True) if value is not None}
        )
        for values in zip(*columns, strict=True)
    ]
    return records, batch.lines[rows].tolist()


def _attribute_pairs(attributes: dict[str, pa.Array], take: pa.Array) -> list[Any]:
    """Per row, the ``(attribute, value)`` pairs that were sent (sorted by name), or None."""
    names = sorted(attributes)
    columns = [attributes[name].take(take).to_pylist() for name in names]
    out: list[Any] = []
    for values in zip(*columns, strict=True):
        pairs = tuple((n, v) for n, v in zip(names, values, strict=True) if v is not None)
        out.append(pairs or None)
    return out
