"""Small column operations the apply steps share (no rules here).

Grouping by key keeps first-appearance order; a scatter replaces some rows of a column by
position; list fields are merged, compared and encoded a column at a time, with a Python loop
only over the rows where both sides hold a list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
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


def combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def indices(rows: np.ndarray | Sequence[int]) -> pa.Array:
    return pa.array(np.asarray(rows, np.int64), pa.int64())


def _every(rows: np.ndarray, size: int) -> bool:
    """Whether ``rows`` is ``0, 1, ..., size - 1`` (then a take or scatter is the identity)."""
    rows = np.asarray(rows)
    return len(rows) == size and (size == 0 or (rows[0] == 0 and bool(np.all(np.diff(rows) == 1))))


def take(column: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    column = combined(column)
    if _every(rows, len(column)):
        return column
    return column.take(indices(rows))


def group_codes(keys: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Per row the code of its key (codes numbered by first appearance), and the keys."""
    encoded = pc.dictionary_encode(combined(keys))
    return np.asarray(encoded.indices, np.int64), encoded.dictionary


def scatter(column: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """``column`` with ``column[rows[i]] = values[i]``."""
    if not len(rows):
        return column
    if _every(rows, len(column)):
        return combined(values).cast(column.type)
    source = np.arange(len(column), dtype=np.int64)
    source[rows] = len(column) + np.arange(len(rows))
    return pa.concat_arrays([column, combined(values).cast(column.type)]).take(indices(source))


def present(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(combined(column).is_valid())


def numbers(column: pa.Array | pa.ChunkedArray, fill: int = 0) -> np.ndarray:
    return np.asarray(pc.fill_null(combined(column), fill).to_numpy(zero_copy_only=False))


def comparable(column: pa.Array) -> pa.Array:
    """A text form in which two values are equal when the records' values are equal.

    Lists become their JSON; money keeps its decimal value (``100.0`` equals ``100``).
    """
    column = combined(column)
    if pa.types.is_list(column.type):
        item = column.type.value_type
        if pa.types.is_struct(item) and item.get_field_index("price") >= 0:
            column = _money_items(column)
        return pa.array(json_lists(column), pa.string())
    if pa.types.is_string(column.type):
        return column
    return column.cast(pa.string())


def _money_items(lists: pa.Array) -> pa.Array:
    """List items with their ``price`` as :func:`money_key` (goals compare by amount)."""
    items = lists.values
    fields = [
        money_key(items.field(f.name)) if f.name == "price" else items.field(f.name)
        for f in items.type
    ]
    struct = pa.StructArray.from_arrays(fields, fields=list(items.type), mask=items.is_null())
    return pa.ListArray.from_arrays(lists.offsets, struct, mask=lists.is_null())


def money_key(column: pa.Array) -> pa.Array:
    """Decimal text without trailing fractional zeros (``100.50`` → ``100.5``, ``7.0`` → ``7``)."""
    column = combined(column)
    stripped = pc.replace_substring_regex(column, r"(\.[0-9]*?)0+$", r"\1")
    return pc.replace_substring_regex(stripped, r"\.$", "")


def differs(before: pa.Array, after: pa.Array, money: bool = False) -> np.ndarray:
    """Where two columns hold different values (null equals only null)."""
    a, b = comparable(before), comparable(after)
    if money:
        a, b = money_key(a), money_key(b)
    same = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return ~np.asarray(pc.or_(same, both_null))


def merge_lists(
    before: pa.Array, sent: pa.Array, unite: Callable[[list[Any], list[Any]], list[Any]]
) -> pa.Array:
    """APPEND for a list field: the sent list where nothing was stored, the stored one where
    nothing was sent, ``unite(stored, sent)`` where both exist."""
    before, sent = combined(before), combined(sent)
    result = pc.coalesce(sent, before)
    both = np.flatnonzero(present(before) & present(sent))
    if not len(both):
        return result
    if unite is union_items and not pa.types.is_struct(before.type.value_type):
        return scatter(result, both, _union_scalars(take(before, both), take(sent, both)))
    old = take(before, both).to_pylist()
    new = take(sent, both).to_pylist()
    united = pa.array([unite(o, n) for o, n in zip(old, new, strict=True)], before.type)
    return scatter(result, both, united)


def _union_scalars(before: pa.Array, sent: pa.Array) -> pa.Array:
    """:func:`union_items` of lists of plain values, row by row, as array operations: each
    row's stored items, then its sent items that are not among them."""
    stored_rows, stored_items = _flat(before)
    sent_rows, sent_items = _flat(sent)
    pairs = pa.table({"row": stored_rows, "item": stored_items})
    asked = pa.table({"row": sent_rows, "item": sent_items, "at": np.arange(len(sent_rows))})
    kept = asked.join(pairs, ["row", "item"], join_type="left anti", use_threads=False)
    kept_at = np.sort(np.asarray(kept.column("at")))
    rows = np.concatenate([stored_rows, sent_rows[kept_at]])
    items = pa.concat_arrays([stored_items, sent_items.take(indices(kept_at))])
    order = np.argsort(rows, kind="stable")
    offsets = np.zeros(len(before) + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=len(before)), out=offsets[1:])
    return pa.ListArray.from_arrays(offsets, items.take(indices(order))).cast(before.type)


def _flat(lists: pa.Array) -> tuple[np.ndarray, pa.Array]:
    lists = combined(lists)
    return np.asarray(pc.list_parent_indices(lists), np.int64), combined(pc.list_flatten(lists))


def union_items(before: list[Any], sent: list[Any]) -> list[Any]:
    """The stored items, then the sent ones not already there (spec §2.7, APPEND); goals
    compare their prices as amounts (``250.5`` is ``250.50``)."""
    seen = [_item_key(item) for item in before]
    return before + [item for item in sent if _item_key(item) not in seen]


def _item_key(item: Any) -> Any:
    if isinstance(item, dict) and item.get("price") is not None:
        return {**item, "price": Decimal(item["price"])}
    return item


def union_by_name(before: list[dict], sent: list[dict]) -> list[dict]:
    """Name-keyed pairs (products, attributes): the sent value wins, stored names first."""
    merged = {item["name"]: item for item in before}
    merged.update({item["name"]: item for item in sent})
    return list(merged.values())


def first_items(lists: pa.Array) -> pa.Array:
    """The first item of each list as text (null for a null or empty list)."""
    lists = combined(lists)
    offsets = np.asarray(lists.offsets, np.int64)
    has = np.flatnonzero((np.diff(offsets) > 0) & present(lists))
    out = pa.nulls(len(lists), pa.string())
    return scatter(out, has, lists.values.take(indices(offsets[has])).cast(pa.string()))


def texts(prefix: str, values: pa.Array) -> pa.Array:
    """``prefix`` + each value (null stays null)."""
    return pc.binary_join_element_wise(pa.scalar(prefix), combined(values).cast(pa.string()), "")


SORTED_SEARCH_FROM = 1024
"""From this many needles on, :func:`search` sorts them first."""


def search(haystack: np.ndarray, needles: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted`` for many needles: sorted needles let numpy start each binary search
    where the last one ended, several times faster on a large haystack (7x at 10M)."""
    return bounds(haystack, needles, (side,))[0]


def bounds(
    haystack: np.ndarray, needles: np.ndarray, sides: Sequence[str] = ("left", "right")
) -> list[np.ndarray]:
    """:func:`search` on each side, sorting the needles once."""
    if len(needles) < SORTED_SEARCH_FROM:
        return [np.searchsorted(haystack, needles, side) for side in sides]
    order = np.argsort(needles, kind="stable")
    ordered = needles[order]
    found = []
    for side in sides:
        places = np.empty(len(needles), np.intp)
        places[order] = np.searchsorted(haystack, ordered, side)
        found.append(places)
    return found
