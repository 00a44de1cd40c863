"""Applying contacts, orders and simple orders: merge, immutable create dates, linking, goals.

The rules, in the order they act (sources in :mod:`emulator.rules` and :mod:`emulator.goals`):
1. rows sharing an id in one upload are applied one after another in a seeded random order
   (or file order when "last wins"); each is logged ``DUPLICATE_ID_IN_UPLOAD``;
2. a new id creates an order unless its customer already has the maximum number of orders;
3. a known id is an update under the upload's merge mode; a different ``create_date_time``
   never replaces the first one (``CREATE_DATE_CONFLICT``); a linked order outside its update
   window is left untouched (``UPDATE_WINDOW_EXPIRED``);
4. orders not yet linked are linked in one vectorised pass (:mod:`emulator.linking`);
5. each fixation of a linked order fires the goals of its status, and ``goals`` cells fire
   their goals once per order. Goals are only ever added.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from emulator._old.counter import CRM_GOAL, Processing, from_ts
from emulator._old.linking import IndexKind, Queries, link_direct, link_through_visitor, md5_key
from emulator._old.repository import (
    ORDERS,
    SIMPLE_ORDERS,
    StoredOrder,
    count_orders_by_customer,
    load_contacts,
    load_orders,
    orders_of_customers,
    save_contact,
    save_order,
)
from emulator.decisions import DecisionCode
from emulator.domain import Contact, MergeMode, Order, OrderStatus, SimpleOrder
from emulator.goals import (
    DEFAULT_STATUS_ID,
    CrmGoal,
    ResolvedStatus,
    cell_goal_revenue,
    fixation_crm_goals,
    order_goal_revenue,
    resolve_status,
)
from emulator.identity import IdentityError, md5_hex, normalize_email, normalize_phone
from emulator.merge import merge
from emulator.rules import CreateDateConflict, DuplicateIdOrder, UpdateWindowAnchor

ORDER = "order"
CONTACT = "contact"
AUTO_KEY_PREFIX = "#auto:"
ANON_CUSTOMER_PREFIX = "#anon:"

AnyOrder = Order | SimpleOrder


@dataclass(frozen=True, slots=True)
class Row:
    """A validated record and the line it came from."""

    line: int
    record: AnyOrder | Contact


# -- keys -----------------------------------------------------------------------------------
def status_id_of(record: AnyOrder) -> str:
    return record.order_status or DEFAULT_STATUS_ID


def order_key(record: AnyOrder, uploading_id: str, line: int) -> str:
    """The order's id, or a fresh key for a simple order sent without one (always new)."""
    return record.id if record.id else f"{AUTO_KEY_PREFIX}{uploading_id}:{line}"


def customer_key(record: AnyOrder) -> str:
    """Whose order it is: ``client_uniq_id``, or for anonymous simple orders the first id."""
    if record.client_uniq_id:
        return record.client_uniq_id
    assert isinstance(record, SimpleOrder)
    for name in ("client_ids", "emails", "phones", "emails_md5", "phones_md5"):
        values = getattr(record, name)
        if values:
            return f"{ANON_CUSTOMER_PREFIX}{name}:{values[0]}"
    return f"{ANON_CUSTOMER_PREFIX}none"


def application_order(rows: list[Row], seed: int, mode: DuplicateIdOrder) -> list[Row]:
    """Rows sharing an id, in the order they are applied (spec §2.7: "random order").

    The shuffle is seeded by the rule's seed and the rows themselves, so re-sending the very
    same upload applies them in the very same order and changes nothing.
    """
    if len(rows) < 2 or mode is DuplicateIdOrder.LAST_WINS:
        return rows
    shuffled = list(rows)
    content = "\x1f".join(repr(row.record) for row in rows)
    random.Random(f"{seed}:{content}").shuffle(shuffled)
    return shuffled


