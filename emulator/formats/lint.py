"""Warnings that predict silent loss at the real service, for ``crmemu check`` and the engine.

A file can be valid and still lose data without any error. :class:`Linter` reads the
checked batches of one file in order and says so:

- ``order_too_old``: an order (or offline conversion) dated more than 21 days before
  ``now`` will never link to a visit (https://www.yandex.com/support/metrica/crm/about.html);
- ``order_in_future``: an order dated after ``now`` (the upload moment, ``--now``), which no
  CRM can have created yet: a wrong time zone or clock in the export is the usual cause (an
  offline conversion from the future is an error of the file itself);
- ``no_order_id``: a simple order without ``id`` becomes a new order on every upload;
- ``repeated_id``: rows sharing an id are applied in random order (spec §2.7);
- ``low_client_id_share``: fewer than :data:`MIN_CLIENT_ID_SHARE` of the rows carry a
  ClientID, the most reliable key (spec §5.1);
- ``too_many_orders``: more than 100,000 orders for one customer (spec §4.2).

Value-level warnings (phones in local format, upper-case e-mails) come from the validator
itself. The module is pure: batches in, RowErrors out. Memory stays bounded (see
:mod:`emulator.formats.hashing`), and with ``max_per_code`` a file where every row is old
costs a comparison per row, not a message per row: the rest are only counted in
:attr:`Linter.omitted`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import RowError, Severity, UploadKind
from emulator.formats.arrowbits import present, take_strings
from emulator.formats.cells import Family, show
from emulator.formats.fields import SPECS
from emulator.formats.hashing import (
    KeyCounts,
    Keys,
    SeenKeys,
    combine,
    hash_numbers,
    hash_strings,
)
from emulator.formats.limits import LINK_WINDOW_DAYS, MAX_ORDERS_PER_CUSTOMER
from emulator.formats.options import FormatOptions
from emulator.formats.validate import ValidatedBatch, make_ctx

MIN_CLIENT_ID_SHARE = 0.5
"""Below this share of rows with a ClientID, ``check`` warns: matching then rests on phones
and e-mails, which need Advanced Matching on the counter and link far less often."""


def _hash(values: pa.Array) -> np.ndarray:
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return hash_strings(values)
    return hash_numbers(values)


def _first_items(lists: pa.Array) -> pa.Array:
    """The first value of each list as text (null for a null or empty list)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    flat = pc.cast(pc.list_flatten(lists), pa.string())
    if not len(flat):
        return pa.nulls(len(lists), pa.string())
    first = flat.take(pa.array(np.where(lengths > 0, starts, 0), pa.int64()))
    return pc.if_else(pa.array(lengths > 0), first, pa.scalar(None, pa.string()))


def _too_old(what: str, when: datetime, now: datetime) -> str:
    return (
        f"the {what} is dated {when:%Y-%m-%d %H:%M}, {(now - when).days} days before "
        f"{now:%Y-%m-%d}; only data sent within {LINK_WINDOW_DAYS} days of it links to "
        "a visit, so it will never link"
    )


def _in_future(what: str, when: datetime, now: datetime) -> str:
    return (
        f"the {what} is dated {when:%Y-%m-%d %H:%M %z}, after the upload moment "
        f"{now:%Y-%m-%d %H:%M %z} (--now): no CRM can have created it yet; check the "
        "time zone of the exported dates and the exporter's clock"
    )


class _Notes:
    """What :meth:`Linter.prepare` found in one batch, for :meth:`Linter.feed`."""

    def __init__(self, view: ValidatedBatch) -> None:
        self.view = view
        empty = np.zeros(0, np.int64)
        self.old = empty
        self.future = empty
        self.no_id = empty
        self.keyed = empty
        self.keys: Keys | None = None
        self.customers: pa.Array | None = None
        self.customer_rows = empty
        self.customer_keys: Keys | None = None
        self.with_client_id = 0
        self.rows = 0


