"""Applying orders and simple orders, a column batch at a time.

The rules, in the order they act (sources in :mod:`emulator.rules` and :mod:`emulator.goals`):
1. rows sharing an id in one upload are applied one after another in a seeded random order
   (or file order when "last wins"); each is logged ``DUPLICATE_ID_IN_UPLOAD``;
2. a new id creates an order unless its customer already has the maximum number of orders;
3. a known id is an update under the upload's merge mode; a different ``create_date_time``
   never replaces the first one (``CREATE_DATE_CONFLICT``); a linked order outside its update
   window is left untouched (``UPDATE_WINDOW_EXPIRED``);
4. orders not yet linked are linked (:mod:`.link`), and each fixation of a linked order fires
   the goals of its status (:mod:`.fire`).
Orders and simple orders share one id space; a row of the other kind is read as the stored
kind's record.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.decisions import DecisionCode
from emulator.domain import UploadKind
from emulator.engine.arrays import combined, differs, first_items, numbers, present, take, texts
from emulator.engine.fire import fire
from emulator.engine.ledger import ORDER
from emulator.engine.link import link_orders
from emulator.engine.state import KeyedRows, State, merge_records, take_rows
from emulator.engine.statuses import StatusBook
from emulator.engine.work import Work
from emulator.goals import DEFAULT_STATUS_ID
from emulator.rules import CreateDateConflict, UpdateWindowAnchor
from emulator.store.tables import ORDER_FIELDS, ORDER_ROW

AUTO_KEY_PREFIX = "#auto:"
ANON_CUSTOMER_PREFIX = "#anon:"
IDENTIFIER_NAMES = ("client_ids", "emails", "phones", "emails_md5", "phones_md5")


def order_keys(batch: pa.Table, uploading_id: str) -> pa.Array:
    """The order's id, or a fresh key for a simple order sent without one (always new)."""
    ids = combined(batch.column("id"))
    missing = pc.or_(pc.is_null(ids), pc.equal(pc.fill_null(ids, ""), ""))
    auto = texts(f"{AUTO_KEY_PREFIX}{uploading_id}:", batch.column("line"))
    return pc.if_else(missing, auto, ids)


def customer_keys(columns: dict[str, pa.Array] | pa.Table) -> pa.Array:
    """Whose order it is: ``client_uniq_id``, or for anonymous simple orders the first id."""
    column = columns.column if isinstance(columns, pa.Table) else columns.__getitem__
    uniq = combined(column("client_uniq_id"))
    result = pc.if_else(pc.equal(pc.fill_null(uniq, ""), ""), pa.scalar(None, pa.string()), uniq)
    for name in IDENTIFIER_NAMES:
        result = pc.coalesce(
            result, texts(f"{ANON_CUSTOMER_PREFIX}{name}:", first_items(column(name)))
        )
    return pc.fill_null(result, f"{ANON_CUSTOMER_PREFIX}none")


def status_ids(order_status: pa.Array) -> pa.Array:
    """A simple order without ``order_status`` is PAID (simple-orders-data)."""
    column = combined(order_status)
    return pc.if_else(pc.equal(pc.fill_null(column, ""), ""), DEFAULT_STATUS_ID, column)


def apply_orders(work: Work, kind: UploadKind, batch: pa.Table) -> None:
    """Apply one batch of order rows (no key of it appears in another batch)."""
    grouped = KeyedRows.group(order_keys(batch, work.uploading_id))
    grouped.order(work.rules, batch, kind, work.counter.tz, work.log, ORDER)
    stored = work.load(work.books.orders, grouped.keys)
    state = State.load(ORDER_ROW, grouped.keys, "order_key", stored)
    statuses = StatusBook(work.mapping, work.counter.js_goal_identifiers)
    applier = _Applier(work, kind, batch, state, statuses)
    for r in range(int(grouped.counts.max(initial=0))):
        rows, keys = grouped.round(r)
        fresh = ~state.exists[keys]
        applier.create(rows[fresh], keys[fresh])
        applier.update(rows[~fresh], keys[~fresh])
    touched = np.flatnonzero(state.exists & state.applied)
    orders = state.table(ORDER_ROW, touched)
    orders = fire(work, link_orders(work, orders, touched), statuses, touched)
    held = np.flatnonzero(state.exists & state.held & ~state.applied)
    work.orders += [orders, state.table(ORDER_ROW, held)]