def group_rows(rows: Sequence[Row], key_of: Callable[[Row], str]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(key_of(row), []).append(row)
    return groups


def log_duplicates(p: Processing, subject: str, key: str, ordered: list[Row]) -> None:
    if len(ordered) < 2:
        return
    lines = [row.line for row in ordered]
    for position, row in enumerate(ordered, start=1):
        p.decide(
            subject,
            key,
            DecisionCode.DUPLICATE_ID_IN_UPLOAD,
            f"id {key!r} appears on lines {sorted(lines)}; line {row.line} applied "
            f"{position} of {len(lines)} ({p.rules.duplicate_id_order.value})",
            line=row.line,
            applied_position=position,
            lines=sorted(lines),
        )


# -- contacts -------------------------------------------------------------------------------
def apply_contacts(p: Processing, rows: Sequence[Row], mode: MergeMode) -> list[str]:
    """Apply contact rows; returns the uniq_ids written."""
    groups = group_rows(rows, lambda row: row.record.uniq_id)
    existing = load_contacts(p.conn, p.counter.counter_id, groups)
    for uniq_id, group in groups.items():
        ordered = application_order(group, p.rules.duplicate_id_seed, p.rules.duplicate_id_order)
        log_duplicates(p, CONTACT, uniq_id, ordered)
        contact = existing.get(uniq_id)
        for row in ordered:
            contact = _apply_contact(p, contact, row)
        assert contact is not None
        save_contact(p.conn, p.counter.counter_id, contact)
    if p.rules.relink_on_contact_upload:
        pending = orders_of_customers(
            p.conn, p.counter.counter_id, list(groups), unlinked_only=True
        )
        if pending:
            link_and_fire(p, pending)
            for order in pending:
                save_order(p.conn, p.counter.counter_id, order)
    return list(groups)


def _apply_contact(p: Processing, contact: Contact | None, row: Row) -> Contact:
    sent = row.record
    assert isinstance(sent, Contact)
    if contact is None:
        p.decide(
            CONTACT,
            sent.uniq_id,
            DecisionCode.CREATED,
            f"contact created (line {row.line})",
            line=row.line,
        )
        return sent
    if (
        contact.create_date_time is not None
        and sent.create_date_time is not None
        and sent.create_date_time != contact.create_date_time
    ):
        p.decide(
            CONTACT,
            sent.uniq_id,
            DecisionCode.CREATE_DATE_CONFLICT,
            f"line {row.line} sends create_date_time {sent.create_date_time.isoformat()}; the "
            f"contact keeps its first one, {contact.create_date_time.isoformat()}",
            line=row.line,
            kept=contact.create_date_time.isoformat(),
            sent=sent.create_date_time.isoformat(),
        )
    merged = merge(contact, sent, p.mode)
    if contact.create_date_time is None and sent.create_date_time is not None:
        merged = dataclasses.replace(merged, create_date_time=sent.create_date_time)
    _log_change(p, CONTACT, sent.uniq_id, contact, merged, row.line)
    return merged


def _log_change(
    p: Processing, subject: str, key: str, before: object, after: object, line: int
) -> None:
    if before == after:
        p.decide(subject, key, DecisionCode.UNCHANGED, f"line {line} changes nothing", line=line)
        return
    changed = [
        f.name
        for f in dataclasses.fields(before)  # type: ignore[arg-type]
        if getattr(before, f.name) != getattr(after, f.name)
    ]
    p.decide(
        subject,
        key,
        DecisionCode.UPDATED,
        f"line {line} updates {', '.join(changed)} ({p.mode.value})",
        line=line,
        fields=changed,
    )


def customers_from_simple_orders(p: Processing, rows: Sequence[Row]) -> None:
    """A simple-orders row also describes its customer: its identifiers join that contact.

    Identifiers are united (APPEND) whatever the upload's merge mode, so that one order's
    row never erases the identifiers another order of the same customer brought.
    """
    groups = group_rows(rows, lambda row: customer_key(row.record))
    existing = load_contacts(p.conn, p.counter.counter_id, groups)
    for key, group in groups.items():
        contact = existing.get(key) or Contact(uniq_id=key)
        before = contact
        for row in group:
            sent = row.record
            contact = merge(
                contact,
                Contact(
                    uniq_id=key,
                    client_ids=sent.client_ids,
                    emails=sent.emails,
                    phones=sent.phones,
                    emails_md5=sent.emails_md5,
                    phones_md5=sent.phones_md5,
                ),
                MergeMode.APPEND,
            )
        if key not in existing or contact != before:
            save_contact(p.conn, p.counter.counter_id, contact)


# -- orders ---------------------------------------------------------------------------------
def apply_orders(p: Processing, kind: str, rows: Sequence[Row]) -> None:
    """Apply order rows (``kind`` is ``orders`` or ``simple_orders``) as one batch."""
    if kind == SIMPLE_ORDERS:
        customers_from_simple_orders(p, rows)
    groups = group_rows(rows, lambda row: order_key(row.record, p.uploading_id, row.line))
    existing = load_orders(p.conn, p.counter.counter_id, list(groups))
    counts = count_orders_by_customer(
        p.conn, p.counter.counter_id, (customer_key(r.record) for r in rows)
    )
    touched: list[StoredOrder] = []
    for key, group in groups.items():
        ordered = application_order(group, p.rules.duplicate_id_seed, p.rules.duplicate_id_order)
        log_duplicates(p, ORDER, key, ordered)
        state = existing.get(key)
        applied = False
        for row in ordered:
            record = row.record
            assert isinstance(record, Order | SimpleOrder)
            if state is None:
                state = _new_order(p, kind, key, record, row.line, counts)
                applied = state is not None
            elif _update_order(p, state, record, row.line):
                applied = True
        if state is not None and applied:
            touched.append(state)
    link_and_fire(p, touched)
    for state in touched:
        save_order(p.conn, p.counter.counter_id, state)


def _resolve(p: Processing, status_id: str) -> ResolvedStatus | None:
    return resolve_status(status_id, p.mapping, p.counter.js_goal_identifiers)


def _new_order(
    p: Processing, kind: str, key: str, record: AnyOrder, line: int, counts: dict[str, int]
) -> StoredOrder | None:
    customer = customer_key(record)
    if counts.get(customer, 0) >= p.rules.orders_per_customer_limit:
        p.decide(
            ORDER,
            key,
            DecisionCode.CUSTOMER_ORDER_LIMIT,
            f"line {line} refused: customer {customer!r} already has "
            f"{p.rules.orders_per_customer_limit} orders",
            line=line,
            customer=customer,
        )
        return None
    counts[customer] = counts.get(customer, 0) + 1
    status_id = status_id_of(record)
    resolved = _resolve(p, status_id)
    p.decide(
        ORDER,
        key,
        DecisionCode.CREATED,
        f"order created from line {line}, created {record.create_date_time.isoformat()}, "
        f"status {status_id}" + (f" ({resolved.type.value})" if resolved else " (unknown)"),
        line=line,
        status=status_id,
    )
    return StoredOrder(
        key=key,
        kind=kind,
        record=record,
        customer_key=customer,
        status_id=status_id,
        status_type=resolved.type if resolved else None,
    )


def _same_kind(order: StoredOrder, record: AnyOrder) -> AnyOrder:
    """Orders and simple orders share one id space; a row of the other kind is converted."""
    if isinstance(record, SimpleOrder) and order.kind == ORDERS:
        return Order(
            id=order.key,
            client_uniq_id=record.client_uniq_id or order.customer_key,
            create_date_time=record.create_date_time,
            order_status=status_id_of(record),
            revenue=record.revenue,
            cost=record.cost,
            currency=record.currency,
            goals=record.goals,
        )
    if isinstance(record, Order) and order.kind == SIMPLE_ORDERS:
        return SimpleOrder(
            create_date_time=record.create_date_time,
            id=record.id,
            client_uniq_id=record.client_uniq_id,
            order_status=record.order_status,
            revenue=record.revenue,
            cost=record.cost,
            goals=record.goals,
            currency=record.currency,
        )
    return record


def _window_expired(p: Processing, order: StoredOrder) -> bool:
    if p.rules.update_window_anchor is UpdateWindowAnchor.VISIT_START:
        anchor = int(p.visits.start_of([order.linked_visit_id])[0])
    else:
        anchor = order.create_time
    return p.now_ts > anchor + p.rules.update_window_seconds


def _update_order(p: Processing, order: StoredOrder, record: AnyOrder, line: int) -> bool:
    """Apply one row to a known order; ``False`` when the row changes nothing by rule."""
    record = _same_kind(order, record)
    if record.create_date_time != order.record.create_date_time:
        overwrite = p.rules.create_date_conflict is CreateDateConflict.OVERWRITE
        p.decide(
            ORDER,
            order.key,
            DecisionCode.CREATE_DATE_CONFLICT,
            f"line {line} sends create_date_time {record.create_date_time.isoformat()} for an "
            f"order created {order.record.create_date_time.isoformat()}; "
            + (
                "the new date replaces it and the order is linked afresh (rule option)"
                if overwrite
                else "creation dates never change, so the row is applied as an update of the "
                "existing order and keeps the first date"
            ),
            line=line,
            kept=None if overwrite else order.record.create_date_time.isoformat(),
            sent=record.create_date_time.isoformat(),
        )
        if overwrite:
            order.record = dataclasses.replace(
                order.record, create_date_time=record.create_date_time
            )
            order.linked_visit_id = order.linked_by = order.linked_at = None
            order.fixed_status_id = None
        else:
            record = dataclasses.replace(record, create_date_time=order.record.create_date_time)
    if order.linked and _window_expired(p, order):
        p.decide(
            ORDER,
            order.key,
            DecisionCode.UPDATE_WINDOW_EXPIRED,
            f"line {line} ignored: linked orders can be updated for "
            f"{p.rules.update_window_days} days after the "
            + (
                "linked visit's start"
                if p.rules.update_window_anchor is UpdateWindowAnchor.VISIT_START
                else "order's creation"
            ),
            line=line,
        )
        return False
    merged = merge(order.record, record, p.mode)
    _log_change(p, ORDER, order.key, order.record, merged, line)
    order.record = merged
    order.customer_key = customer_key(merged)
    status_id = status_id_of(merged)
    if status_id != order.status_id:
        resolved = _resolve(p, status_id)
        p.decide(
            ORDER,
            order.key,
            DecisionCode.STATUS_CHANGED,
            f"status {order.status_id} → {status_id}"
            + (f" ({resolved.type.value})" if resolved else " (unknown)"),
            line=line,
            before=order.status_id,
            after=status_id,
        )
        order.status_id = status_id
        order.status_type = resolved.type if resolved else None
    return True


# -- linking and goals ----------------------------------------------------------------------
def _identity_keys(
    p: Processing, sources: Sequence[object]
) -> tuple[list[int], list[tuple[int, str]]]:
    """ClientIDs, and MD5 keys with a label, of an order's customer (and the row itself)."""
    client_ids: list[int] = []
    hashes: list[tuple[int, str]] = []
    normalize = p.rules.normalize_identifiers
    for source in sources:
        client_ids.extend(getattr(source, "client_ids", None) or ())
        for email in getattr(source, "emails", None) or ():
            value = email
            if normalize:
                try:
                    value = normalize_email(email)
                except IdentityError:
                    continue
            hashes.append((md5_key(md5_hex(value)), f"email {email}"))
        for phone in getattr(source, "phones", None) or ():
            value = phone
            if normalize:
                try:
                    value = normalize_phone(phone)
                except IdentityError:
                    continue
            hashes.append((md5_key(md5_hex(value)), f"phone {phone}"))
        for name, label in (("emails_md5", "email MD5"), ("phones_md5", "phone MD5")):
            for digest in getattr(source, name, None) or ():
                hashes.append((md5_key(digest.lower()), f"{label} {digest}"))
    return list(dict.fromkeys(client_ids)), hashes


def link_and_fire(p: Processing, orders: Sequence[StoredOrder]) -> None:
    """Link what is not linked yet, then fire the goals of every new fixation.

    A fixation is the order's status after the whole upload, compared with the status last
    fixed on its visit; rows sharing an id fold into that one state first, so re-sending an
    upload never fires anything twice.
    """
    _link(p, [order for order in orders if not order.linked])
    for order in orders:
        if order.linked:
            _fire(p, order)


def _link(p: Processing, candidates: Sequence[StoredOrder]) -> None:
    if not candidates:
        return
    contacts = load_contacts(p.conn, p.counter.counter_id, (c.customer_key for c in candidates))
    rules = p.rules
    not_before = p.now_ts - rules.visit_age_limit_seconds
    client_rows: list[tuple[int, int, int, int]] = []
    client_labels: list[str] = []
    hash_rows: list[tuple[int, int, int, int]] = []
    hash_labels: list[str] = []
    linkable: list[int] = []
    for group, order in enumerate(candidates):
        if order.status_type is None:
            p.decide(
                ORDER,
                order.key,
                DecisionCode.NOT_LINKED_UNKNOWN_STATUS,
                f"status {order.status_id!r} is neither a standard type, a mapped status nor a "
                "JS goal of the counter; the order is kept for users and customers only",
            )
            continue
        age = p.now_ts - order.create_time
        if age > rules.order_age_limit_seconds:
            p.decide(
                ORDER,
                order.key,
                DecisionCode.NOT_LINKED_ORDER_TOO_OLD,
                f"processed {age / 86400:.2f} days after the order's creation; orders link only "
                f"within {rules.order_age_limit_days} days",
                age_seconds=age,
            )
            continue
        contact = contacts.get(order.customer_key)
        sources = [s for s in (contact, order.record if order.kind == SIMPLE_ORDERS else None) if s]
        client_ids, hashes = _identity_keys(p, sources)
        if not rules.advanced_matching:
            hashes = []
        if not client_ids and not hashes:
            why = (
                f"contact {order.customer_key!r} has not been uploaded"
                if contact is None and order.kind == ORDERS
                else "no ClientID"
                + ("" if rules.advanced_matching else " (advanced matching is off)")
                + (" and no phone or e-mail" if rules.advanced_matching else "")
            )
            p.decide(ORDER, order.key, DecisionCode.NOT_LINKED_NO_IDENTITY, why)
            continue
        linkable.append(group)
        for cid in client_ids:
            client_rows.append((group, cid, order.create_time, not_before))
            client_labels.append(f"ClientID {cid}")
        for key, label in hashes:
            hash_rows.append((group, key, order.create_time, not_before))
            hash_labels.append(label)
    found = link_direct(p.visits, IndexKind.CLIENT_ID, Queries.build(client_rows))
    labels = {g: client_labels[q] for g, (_, q) in found.items()}
    remaining = [row for row in hash_rows if row[0] not in found]
    remaining_labels = [
        lab for row, lab in zip(hash_rows, hash_labels, strict=True) if row[0] not in found
    ]
    by_hash = link_through_visitor(p.visits, IndexKind.MD5, Queries.build(remaining))
    for g, (visit, q) in by_hash.items():
        found[g] = (visit, q)
        labels[g] = remaining_labels[q]
    for group in linkable:
        order = candidates[group]
        if group in found:
            visit = found[group][0]
            order.linked_visit_id = visit
            order.linked_by = labels[group]
            order.linked_at = p.now_ts
            start = from_ts(int(p.visits.start_of([visit])[0]), p.counter.tz)
            p.decide(
                ORDER,
                order.key,
                DecisionCode.LINKED,
                f"linked to visit {visit} (started {start.isoformat()}) through {labels[group]}: "
                "the visitor's latest visit before the order within the window",
                visit_id=visit,
                identifier=labels[group],
            )
        else:
            p.decide(
                ORDER,
                order.key,
                DecisionCode.NOT_LINKED_NO_VISIT,
                "no visit of this customer started at or before the order's creation and within "
                f"{rules.visit_age_limit_days} days before processing",
            )


def _fire(p: Processing, order: StoredOrder) -> None:
    visit = order.linked_visit_id
    assert visit is not None
    record = order.record
    currency = record.currency or p.rules.default_currency
    profit = order_goal_revenue(record.revenue, record.cost)
    resolved = _resolve(p, order.status_id)
    if order.status_id != order.fixed_status_id and resolved is not None:
        order.fixed_status_id = order.status_id
        for crm_goal in fixation_crm_goals(resolved.type, p.rules, order.created_goal_fired):
            goal = p.counter.goal_by_name(crm_goal.value, CRM_GOAL)
            if goal is not None:
                p.fire(goal, visit, ORDER, order.key, profit, currency)
            if crm_goal is CrmGoal.ORDER_CREATED:
                order.created_goal_fired = True
        for identifier in resolved.js_goals:
            _fire_js(p, order, identifier, profit, currency)
    for cell_goal in record.goals or ():
        if cell_goal.goal_action_id in order.fired_cell_goals:
            continue
        order.fired_cell_goals.append(cell_goal.goal_action_id)
        revenue = cell_goal_revenue(cell_goal, record.revenue, record.cost)
        _fire_js(p, order, cell_goal.goal_action_id, revenue, currency)


def _fire_js(
    p: Processing, order: StoredOrder, identifier: str, revenue: Decimal | None, currency: str
) -> None:
    goal = p.counter.goal_by_identifier(identifier)
    if goal is None:
        p.decide(
            ORDER,
            order.key,
            DecisionCode.GOAL_NOT_FOUND,
            f"goal {identifier!r} is not a JS goal of counter {p.counter.counter_id}; nothing "
            "is counted for it (create the goal first)",
            goal=identifier,
        )
        return
    assert order.linked_visit_id is not None
    p.fire(goal, order.linked_visit_id, ORDER, order.key, revenue, currency)


def unknown_statuses(
    rows: Sequence[Row], mapping: Mapping[str, OrderStatus], js_goals: Iterable[str]
) -> list[tuple[int, str]]:
    """Lines whose ``order_status`` the counter does not know (checked at upload time)."""
    bad = []
    identifiers = frozenset(js_goals)
    for row in rows:
        record = row.record
        assert isinstance(record, Order | SimpleOrder)
        status_id = status_id_of(record)
        if resolve_status(status_id, mapping, identifiers) is None:
            bad.append((row.line, status_id))
    return bad
