"""Domain records from checked columns: the only per-row Python step of parsing.

``crmemu check`` never builds records; the engine does, through
:func:`emulator.formats.parse_csv` and :func:`emulator.formats.parse_json`.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa

from emulator.formats.cells import Ctx
from emulator.formats.fields import SPECS, KindSpec
from emulator.formats.validate import ValidatedBatch


def build_records(batch: ValidatedBatch, ctx: Ctx) -> tuple[list[Any], list[int]]:
    """The valid records of ``batch`` in file order, with the line each starts on.

    A field that was not sent keeps the record's default (``None``, or e.g.
    ``static_call=False`` for calls). Records are built column by column and then by one
    ``map`` over the record type, the cheapest way to make many dataclass instances.
    """
    spec = SPECS[batch.kind]
    rows = np.flatnonzero(batch.valid)
    if len(rows) == 0:
        return [], []
    with _no_cycle_collection():
        return _build(spec, batch, rows, ctx)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Records hold no cycles; collecting while millions of them are made only costs time
    (about a quarter of it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(
    spec: KindSpec, batch: ValidatedBatch, rows: np.ndarray, ctx: Ctx
) -> tuple[list[Any], list[int]]:
    take = None if len(rows) == len(batch.valid) else pa.array(rows, pa.int64())
    columns: list[Any] = []
    for item in dataclasses.fields(spec.record):
        default = None if item.default is dataclasses.MISSING else item.default
        if item.name in batch.values:
            values = batch.values[item.name]
            column = spec.field(item.name).rule.to_python(
                values if take is None else values.take(take), ctx
            )
            if default is not None:
                column = [default if value is None else value for value in column]
            columns.append(column)
        elif item.name == "attribute_values" and batch.attributes:
            columns.append(_attribute_pairs(batch.attributes, take))
        else:
            columns.append(itertools.repeat(default, len(rows)))
    return list(map(spec.record, *columns)), batch.lines[rows].tolist()


def _attribute_pairs(attributes: dict[str, pa.Array], take: pa.Array | None) -> list[Any]:
    """Per row, the ``(attribute, value)`` pairs that were sent (sorted by name), or None."""
    names = sorted(attributes)
    columns = [
        (a if take is None else a.take(take)).to_pylist() for a in map(attributes.get, names)
    ]
    out: list[Any] = []
    for values in zip(*columns, strict=True):
        pairs = tuple((n, v) for n, v in zip(names, values, strict=True) if v is not None)
        out.append(pairs or None)
    return out
