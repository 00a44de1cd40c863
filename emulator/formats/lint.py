"""Warnings that predict silent loss at the real service, for ``crmemu check`` and the engine.

A file can be valid and still lose data without any error. :class:`Linter` reads the
checked batches of one file in order and says so:

- ``order_too_old``: an order (or offline conversion) dated more than 21 days before
  ``now`` will never link to a visit (https://www.yandex.com/support/metrica/crm/about.html);
- ``no_order_id``: a simple order without ``id`` becomes a new order on every upload;
- ``repeated_id``: rows sharing an id are applied in random order (spec §2.7);
- ``low_client_id_share``: fewer than :data:`MIN_CLIENT_ID_SHARE` of the rows carry a
  ClientID, the most reliable key (spec §5.1);
- ``too_many_orders``: more than 100,000 orders for one customer (spec §4.2);

Value-level warnings (phones in local format, upper-case e-mails) come from the validator
itself. The module is pure: batches in, RowErrors out; memory stays bounded (see
:mod:`emulator.formats.hashing`).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import RowError, Severity, UploadKind
from emulator.formats.arrowbits import present, take_strings
from emulator.formats.cellrules import Family, show
from emulator.formats.fields import SPECS
from emulator.formats.hashing import KeyCounts, SeenKeys, combine, hash_numbers, hash_strings
from emulator.formats.limits import LINK_WINDOW_DAYS, MAX_ORDERS_PER_CUSTOMER
from emulator.formats.options import FormatOptions
from emulator.formats.validate import ValidatedBatch, make_ctx

MIN_CLIENT_ID_SHARE = 0.5
"""Below this share of rows with a ClientID, ``check`` warns: matching then rests on phones
and e-mails, which need Advanced Matching on the counter and link far less often."""


def _warning(line: int, column: str | None, message: str, code: str) -> RowError:
    return RowError(line, column, message, code, Severity.WARNING)


def _hash(values: pa.Array) -> np.ndarray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return hash_strings(values)
    return hash_numbers(values)


def _first_items(lists: pa.Array) -> pa.Array:
    """The first value of each list as text (null for a null or empty list)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    flat = pc.cast(pc.list_flatten(lists), pa.string())
    picked = np.where(lengths > 0, starts, 0)
    first = (
        flat.take(pa.array(picked, pa.int64())) if len(flat) else pa.nulls(len(lists), pa.string())
    )
    return pc.if_else(pa.array(lengths > 0), first, pa.scalar(None, pa.string()))


def _customer(batch: ValidatedBatch, field: str, fallbacks: tuple[str, ...]) -> pa.Array | None:
    """Whose order each row is: ``field``, else the row's first identifier (simple orders)."""
    if field not in batch.values:
        return None
    key = batch.values[field]
    for name in fallbacks:
        if key.null_count and name in batch.values:
            first = _first_items(batch.values[name])
            key = pc.coalesce(key, pc.binary_join_element_wise(f"{name}:", first, ""))
    return key


