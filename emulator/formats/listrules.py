"""Rules for multi-value cells: identifier lists, ``goals`` and ``products``.

In CSV a cell with several values is wrapped in double quotes and the values are separated
by commas (spec §2.6, §4.2); in JSON the same fields are arrays (and ``products`` an
object). Both arrive here as an Arrow list column — CSV cells are split first — so each
rule is written once for both formats.

``goals`` cells are ``id[:price],...``. A goal id may itself contain ``:``, so an item is
split at its *last* colon, and only when what follows looks like a price (digits, dots or a
sign, possibly empty): ``oplata_cash:200`` is goal ``oplata_cash`` at 200, ``a:b`` is goal
``a:b`` without a price, ``lead:`` and ``lead:-5`` are errors (an empty or negative price).
The docs say nothing about colons in goal ids; this reading is the emulator's choice.
``products`` cells are ``name:qty,...`` and are split at the last colon too, so product
names may contain colons and spaces (the docs' sample ``Laptop TGDD12:1``) but not commas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import OrderGoal, Severity
from emulator.formats.arrowbits import mask, present, take_strings
from emulator.formats.cellrules import IntRule, MoneyRule, money_json, money_text
from emulator.formats.cells import (
    Checked,
    Ctx,
    Finding,
    JsonTypeError,
    Rule,
    drop,
    json_type,
    scalar_text,
    show,
    unicode_text,
)
from emulator.formats.limits import MAX_ID_LENGTH
from emulator.formats.options import FormatOptions
from emulator.formats.videntity import ItemCheck

_PRICE_LIKE = re.compile(r"[-+0-9.]*", re.ASCII)


@dataclass
class Items:
    """A list column taken apart: its flat items, each item's row, and the list shape."""

    flat: pa.Array
    rows: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    nulls: pa.Array  # which rows hold no list at all

    @classmethod
    def of(cls, lists: pa.Array) -> Items:
        """Items of a list column (JSON values, or CSV cells already split)."""
        lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        rows = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
        return cls(pc.list_flatten(lists), rows, lengths, offsets, lists.is_null())

    @classmethod
    def from_cells(cls, cells: pa.Array) -> Items:
        """Items of CSV cells (values separated by commas) or of a JSON list column.

        Cells without a comma are the common case: they are single items as they stand,
        without splitting.
        """
        if not (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
            return cls.of(cells)
        if pc.any(pc.match_substring(cells, ",")).as_py():
            return cls.of(pc.split_pattern(cells, ","))
        sent = present(cells)
        lengths = sent.astype(np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        return cls(pc.drop_null(cells), np.flatnonzero(sent), lengths, offsets, cells.is_null())

    def rebuild(self, flat_values: pa.Array) -> pa.Array:
        """A list column with the same shape holding ``flat_values``."""
        return pa.ListArray.from_arrays(
            pa.array(self.offsets, pa.int32()), flat_values, mask=self.nulls
        )

    def item_finding(
        self, items: list[int], messages: list[str], code: str, severity: Severity = Severity.ERROR
    ) -> Finding:
        return Finding([int(self.rows[i]) for i in items], messages, code, severity)


def grouped(lists: pa.Array, flat: list[Any]) -> list[tuple[Any, ...] | None]:
    """Python tuples with the shape of ``lists`` (None for a null list) from its flat items."""
    lengths = pc.fill_null(pc.list_value_length(lists), -1).to_numpy(zero_copy_only=False).tolist()
    out: list[tuple[Any, ...] | None] = []
    position = 0
    for length in lengths:
        if length < 0:
            out.append(None)
        else:
            out.append(tuple(flat[position : position + length]))
            position += length
    return out


def _too_many(items: Items, maximum: int, what: str) -> Finding | None:
    rows = np.flatnonzero(items.lengths > maximum)
    if not len(rows):
        return None
    messages = [f"{items.lengths[r]} {what}; at most {maximum} are allowed" for r in rows]
    return Finding(rows.tolist(), messages, "too_many_values")


def _duplicates(items: Items, values: pa.Array, what: str) -> Finding | None:
    """Rows listing one value twice (lists must hold unique items)."""
    rows: list[int] = []
    messages: list[str] = []
    pairs = np.flatnonzero(items.lengths == 2)
    if len(pairs):
        first = values.take(pa.array(items.offsets[pairs]))
        second = values.take(pa.array(items.offsets[pairs] + 1))
        equal = np.flatnonzero(mask(pc.equal(first, second)))
        for row, value in zip(pairs[equal].tolist(), take_strings(first, equal), strict=True):
            rows.append(row)
            messages.append(f"{what} {show(value)} is listed twice; values must be unique")
    for row in np.flatnonzero(items.lengths > 2).tolist():
        start, end = items.offsets[row], items.offsets[row + 1]
        seen: set[Any] = set()
        for value in values.slice(start, end - start).to_pylist():
            if value is not None and value in seen:
                rows.append(row)
                messages.append(f"{what} {show(value)} is listed twice; values must be unique")
                break
            seen.add(value)
    return Finding(rows, messages, "duplicate_value") if rows else None


def _finish(items: Items, values: pa.Array, findings: list[Finding | None]) -> Checked:
    checked = Checked(items.rebuild(values), [f for f in findings if f is not None])
    checked.values = drop(checked.values, checked.bad_rows())
    return checked


@dataclass(frozen=True)
class IdentifierListRule(Rule):
    """``client_ids``, ``emails``, ``phones``, ``emails_md5``, ``phones_md5`` (spec §4.11)."""

    check_items: Callable[[pa.Array, Ctx], ItemCheck]
    maximum: int
    what: str
    error_code: str
    warning_code: str = ""

    raw_type = pa.list_(pa.string())

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        items = Items.from_cells(cells)
        verdict = self.check_items(items.flat, ctx)
        findings: list[Finding | None] = [
            items.item_finding(
                list(verdict.errors), list(verdict.errors.values()), self.error_code
            ),
            _too_many(items, self.maximum, f"{self.what}s"),
            _duplicates(items, verdict.values, self.what),
        ]
        if verdict.warnings:
            findings.append(
                items.item_finding(
                    list(verdict.warnings),
                    list(verdict.warnings.values()),
                    self.warning_code,
                    Severity.WARNING,
                )
            )
        return _finish(items, verdict.values, [f for f in findings if f and f.rows])

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        return grouped(values, pc.list_flatten(values).to_pylist())

    def to_cell(self, value: tuple[Any, ...], options: FormatOptions) -> str:
        return ",".join(map(str, value))

    def to_json(self, value: tuple[Any, ...], options: FormatOptions | None) -> Any:
        return list(value)

    def from_json(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise JsonTypeError(f"must be a list, not {json_type(value)}")
        return [scalar_text(v) for v in value]


_GOAL_TYPE = pa.struct([("goal_action_id", pa.string()), ("price", pa.string())])
_PRODUCT_TYPE = pa.struct([("name", pa.string()), ("qty", pa.string())])


def _split_last_colon(flat: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Each item's text before and after its last ``:`` (every item holds one)."""
    parts = pc.split_pattern(flat, ":", max_splits=1, reverse=True)
    pieces = pc.list_flatten(parts)
    return pc.list_element(parts, 0), pieces.take(pa.array(np.arange(1, len(pieces), 2)))


def _pairs(
    cells: pa.Array, first: str, second: str, second_like: Callable[[pa.Array], np.ndarray]
) -> tuple[Items, pa.Array, pa.Array]:
    """Items of ``name[:value]`` cells (CSV) or of a list of structs (JSON), with the names
    and values of the items; ``second_like`` says when a CSV item is split at its colon.

    Only items holding a colon are split, so plain goal ids cost one substring search.
    """
    items = Items.from_cells(cells)
    if not (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
        return items, items.flat.field(first), items.flat.field(second)
    name, value = items.flat, pa.nulls(len(items.flat), pa.string())
    colon = np.flatnonzero(mask(pc.match_substring(items.flat, ":")))
    if len(colon):
        head, tail = _split_last_colon(items.flat.take(pa.array(colon)))
        split = pa.array(second_like(tail))
        where = np.zeros(len(name), bool)
        where[colon[np.asarray(split)]] = True
        name = pc.replace_with_mask(name, pa.array(where), head.filter(split))
        value = pc.replace_with_mask(value, pa.array(where), tail.filter(split))
    return items, name, value


def _prefixed(items: Items, checked: Checked, names: pa.Array, label: str) -> list[Finding]:
    """Item findings of a sub-rule, moved to their rows and prefixed with the item's name."""
    out = []
    for finding in checked.findings:
        who = take_strings(names, np.asarray(finding.rows, np.int64))
        messages = [f"{label} {show(n)}: {m}" for n, m in zip(who, finding.messages, strict=True)]
        out.append(items.item_finding(finding.rows, messages, finding.code, finding.severity))
    return out


def _names_finding(items: Items, names: pa.Array, label: str) -> Finding | None:
    """Items without a name, or with a name longer than the id limit."""
    size = pc.binary_length(names)
    empty = np.flatnonzero(~mask(pc.greater(size, 0)))
    long = np.zeros(0, np.int64)
    if (pc.max(size).as_py() or 0) > MAX_ID_LENGTH:  # bytes bound characters from above
        long = np.flatnonzero(mask(pc.greater(pc.utf8_length(names), MAX_ID_LENGTH)))
    bad = np.concatenate([empty, long]).astype(np.int64)
    if not len(bad):
        return None
    messages = [f"a {label} without a name" for _ in empty]
    messages += [
        f"{label} {show(v)} is longer than {MAX_ID_LENGTH} characters"
        for v in take_strings(names, long)
    ]
    return items.item_finding(bad.tolist(), messages, f"invalid_{label}")


@dataclass(frozen=True)
class GoalsRule(Rule):
    """Order ``goals``: up to ``maximum`` JS goal ids, each with an optional own price."""

    maximum: int

    raw_type = pa.list_(_GOAL_TYPE)

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        items, ids, price_text = _pairs(
            cells,
            "goal_action_id",
            "price",
            lambda tail: mask(pc.match_substring_regex(tail, r"^[-+0-9.]*$")),
        )
        prices = MoneyRule().check(price_text, ctx)
        findings: list[Finding | None] = [
            _names_finding(items, ids, "goal"),
            _too_many(items, self.maximum, "goals"),
            *_prefixed(items, prices, ids, "goal"),
        ]
        flat = pa.StructArray.from_arrays([ids, prices.values], fields=list(_GOAL_TYPE))
        return _finish(items, flat, findings)

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        flat = pc.list_flatten(values)
        prices = [None if p is None else Decimal(p) for p in flat.field("price").to_pylist()]
        return grouped(
            values, list(map(OrderGoal, flat.field("goal_action_id").to_pylist(), prices))
        )

    def to_cell(self, value: tuple[OrderGoal, ...], options: FormatOptions) -> str:
        cells = []
        for goal in value:
            gid = goal.goal_action_id
            if "," in gid:
                raise ValueError(f"goal id {gid!r} holds a comma and cannot be written in CSV")
            if goal.price is None:
                if ":" in gid and _PRICE_LIKE.fullmatch(gid.rsplit(":", 1)[1]):
                    raise ValueError(f"goal id {gid!r} would be read as an id and a price in CSV")
                cells.append(gid)
            else:
                cells.append(f"{gid}:{money_text(goal.price)}")
        return ",".join(cells)

    def to_json(self, value: tuple[OrderGoal, ...], options: FormatOptions | None) -> Any:
        out = []
        for goal in value:
            item: dict[str, Any] = {"goal_action_id": goal.goal_action_id}
            if goal.price is not None:
                item["price"] = money_json(goal.price)
            out.append(item)
        return out

    def from_json(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise JsonTypeError(
                f"must be a list of {{goal_action_id, price}}, not {json_type(value)}"
            )
        out = []
        for goal in value:
            if not isinstance(goal, dict) or "goal_action_id" not in goal:
                raise JsonTypeError("each goal must be an object with goal_action_id")
            price = goal.get("price")
            out.append(
                {
                    "goal_action_id": scalar_text(goal["goal_action_id"]),
                    "price": None if price is None else scalar_text(price),
                }
            )
        return out


@dataclass(frozen=True)
class ProductsRule(Rule):
    """Order ``products``: product id → whole quantity (JSON object, CSV ``name:qty,...``)."""

    raw_type = pa.list_(_PRODUCT_TYPE)

    def check(self, cells: pa.Array, ctx: Ctx) -> Checked:
        items, names, qty_text = _pairs(cells, "name", "qty", lambda tail: np.ones(len(tail), bool))
        missing = np.flatnonzero(~present(qty_text))
        quantities = IntRule().check(qty_text, ctx)
        findings: list[Finding | None] = [
            _names_finding(items, names, "product"),
            _duplicates(items, names, "product"),
            *_prefixed(items, quantities, names, "product"),
        ]
        if len(missing):
            messages = [
                f"product {show(n)} has no quantity; write name:quantity"
                for n in take_strings(names, missing)
            ]
            findings.append(items.item_finding(missing.tolist(), messages, "invalid_product"))
        flat = pa.StructArray.from_arrays([names, quantities.values], names=["name", "qty"])
        return _finish(items, flat, findings)

    def to_python(self, values: pa.Array, ctx: Ctx) -> list[Any]:
        flat = pc.list_flatten(values)
        return grouped(
            values,
            list(zip(flat.field("name").to_pylist(), flat.field("qty").to_pylist(), strict=True)),
        )

    def to_cell(self, value: tuple[tuple[str, int], ...], options: FormatOptions) -> str:
        for name, _ in value:
            if "," in name:
                raise ValueError(f"product {name!r} holds a comma and cannot be written in CSV")
        return ",".join(f"{name}:{qty}" for name, qty in value)

    def to_json(self, value: tuple[tuple[str, int], ...], options: FormatOptions | None) -> Any:
        return dict(value)

    def from_json(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise JsonTypeError(f"must be an object {{product: quantity}}, not {json_type(value)}")
        return [
            {"name": unicode_text(str(name)), "qty": scalar_text(qty)}
            for name, qty in value.items()
        ]