class Linter:
    """Feed it the checked batches of one file in order, then ask :meth:`finish`.

    ``max_per_code`` caps the warnings returned per code over the whole file (None: all);
    the others are counted in ``omitted``.
    """

    def __init__(
        self,
        kind: UploadKind,
        options: FormatOptions | None = None,
        max_per_code: int | None = None,
    ) -> None:
        self.spec = SPECS[UploadKind(kind)]
        self.ctx = make_ctx(options or FormatOptions(), Family.CSV)
        self.oldest = int((self.ctx.now - timedelta(days=LINK_WINDOW_DAYS)).timestamp())
        self.latest = int(self.ctx.now.timestamp())
        self.max_per_code = max_per_code
        self.shown: Counter[str] = Counter()
        self.omitted: Counter[str] = Counter()
        self.ids = SeenKeys()
        self.customers = KeyCounts(MAX_ORDERS_PER_CUSTOMER)
        self.heavy: dict[int, tuple[str, int]] = {}  # customer hash → (name, line over the cap)
        self.rows = 0
        self.with_client_id = 0

    def _quota(self, code: str, rows: np.ndarray) -> np.ndarray:
        """The rows whose warnings are written out; the others are only counted."""
        room = len(rows) if self.max_per_code is None else self.max_per_code - self.shown[code]
        shown = rows[: max(room, 0)]
        self.shown[code] += len(shown)
        self.omitted[code] += len(rows) - len(shown)
        return shown

    def _warn(
        self,
        batch: ValidatedBatch,
        code: str,
        rows: np.ndarray,
        column: str | None,
        message: Callable[[list[int]], list[str]],
    ) -> list[RowError]:
        shown = self._quota(code, rows)
        lines = batch.lines[shown].tolist()
        messages = message(shown.tolist()) if len(shown) else []
        return [
            RowError(line, column, text, code, Severity.WARNING)
            for line, text in zip(lines, messages, strict=True)
        ]

    def prepare(self, batch: ValidatedBatch) -> None:
        """The per-batch half of the work (masks and hashes), safe to run in any thread.

        Its result waits in ``batch.notes``; :meth:`feed` does it itself when needed.
        """
        needed = {*self.spec.id_fields, *self.spec.identifiers, "id"}
        needed |= {self.spec.date_field, self.spec.customer_field, self.spec.client_id_field}
        values = {name: column for name, column in batch.values.items() if name in needed}
        view = ValidatedBatch(batch.kind, batch.lines, batch.valid, values)
        view.labels = batch.labels
        valid = batch.valid  # invalid rows are never applied, so never warned about
        notes = _Notes(view)
        date = self.spec.date_field
        if date and date in values:
            old = np.asarray(pc.fill_null(pc.less(values[date], self.oldest), False))
            notes.old = np.flatnonzero(old & valid)
            future = np.asarray(pc.fill_null(pc.greater(values[date], self.latest), False))
            notes.future = np.flatnonzero(future & valid)
        if self.spec.kind is UploadKind.SIMPLE_ORDERS and "id" in values:
            notes.no_id = np.flatnonzero(~present(values["id"]) & valid)
        names = [n for n in self.spec.id_fields if n in values]
        if names:
            key = _hash(values[names[0]])
            sent = present(values[names[0]])
            for name in names[1:]:
                key = combine(key, _hash(values[name]))
                sent |= present(values[name])
            notes.keyed = np.flatnonzero(sent & valid)
            notes.keys = Keys(key[notes.keyed])
        customers = self._customers(view)
        if customers is not None:
            notes.customers = customers
            notes.customer_rows = np.flatnonzero(present(customers) & valid)
            notes.customer_keys = Keys(_hash(customers)[notes.customer_rows])
        client_ids = self.spec.client_id_field
        if client_ids and client_ids in values:
            notes.with_client_id = int((present(values[client_ids]) & valid).sum())
        notes.rows = int(valid.sum())
        # Keep only what messages quote: ids and dates (the identifier lists may be large).
        quoted = {*self.spec.id_fields, self.spec.date_field, "id"}
        view.values = {name: column for name, column in values.items() if name in quoted}
        batch.notes["lint"] = notes

    def feed(self, batch: ValidatedBatch) -> list[RowError]:
        """Warnings about the valid rows of ``batch``, in line order (call in file order)."""
        if "lint" not in batch.notes:
            self.prepare(batch)
        notes: _Notes = batch.notes.pop("lint")
        view = notes.view
        out = self._dated(view, notes.old, "order_too_old", _too_old)
        out += self._dated(view, notes.future, "order_in_future", _in_future)
        out += self._missing_ids(view, notes.no_id)
        if notes.keys is not None:
            out += self._repeated(view, notes.keyed[self.ids.add(notes.keys)])
        if notes.customer_keys is not None:
            self._count_customers(view, notes)
        self.rows += notes.rows
        self.with_client_id += notes.with_client_id
        return sorted(out, key=lambda issue: issue.line)

    def _dated(
        self,
        batch: ValidatedBatch,
        rows: np.ndarray,
        code: str,
        describe: Callable[[str, datetime, datetime], str],
    ) -> list[RowError]:
        """A warning per row in ``rows`` about its date, worded by ``describe``."""
        if not len(rows):
            return []
        name = self.spec.date_field
        assert name is not None
        stamps = batch.values[name]
        what = (
            "conversion"
            if self.spec.kind in (UploadKind.OFFLINE_CONVERSIONS, UploadKind.CALLS)
            else "order"
        )
        rule = self.spec.field(name).rule
        now = self.ctx.now

        def message(shown: list[int]) -> list[str]:
            moments = rule.to_python(stamps.take(pa.array(shown, pa.int64())), self.ctx)
            return [describe(what, when.astimezone(now.tzinfo), now) for when in moments]

        return self._warn(batch, code, rows, batch.labels[name], message)

    def _missing_ids(self, batch: ValidatedBatch, rows: np.ndarray) -> list[RowError]:
        if not len(rows):
            return []
        text = "the row has no id: it becomes a new order each time the file is sent (duplicates)"
        return self._warn(
            batch, "no_order_id", rows, batch.labels["id"], lambda shown: [text] * len(shown)
        )

    def _repeated(self, batch: ValidatedBatch, again: np.ndarray) -> list[RowError]:
        if not len(again):
            return []
        names = [n for n in self.spec.id_fields if n in batch.values]
        if len(self.spec.id_fields) == 1:
            column = batch.labels[names[0]]

            def message(shown: list[int]) -> list[str]:
                texts = take_strings(batch.values[names[0]], np.asarray(shown, np.int64))
                return [
                    f"{column} {show(t)} was already used on an earlier row; rows sharing an id "
                    "are applied in random order"
                    for t in texts
                ]

            return self._warn(batch, "repeated_id", again, column, message)
        columns = "/".join(batch.labels[n] for n in names)
        text = f"the same row ({columns}) was already sent earlier in the file; only one counts"
        return self._warn(batch, "repeated_id", again, None, lambda shown: [text] * len(shown))

    def _customers(self, batch: ValidatedBatch) -> pa.Array | None:
        """Whose order each row is: the customer field, else (simple orders) the first id."""
        field = self.spec.customer_field
        if not field or field not in batch.values:
            return None
        customers = batch.values[field]
        for name in self.spec.identifiers:
            if customers.null_count and name in batch.values:
                first = _first_items(batch.values[name])
                customers = pc.coalesce(
                    customers, pc.binary_join_element_wise(f"{name}:", first, "")
                )
        return customers

    def _count_customers(self, batch: ValidatedBatch, notes: _Notes) -> None:
        rows, keys = notes.customer_rows, notes.customer_keys
        assert keys is not None
        hashes = keys.hashes
        for row in self.customers.add(keys):
            name = take_strings(notes.customers, rows[[row]])[0]
            self.heavy.setdefault(int(hashes[row]), (name, int(batch.lines[rows[row]])))

    def finish(self) -> list[RowError]:
        """File-level warnings (line 0), once every batch has been fed."""
        out = []
        if self.heavy:
            totals = self.customers.total(np.asarray(list(self.heavy), np.uint64))
            for (name, line), total in zip(self.heavy.values(), totals.tolist(), strict=True):
                message = (
                    f"customer {show(name)} has {total:,} orders in this file; at most "
                    f"{MAX_ORDERS_PER_CUSTOMER:,} per customer are kept (order "
                    f"{MAX_ORDERS_PER_CUSTOMER + 1:,} is on line {line})"
                )
                out.append(
                    RowError(
                        0, self.spec.customer_field, message, "too_many_orders", Severity.WARNING
                    )
                )
        if self.spec.client_id_field and self.rows:
            share = self.with_client_id / self.rows
            if share < MIN_CLIENT_ID_SHARE:
                message = (
                    f"only {share:.0%} of the valid rows carry a ClientID (warning below "
                    f"{MIN_CLIENT_ID_SHARE:.0%}): the rest can match only by phone or e-mail, "
                    "which needs Advanced Matching and links far less often"
                )
                out.append(
                    RowError(
                        0,
                        self.spec.client_id_field,
                        message,
                        "low_client_id_share",
                        Severity.WARNING,
                    )
                )
        return out