class Linter:
    """Feed it the checked batches of one file in order, then ask :meth:`finish`."""

    def __init__(self, kind: UploadKind, options: FormatOptions | None = None) -> None:
        self.spec = SPECS[UploadKind(kind)]
        options = options or FormatOptions()
        self.ctx = make_ctx(options, Family.CSV)
        self.oldest = int((self.ctx.now - timedelta(days=LINK_WINDOW_DAYS)).timestamp())
        self.ids = SeenKeys()
        self.customers = KeyCounts(MAX_ORDERS_PER_CUSTOMER)
        self.heavy: dict[
            int, tuple[str, int]
        ] = {}  # customer hash → (name, line of the first order over the cap)
        self.rows = 0
        self.with_client_id = 0

    def feed(self, batch: ValidatedBatch) -> list[RowError]:
        """Warnings about the valid rows of ``batch``."""
        keep = np.flatnonzero(batch.valid)
        if not len(keep):
            return []
        take = pa.array(keep, pa.int64())
        values = {name: column.take(take) for name, column in batch.values.items()}
        lines = batch.lines[keep]
        view = ValidatedBatch(batch.kind, lines, np.ones(len(keep), bool), values)
        view.labels = batch.labels
        out: list[tuple[int, RowError]] = []
        out += self._too_old(view)
        out += self._missing_ids(view)
        out += self._repeated(view)
        self._count_customers(view)
        self.rows += len(keep)
        if self.spec.client_id_field and self.spec.client_id_field in values:
            self.with_client_id += int(present(values[self.spec.client_id_field]).sum())
        return [issue for _, issue in sorted(out, key=lambda item: item[0])]

    def _too_old(self, batch: ValidatedBatch) -> list[tuple[int, RowError]]:
        name = self.spec.date_field
        if not name or name not in batch.values:
            return []
        stamps = batch.values[name]
        rows = np.flatnonzero(np.asarray(pc.fill_null(pc.less(stamps, self.oldest), False)))
        what = (
            "the order"
            if self.spec.kind in (UploadKind.ORDERS, UploadKind.SIMPLE_ORDERS)
            else "the conversion"
        )
        out = []
        rule = self.spec.field(name).rule
        for row, when in zip(
            rows.tolist(),
            rule.to_python(stamps.take(pa.array(rows, pa.int64())), self.ctx),
            strict=True,
        ):
            age = (self.ctx.now - when).days
            message = (
                f"{what} is dated {when:%Y-%m-%d %H:%M} ({age} days before {self.ctx.now:%Y-%m-%d}); "
                f"only data sent within {LINK_WINDOW_DAYS} days links to a visit, so it will never link"
            )
            line = int(batch.lines[row])
            out.append(
                (line, _warning(line, batch.labels[name], message, "order_too_old"))
            )
        return out

    def _missing_ids(self, batch: ValidatedBatch) -> list[tuple[int, RowError]]:
        if self.spec.kind is not UploadKind.SIMPLE_ORDERS or "id" not in batch.values:
            return []
        rows = np.flatnonzero(~present(batch.values["id"]))
        message = (
            "the row has no id: it becomes a new order each time the file is sent (duplicates)"
        )
        return [
            (int(batch.lines[r]), _warning(int(batch.lines[r]), "id", message, "no_order_id"))
            for r in rows
        ]

    def _repeated(self, batch: ValidatedBatch) -> list[tuple[int, RowError]]:
        names = [n for n in self.spec.id_fields if n in batch.values]
        if not names:
            return []
        key = _hash(batch.values[names[0]])
        sent = present(batch.values[names[0]])
        for name in names[1:]:
            key = combine(key, _hash(batch.values[name]))
            sent |= present(batch.values[name])
        rows = np.flatnonzero(sent)
        again = rows[self.ids.add(key[rows])]
        if len(self.spec.id_fields) == 1:
            label = batch.labels[names[0]]
            texts = take_strings(batch.values[names[0]], again)
            messages = [
                f"{label} {show(t)} was already used on an earlier row; rows sharing an id are "
                "applied in random order"
                for t in texts
            ]
        else:
            label = None
            columns = "/".join(batch.labels[n] for n in names)
            messages = [
                f"the same row ({columns}) was already sent earlier in the file; only one of them counts"
            ] * len(again)
        return [
            (int(batch.lines[r]), _warning(int(batch.lines[r]), label, m, "repeated_id"))
            for r, m in zip(again.tolist(), messages, strict=True)
        ]

    def _count_customers(self, batch: ValidatedBatch) -> None:
        field = self.spec.customer_field
        if not field:
            return
        customers = _customer(batch, field, self.spec.identifiers)
        if customers is None:
            return
        rows = np.flatnonzero(present(customers))
        hashes = _hash(customers)[rows]
        for row, _ in self.customers.add(hashes):
            name = take_strings(customers, rows[[row]])[0]
            self.heavy.setdefault(int(hashes[row]), (name, int(batch.lines[rows[row]])))

    def finish(self) -> list[RowError]:
        """File-level warnings, once every batch has been fed."""
        out = []
        if self.heavy:
            totals = self.customers.total(np.asarray(list(self.heavy), np.uint64))
            for (name, line), total in zip(self.heavy.values(), totals.tolist(), strict=True):
                message = (
                    f"customer {show(name)} has {total:,} orders in this file; at most "
                    f"{MAX_ORDERS_PER_CUSTOMER:,} per customer are kept (order {MAX_ORDERS_PER_CUSTOMER + 1:,} is on line {line})"
                )
                out.append(_warning(0, self.spec.customer_field, message, "too_many_orders"))
        if self.spec.client_id_field and self.rows:
            share = self.with_client_id / self.rows
            if share < MIN_CLIENT_ID_SHARE:
                message = (
                    f"only {share:.0%} of the valid rows carry a ClientID (warning below "
                    f"{MIN_CLIENT_ID_SHARE:.0%}): the rest can match only by phone or e-mail, "
                    "which needs Advanced Matching and links far less often"
                )
                out.append(_warning(0, self.spec.client_id_field, message, "low_client_id_share"))
        return out
