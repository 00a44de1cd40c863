"""Applying contacts, and the customers that simple orders describe.

Contacts follow the merge modes like orders; a contact's ``create_date_time`` never changes
once set (``CREATE_DATE_CONFLICT``), but a contact created without one takes the first one
sent. When contacts arrive, orders of those customers that could not be linked are tried
again (rule ``relink_on_contact_upload``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.decisions import DecisionCode
from emulator.domain import MergeMode, UploadKind
from emulator.engine.arrays import combined, differs, numbers, present, take
from emulator.engine.columns import FIELD_NAMES
from emulator.engine.fire import fire
from emulator.engine.ledger import CONTACT
from emulator.engine.link import link_orders
from emulator.engine.orders import IDENTIFIER_NAMES, customer_keys
from emulator.engine.state import KeyedRows, State, merge_field, merge_records, take_rows
from emulator.engine.statuses import StatusBook
from emulator.engine.work import Work
from emulator.formats.hashing import hash_strings
from emulator.store.tables import CONTACT_FIELDS, CONTACT_ROW

CREATE_BIT = 1 << FIELD_NAMES[UploadKind.CONTACTS].index("create_date_time")


def apply_contacts(work: Work, batch: pa.Table) -> list[str]:
    """Apply one batch of contact rows; returns the uniq_ids written."""
    grouped = KeyedRows.group(combined(batch.column("uniq_id")))
    grouped.order(work.rules, batch, UploadKind.CONTACTS, work.counter.tz, work.log, CONTACT)
    stored = work.load(work.books.contacts, grouped.keys)
    state = State.load(CONTACT_ROW, grouped.keys, "uniq_id", stored)
    lines = np.asarray(batch.column("line"))
    for r in range(int(grouped.counts.max(initial=0))):
        rows, keys = grouped.round(r)
        fresh = ~state.exists[keys]
        _create(work, state, batch, lines, rows[fresh], keys[fresh])
        _update(work, state, batch, lines, rows[~fresh], keys[~fresh])
    everything = np.arange(len(grouped))
    work.contacts.append(state.table(CONTACT_ROW, everything))
    return grouped.keys.to_pylist()


def _create(
    work: Work, state: State, batch: pa.Table, lines: np.ndarray, rows: np.ndarray, keys: np.ndarray
) -> None:
    if not len(rows):
        return
    sent = take_rows(batch, rows)
    for f in CONTACT_FIELDS:
        state.set(f.name, keys, sent.column(f.name))
    state.set("entries", keys, "")
    state.exists[keys] = True
    work.log.decide(CONTACT, sent.column("uniq_id"), keys, DecisionCode.CREATED, line=lines[rows])


def _update(
    work: Work, state: State, batch: pa.Table, lines: np.ndarray, rows: np.ndarray, keys: np.ndarray
) -> None:
    if not len(rows):
        return
    sent = take_rows(batch, rows)
    uniq = combined(sent.column("uniq_id"))
    first = state.get("create_date_time", keys)
    new = combined(sent.column("create_date_time"))
    conflict = present(first) & present(new) & (numbers(first) != numbers(new))
    if conflict.any():
        at = np.flatnonzero(conflict)
        work.log.decide(
            CONTACT,
            take(uniq, at),
            keys[at],
            DecisionCode.CREATE_DATE_CONFLICT,
            line=lines[rows][at],
            n1=take(first, at),
            n2=take(new, at),
        )
    merged, changed = merge_records(
        UploadKind.CONTACTS,
        lambda name: state.get(name, keys),
        lambda name: combined(sent.column(name)),
        work.mode,
    )
    filled = ~present(first) & present(new)
    changed = changed | np.where(filled, CREATE_BIT, 0)
    for name, column in merged.items():
        state.set(name, keys, column)
    state.set("create_date_time", keys, pc.coalesce(first, new))
    same = changed == 0
    for code, mask in ((DecisionCode.UNCHANGED, same), (DecisionCode.UPDATED, ~same)):
        if mask.any():
            at = np.flatnonzero(mask)
            updated = code is DecisionCode.UPDATED
            work.log.decide(
                CONTACT,
                take(uniq, at),
                keys[at],
                code,
                line=lines[rows][at],
                n1=changed[at] if updated else None,
                s1=UploadKind.CONTACTS.value if updated else None,
                s2=work.mode.value if updated else None,
            )


def relink(work: Work, customers: list[str]) -> None:
    """Link the unlinked orders of ``customers`` now that their contacts arrived."""
    if not work.rules.relink_on_contact_upload or not customers:
        return
    names = pa.array(customers, pa.string())
    orders = work.books.orders.tally(work.session, work.counter_id)
    if not orders.get(hash_strings(names)).any():  # none of them has an order: nothing to read
        return
    found = [
        part.filter(
            pc.and_(
                pc.is_in(part.column("customer_key"), value_set=names),
                pc.is_null(part.column("linked_visit_id")),
            )
        )
        for part in work.stream(work.books.orders)
    ]
    pending = pa.concat_tables([work.books.orders.schema.empty_table(), *found])
    if not len(pending):
        return
    pending = pending.sort_by("order_key").combine_chunks()
    positions = np.arange(len(pending))
    statuses = StatusBook(work.mapping, work.counter.js_goal_identifiers)
    work.orders.append(fire(work, link_orders(work, pending, positions), statuses, positions))


def customers_from_simple_orders(work: Work, batch: pa.Table) -> None:
    """A simple-orders row also describes its customer: its identifiers join that contact.

    Identifiers are united (APPEND) whatever the upload's merge mode, so that one order's
    row never erases the identifiers another order of the same customer brought.
    """
    customers = customer_keys(batch)
    grouped = KeyedRows.group(customers)
    stored = work.load(work.books.contacts, grouped.keys)
    state = State.load(CONTACT_ROW, grouped.keys, "uniq_id", stored)
    before = {name: state.columns[name] for name in IDENTIFIER_NAMES}
    sequence = np.argsort(grouped.codes, kind="stable")
    rank = (
        np.arange(len(sequence))
        - np.concatenate(([0], np.cumsum(grouped.counts)))[grouped.codes[sequence]]
    )
    for r in range(int(grouped.counts.max(initial=0))):
        rows = sequence[rank == r]
        keys = grouped.codes[rows]
        for name in IDENTIFIER_NAMES:
            merged = merge_field(
                name, state.get(name, keys), take(batch.column(name), rows), MergeMode.APPEND
            )
            state.set(name, keys, merged)
    changed = ~state.exists.copy()
    for name in IDENTIFIER_NAMES:
        changed |= differs(before[name], state.columns[name])
    state.set("entries", np.flatnonzero(~state.exists), "")
    rows = np.flatnonzero(changed)
    if len(rows):
        work.contacts.append(state.table(CONTACT_ROW, rows))
