"""Small helpers over Arrow arrays shared by the vectorised rules (no rules here).

Validation works on whole columns: a rule looks at an Arrow string array and answers with
numpy masks. These helpers give raw access to a string array's bytes and offsets so that
fixed-width parsing and hashing run in numpy without a Python loop per row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def string_buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, data)`` of a string array: value ``i`` is ``data[offsets[i]:offsets[i+1]]``.

    ``offsets`` has ``len(values) + 1`` int64 entries and already accounts for slicing; null
    values have empty ranges. ``data`` is the whole byte buffer (not copied).
    """
    if pa.types.is_string(values.type):
        dtype = np.int32
    elif pa.types.is_large_string(values.type):
        dtype = np.int64
    else:
        raise TypeError(f"expected a string array, got {values.type}")
    buffers = values.buffers()
    start = values.offset
    offsets = np.frombuffer(buffers[1], dtype=dtype)[start : start + len(values) + 1]
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    return offsets.astype(np.int64), data


def mask(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array (nulls read as False) as a numpy bool array."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def present(values: pa.Array) -> np.ndarray:
    """True where a value was sent (not null)."""
    return mask(values.is_valid())


def take_strings(values: pa.Array, rows: np.ndarray) -> list:
    """The Python values at ``rows`` (few rows: messages and scalar fallbacks)."""
    if len(rows) == 0:
        return []
    return values.take(pa.array(rows, pa.int64())).to_pylist()


def with_nulls(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    """A numpy column as an Arrow array with nulls where ``valid`` is False."""
    return pa.array(values, type=type_, mask=~valid)