class _Applier:
    """One batch's rows applied round by round onto ``state``."""

    def __init__(
        self, work: Work, kind: UploadKind, batch: pa.Table, state: State, statuses: StatusBook
    ) -> None:
        self.work = work
        self.kind = kind
        self.batch = batch
        self.state = state
        self.statuses = statuses
        self.lines = np.asarray(batch.column("line"))

    def _within_cap(self, customers: pa.Array) -> np.ndarray:
        """Which new orders stay within the per-customer cap: only the customers the upload
        watches (:mod:`.cap`) are counted, one row at a time."""
        allowed = np.ones(len(customers), bool)
        watch = self.work.watch
        if not watch:
            return allowed
        limit = self.work.rules.orders_per_customer_limit
        mine = np.flatnonzero(np.asarray(pc.is_in(customers, value_set=pa.array(list(watch)))))
        for i, customer in zip(mine.tolist(), take(customers, mine).to_pylist(), strict=True):
            if watch[customer] < limit:
                watch[customer] += 1
            else:
                allowed[i] = False
        return allowed

    def create(self, rows: np.ndarray, keys: np.ndarray) -> None:
        if not len(rows):
            return
        work, log, state = self.work, self.work.log, self.state
        sent = take_rows(self.batch, rows)
        customers = customer_keys(sent)
        allowed = self._within_cap(customers)
        limit = work.rules.orders_per_customer_limit
        refused = ~allowed
        if refused.any():
            refused_keys = state.get("order_key", keys[refused]).to_pylist()
            work.mentions += [(ORDER, key) for key in refused_keys]
            log.decide(
                ORDER,
                state.get("order_key", keys[refused]),
                keys[refused],
                DecisionCode.CUSTOMER_ORDER_LIMIT,
                line=self.lines[rows[refused]],
                s1=customers.filter(pa.array(refused)),
                n1=limit,
            )
        rows, keys, sent = rows[allowed], keys[allowed], sent.filter(pa.array(allowed))
        if not len(rows):
            return
        for f in ORDER_FIELDS:
            state.set(f.name, keys, sent.column(f.name))
        status = status_ids(sent.column("order_status"))
        types = self.statuses.types(status)
        state.set("kind", keys, self.kind.value)
        customers = customers.filter(pa.array(allowed))
        state.set("customer_key", keys, customers)
        work.count(work.books.orders, customers)
        state.set("status_id", keys, status)
        state.set("status_type", keys, types)
        state.set("created_goal_fired", keys, False)
        none = pa.ListArray.from_arrays(
            np.zeros(len(keys) + 1, np.int32), pa.array([], pa.string())
        )
        state.set("fired_cell_goals", keys, none)
        state.set("entries", keys, "")
        state.exists[keys] = True
        state.applied[keys] = True
        if self.kind is UploadKind.ORDERS:
            self._fill_dates(keys)
        log.decide(
            ORDER,
            state.get("order_key", keys),
            keys,
            DecisionCode.CREATED,
            line=self.lines[rows],
            n1=sent.column("create_date_time"),
            s1=status,
            s2=types,
        )

    def update(self, rows: np.ndarray, keys: np.ndarray) -> None:
        if not len(rows):
            return
        stored_kinds = np.asarray(self.state.get("kind", keys).to_pylist())
        for stored in (UploadKind.ORDERS, UploadKind.SIMPLE_ORDERS):
            mine = stored_kinds == stored.value
            if mine.any():
                self._update(stored, rows[mine], keys[mine])

    def _sent_as(
        self, stored: UploadKind, rows: np.ndarray, keys: np.ndarray
    ) -> dict[str, pa.Array]:
        """The rows as records of the stored kind (a simple order updating an order, or the
        reverse, keeps only the fields the stored kind has)."""
        sent = take_rows(self.batch, rows)
        columns = {f.name: combined(sent.column(f.name)) for f in ORDER_FIELDS}
        if stored is self.kind:
            return columns
        n = len(rows)
        if stored is UploadKind.ORDERS:
            kept = {"create_date_time", "revenue", "cost", "currency", "goals"}
            out = {
                name: col if name in kept else pa.nulls(n, col.type)
                for name, col in columns.items()
            }
            out["id"] = self.state.get("order_key", keys)
            out["client_uniq_id"] = pc.coalesce(
                columns["client_uniq_id"], self.state.get("customer_key", keys)
            )
            out["order_status"] = status_ids(columns["order_status"])
            out["client_type"] = pa.array(["CONTACT"] * n)
            return out
        kept = {
            "create_date_time",
            "id",
            "client_uniq_id",
            "order_status",
            "revenue",
            "cost",
            "goals",
            "currency",
        }
        return {
            name: col if name in kept else pa.nulls(n, col.type) for name, col in columns.items()
        }

    def _move_customers(self, keys: np.ndarray, customers: pa.Array) -> None:
        """An update may name another customer: the order moves in the tally."""
        before = self.state.get("customer_key", keys)
        moved = np.flatnonzero(differs(before, customers))
        if len(moved):
            work = self.work
            work.count(work.books.orders, take(before, moved), -1)
            work.count(work.books.orders, take(customers, moved))
        self.state.set("customer_key", keys, customers)

    def _update(self, stored: UploadKind, rows: np.ndarray, keys: np.ndarray) -> None:
        work, log, state = self.work, self.work.log, self.state
        sent = self._sent_as(stored, rows, keys)
        lines = self.lines[rows]
        order_key = state.get("order_key", keys)
        first = numbers(state.get("create_date_time", keys))
        new = numbers(sent["create_date_time"])
        conflict = first != new
        overwrite = work.rules.create_date_conflict is CreateDateConflict.OVERWRITE
        if conflict.any():
            log.decide(
                ORDER,
                take(order_key, np.flatnonzero(conflict)),
                keys[conflict],
                DecisionCode.CREATE_DATE_CONFLICT,
                line=lines[conflict],
                n1=first[conflict],
                n2=new[conflict],
                s1="overwrite" if overwrite else None,
            )
            if overwrite:
                moved = keys[conflict]
                state.set("create_date_time", moved, pa.array(new[conflict]))
                for name in ("linked_visit_id", "linked_by", "linked_at", "fixed_status_id"):
                    state.set(name, moved, pa.nulls(len(moved), state.columns[name].type))
        expired = self._window_expired(keys)
        if expired.any():
            state.held[keys[expired]] = True
            log.decide(
                ORDER,
                take(order_key, np.flatnonzero(expired)),
                keys[expired],
                DecisionCode.UPDATE_WINDOW_EXPIRED,
                line=lines[expired],
                n1=work.rules.update_window_days,
                s1=work.rules.update_window_anchor.value,
            )
            keep = ~expired
            rows, keys, lines = rows[keep], keys[keep], lines[keep]
            sent = {name: take(col, np.flatnonzero(keep)) for name, col in sent.items()}
            order_key = take(order_key, np.flatnonzero(keep))
        if not len(rows):
            return
        for name, fill in (
            ("update_date_time", work.rules.fill_update_date_time),
            ("finish_date_time", work.rules.fill_finish_date_time),
        ):
            if fill and stored is UploadKind.ORDERS:
                # A value the service set itself is kept when a row does not send one.
                sent[name] = pc.coalesce(sent[name], state.get(name, keys))
        merged, changed = merge_records(
            stored, lambda name: state.get(name, keys), sent.__getitem__, work.mode
        )
        self._log_changes(order_key, keys, lines, changed, stored)
        for name, column in merged.items():
            state.set(name, keys, column)
        merged_columns = {f.name: state.get(f.name, keys) for f in ORDER_FIELDS}
        self._move_customers(keys, customer_keys(merged_columns))
        before = state.get("status_id", keys)
        after = status_ids(merged_columns["order_status"])
        moved = np.flatnonzero(np.asarray(pc.not_equal(before, after)))
        if len(moved):
            types = self.statuses.types(take(after, moved))
            log.decide(
                ORDER,
                take(order_key, moved),
                keys[moved],
                DecisionCode.STATUS_CHANGED,
                line=lines[moved],
                s1=take(before, moved),
                s2=take(after, moved),
                s3=types,
            )
            state.set("status_id", keys[moved], take(after, moved))
            state.set("status_type", keys[moved], types)
        state.applied[keys] = True
        if stored is UploadKind.ORDERS:
            self._fill_dates(keys)

    def _fill_dates(self, keys: np.ndarray) -> None:
        """``update_date_time`` when the order has none, and ``finish_date_time`` at its first
        processing in a PAID-type status: set automatically (orders-data), to the processing
        time."""
        rules, state, now = self.work.rules, self.state, self.work.now
        if rules.fill_update_date_time:
            empty = ~present(state.get("update_date_time", keys))
            state.set("update_date_time", keys[empty], pa.array(np.full(empty.sum(), now)))
        if rules.fill_finish_date_time:
            paid = np.asarray(pc.equal(pc.fill_null(state.get("status_type", keys), ""), "PAID"))
            empty = paid & ~present(state.get("finish_date_time", keys))
            state.set("finish_date_time", keys[empty], pa.array(np.full(empty.sum(), now)))

    def _log_changes(
        self,
        order_key: pa.Array,
        keys: np.ndarray,
        lines: np.ndarray,
        changed: np.ndarray,
        stored: UploadKind,
    ) -> None:
        same = changed == 0
        for code, mask in ((DecisionCode.UNCHANGED, same), (DecisionCode.UPDATED, ~same)):
            if not mask.any():
                continue
            self.work.log.decide(
                ORDER,
                take(order_key, np.flatnonzero(mask)),
                keys[mask],
                code,
                line=lines[mask],
                n1=changed[mask] if code is DecisionCode.UPDATED else None,
                s1=stored.value if code is DecisionCode.UPDATED else None,
                s2=self.work.mode.value if code is DecisionCode.UPDATED else None,
            )

    def _window_expired(self, keys: np.ndarray) -> np.ndarray:
        """Linked orders whose update window has closed (ambiguity A1: anchor and length)."""
        rules, state = self.work.rules, self.state
        visit = state.get("linked_visit_id", keys)
        linked = present(visit)
        if not linked.any():
            return linked
        if rules.update_window_anchor is UpdateWindowAnchor.VISIT_START:
            anchor = np.zeros(len(keys), np.int64)
            anchor[linked] = self.work.visits.start_of(numbers(visit)[linked])
        else:
            anchor = numbers(state.get("create_date_time", keys))
        return linked & (self.work.now > anchor + rules.update_window_seconds)
