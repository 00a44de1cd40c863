"""Arrow columns ↔ SQLite values, column at a time.

Scalars map one to one (uint64 identifiers are kept bit for bit as signed integers). Lists
become JSON text, built with Arrow string kernels rather than one ``json.dumps`` per row for
the common lists of strings and integers; lists of structs (goals, products, attributes) are
small and rare enough for ``json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_CONTROL = r"[\x00-\x1f\x7f]"


def _items(lists: pa.Array) -> pa.Array:
    """The items of ``lists`` from its first offset to its last (nulls hold no items)."""
    first, last = lists.offsets[0].as_py(), lists.offsets[-1].as_py()
    return lists.values.slice(first, last - first)


def _rebuilt(lists: pa.Array, values: pa.Array) -> pa.Array:
    """``lists`` with its items replaced by ``values`` (same lengths, same nulls)."""
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    return pa.ListArray.from_arrays(offsets, values, mask=lists.is_null())


def _wrap(text: pa.Array, left: str, right: str) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.scalar(left), text, pa.scalar(right), pa.scalar(""), null_handling="emit_null"
    )


def json_lists(lists: pa.Array) -> list[Any]:
    """JSON text of each list (``None`` where the list is null)."""
    item = lists.type.value_type
    flat = _items(lists)
    if pa.types.is_integer(item):
        text = flat.cast(pa.string())
    elif pa.types.is_string(item) and not pc.any(pc.match_substring_regex(flat, _CONTROL)).as_py():
        escaped = pc.replace_substring(pc.replace_substring(flat, "\\", "\\\\"), '"', '\\"')
        text = _wrap(escaped, '"', '"')
    else:
        return [None if v is None else json.dumps(_plain(v)) for v in lists.to_pylist()]
    joined = pc.binary_join(_rebuilt(lists, text), ",")
    return _wrap(joined, "[", "]").to_pylist()


def _plain(items: list[Any]) -> list[Any]:
    """Struct items as ``[field, ...]`` lists: compact and order-preserving."""
    return [list(item.values()) if isinstance(item, dict) else item for item in items]


def to_sql(column: pa.Array) -> list[Any]:
    """Python values of one Arrow column, ready for ``executemany``."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if column.null_count == len(column):
        return [None] * len(column)
    if pa.types.is_list(kind):
        return json_lists(column)
    if pa.types.is_uint64(kind):
        return pa.array(
            np.asarray(column.fill_null(0)).view(np.int64), mask=column.is_null()
        ).to_pylist()
    if pa.types.is_boolean(kind):
        return column.cast(pa.int8()).to_pylist()
    return column.to_pylist()


def from_sql(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """An Arrow column of type ``kind`` from what :func:`to_sql` stored."""
    if pa.types.is_list(kind):
        item = kind.value_type
        decoded = [None if v is None else json.loads(v) for v in values]
        if pa.types.is_struct(item):
            names = [f.name for f in item]
            decoded = [
                None if v is None else [dict(zip(names, entry, strict=True)) for entry in v]
                for v in decoded
            ]
        elif pa.types.is_uint64(item):
            decoded = [None if v is None else [int(x) % 2**64 for x in v] for v in decoded]
        return pa.array(decoded, kind)
    if pa.types.is_uint64(kind):
        signed = pa.array(values, pa.int64())
        return pa.array(np.asarray(signed.fill_null(0)).view(np.uint64), mask=signed.is_null())
    if pa.types.is_boolean(kind):
        return pa.array([None if v is None else bool(v) for v in values], kind)
    return pa.array(values, kind)
