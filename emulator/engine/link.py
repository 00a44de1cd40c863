"""Which visit an order belongs to (project spec §5; the kernel is :mod:`emulator.matching`).

- ClientID first: the order links to the latest visit of one of its customer's ClientIDs that
  started at or before the order's creation and at most ``visit_age_limit`` before processing;
- otherwise, with advanced matching on, a phone or e-mail (plain or MD5) identifies a visitor
  through the visits where the counter captured that hash; the order then links to that
  visitor's latest qualifying visit;
- an order processed more than ``order_age_limit`` after its creation, or with a status the
  counter does not know, is not linked at all.
The identifiers are the customer's (its contact) and, for a simple order, the row's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator import matching
from emulator.decisions import DecisionCode
from emulator.engine.arrays import combined, indices, numbers, present, scatter, take, texts
from emulator.engine.keys import hex_keys, plain_keys
from emulator.engine.ledger import ORDER
from emulator.engine.visits import IndexKind, VisitTable
from emulator.engine.work import Work
from emulator.identity import normalize_email, normalize_phone

NO_BOUND = np.iinfo(np.int64).min


def link_direct(
    visits: VisitTable,
    kind: IndexKind,
    groups: np.ndarray,
    keys: np.ndarray,
    times: np.ndarray,
    not_before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best visit per group among visits carrying the key: ``(groups, visit ids, query)``;
    only groups that found one."""
    index = visits.index(kind)
    if index is None or not len(groups):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    found = matching.link_groups(index, groups, keys, times, not_before)
    ok = found.rows >= 0
    return found.groups[ok], found.rows[ok], found.query[ok]


def link_through_visitor(
    visits: VisitTable,
    kind: IndexKind,
    groups: np.ndarray,
    keys: np.ndarray,
    times: np.ndarray,
    not_before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identify the visitor by a key captured on one of their visits, then link as ClientID.

    The visitor is the one whose latest capture of the key happened at or before the query
    time (no age bound: identification is not linking); the link then follows the ClientID
    rule with the query's own time and bound.
    """
    index = visits.index(kind)
    clients = visits.index(IndexKind.CLIENT_ID)
    empty = np.zeros(0, np.int64)
    if index is None or clients is None or not len(groups):
        return empty, empty, empty
    capture = matching.link_latest(index, keys, times, np.full(len(keys), NO_BOUND, np.int64))
    known = np.flatnonzero(capture >= 0)
    if not len(known):
        return empty, empty, empty
    visitor = visits.client_of(capture[known])
    g, v, q = link_direct(
        visits, IndexKind.CLIENT_ID, groups[known], visitor, times[known], not_before[known]
    )
    return g, v, known[q]


def _exploded(lists: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """``(list, place in it, item)`` of every item of ``lists``."""
    lists = combined(lists)
    parents = np.asarray(pc.list_parent_indices(lists), np.int64)
    offsets = np.asarray(lists.offsets, np.int64)
    place = np.arange(len(parents)) - (offsets[parents] - offsets[0])
    return parents, place, pc.list_flatten(lists)


def first_pairs(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each ``(group, key)`` pair, in input order."""
    if not len(groups):
        return np.zeros(0, np.int64)
    order = np.lexsort((np.arange(len(groups)), keys, groups))
    g, k = groups[order], keys[order]
    first = np.ones(len(order), bool)
    first[1:] = (g[1:] != g[:-1]) | (k[1:] != k[:-1])
    return np.sort(order[first])


class _Identities:
    """The identifiers of each candidate order: its contact's, then its own (simple orders)."""

    def __init__(self, work: Work, orders: pa.Table) -> None:
        customers = combined(orders.column("customer_key"))
        contacts = work.load(work.books.contacts, customers)
        slot = pc.index_in(customers, value_set=combined(contacts.column("uniq_id")))
        where = numbers(slot, -1).astype(np.int64)
        self.has_contact = where >= 0
        self.sources: list[tuple[pa.Table, np.ndarray]] = [(contacts, where)]
        simple = np.asarray(pc.equal(orders.column("kind"), "simple_orders"))
        self.sources.append((orders, np.where(simple, np.arange(len(orders)), -1)))

    def client_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """``(order, ClientID)`` pairs, each order's in its own order, without repeats."""
        groups, ranks, keys = [], [], []
        for rank, (table, where) in enumerate(self.sources):
            orders = np.flatnonzero(where >= 0)
            parents, place, items = _exploded(take(table.column("client_ids"), where[orders]))
            groups.append(orders[parents])
            ranks.append(place + rank * 1_000_000)
            keys.append(numbers(items).astype(np.uint64))
        group, rank, key = np.concatenate(groups), np.concatenate(ranks), np.concatenate(keys)
        order = np.lexsort((rank, group))
        group, key = group[order], key[order]
        keep = first_pairs(group, key)
        return group[keep], key[keep]

    def hash_pairs(
        self, orders: np.ndarray, normalize: bool
    ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """``(order, key, label)`` of the phones and e-mails (plain or MD5) of ``orders``:
        per order its contact's before its own, e-mails before phones, plain before MD5."""
        groups, ranks, keys, labels = [], [], [], []
        for source, (table, where) in enumerate(self.sources):
            rows = orders[where[orders] >= 0]
            for field, (name, label, clean) in enumerate(_HASHED):
                parents, place, items = _exploded(take(table.column(name), where[rows]))
                if clean is None:
                    found, usable = hex_keys(items), np.ones(len(items), bool)
                else:
                    found, usable = plain_keys(items, clean, normalize)
                groups.append(rows[parents][usable])
                ranks.append(place[usable] + (source * len(_HASHED) + field) * 1_000_000)
                keys.append(found[usable])
                labels.append(texts(f"{label} ", items.filter(pa.array(usable))))
        group, rank = np.concatenate(groups), np.concatenate(ranks)
        order = np.lexsort((rank, group))
        label = pa.concat_arrays([combined(a) for a in labels]).take(indices(order))
        return group[order], np.concatenate(keys)[order], label


_HASHED: tuple[tuple[str, str, Callable[[str], str] | None], ...] = (
    ("emails", "email", normalize_email),
    ("phones", "phone", normalize_phone),
    ("emails_md5", "email MD5", None),
    ("phones_md5", "phone MD5", None),
)
"""Where an order's hashed identifiers are, how each is labelled in decisions, and how a
plain value is normalised (None: already an MD5)."""


def link_orders(work: Work, orders: pa.Table, positions: np.ndarray) -> pa.Table:
    """``orders`` with the not yet linked ones linked where the rules allow (decisions logged)."""
    rules, log = work.rules, work.log
    candidates = np.flatnonzero(~present(orders.column("linked_visit_id")))
    if not len(candidates):
        return orders
    keys = orders.column("order_key")
    known = present(take(orders.column("status_type"), candidates))
    unknown = candidates[~known]
    log.decide(
        ORDER,
        take(keys, unknown),
        positions[unknown],
        DecisionCode.NOT_LINKED_UNKNOWN_STATUS,
        s1=take(orders.column("status_id"), unknown),
    )
    candidates = candidates[known]
    created = numbers(orders.column("create_date_time"))
    age = work.now - created
    too_old = age[candidates] > rules.order_age_limit_seconds
    old = candidates[too_old]
    log.decide(
        ORDER,
        take(keys, old),
        positions[old],
        DecisionCode.NOT_LINKED_ORDER_TOO_OLD,
        n1=age[old],
        n2=rules.order_age_limit_days,
    )
    candidates = candidates[~too_old]
    if not len(candidates):
        return orders
    return _link(work, orders, positions, candidates, created)


@dataclass
class _Found:
    """Per candidate order: the linked visit (-1 when none yet) and the identifier used."""

    visit: np.ndarray
    label: pa.Array

    def record(self, orders: np.ndarray, visits: np.ndarray, labels: pa.Array) -> None:
        self.visit[orders] = visits
        self.label = scatter(self.label, orders, labels)


def contacts_cutoff(work: Work) -> int | None:
    """When the counter's first contacts upload was processed (contacts-first rule)."""
    return work.session.counters.setting(contacts_first_key(work.counter_id))


def contacts_first_key(counter_id: int) -> str:
    return f"contacts_first.{counter_id}"


def _find(
    work: Work, ids: _Identities, times: np.ndarray, bounds: np.ndarray, orders: np.ndarray
) -> tuple[_Found, np.ndarray]:
    """Links of the candidate orders at ``orders``: ClientIDs first (e-commerce visits first
    when preferred), then phones and e-mails; and which of them have an identifier at all."""
    rules, visits = work.rules, work.visits
    n = len(times)
    found = _Found(np.full(n, -1, np.int64), pa.nulls(n, pa.string()))
    group, key = ids.client_ids()
    chosen = np.isin(group, orders)
    group, key = group[chosen], key[chosen]
    kinds = [IndexKind.ECOMMERCE, IndexKind.CLIENT_ID] if rules.ecommerce_preference else []
    for kind in kinds or [IndexKind.CLIENT_ID]:
        open_ = found.visit[group] < 0
        g, visit, q = link_direct(
            visits, kind, group[open_], key[open_], times[group[open_]], bounds[group[open_]]
        )
        found.record(g, visit, texts("ClientID ", pa.array(key[open_][q], pa.uint64())))
    has_ids = np.zeros(n, bool)
    has_ids[group] = True
    if rules.advanced_matching:
        open_orders = orders[found.visit[orders] < 0]
        hg, hk, labels = ids.hash_pairs(open_orders, rules.normalize_identifiers)
        has_ids[hg] = True
        if len(hg):
            g, visit, q = link_through_visitor(visits, IndexKind.MD5, hg, hk, times[hg], bounds[hg])
            found.record(g, visit, labels.take(indices(q)))
    return found, has_ids


def _link(
    work: Work, orders: pa.Table, positions: np.ndarray, candidates: np.ndarray, created: np.ndarray
) -> pa.Table:
    rules = work.rules
    subset = orders.take(indices(candidates))
    ids = _Identities(work, subset)
    times = created[candidates]
    window = np.full(len(candidates), work.now - rules.visit_age_limit_seconds, np.int64)
    bounds = window.copy()
    detailed = np.asarray(pc.equal(subset.column("kind"), "orders"))
    cutoff = contacts_cutoff(work) if rules.contacts_first else None
    if cutoff is not None:
        bounds[detailed] = np.maximum(window[detailed], cutoff)
    everyone = np.arange(len(candidates))
    found, has_ids = _find(work, ids, times, bounds, everyone)
    early = np.zeros(len(candidates), bool)
    if cutoff is not None:
        retry = everyone[detailed & (found.visit < 0) & has_ids]
        before, _ = _find(work, ids, times, window, retry)
        early[retry[before.visit[retry] >= 0]] = True
    return _record_links(work, orders, positions, candidates, ids, has_ids, found, early, cutoff)


def _record_links(
    work: Work,
    orders: pa.Table,
    positions: np.ndarray,
    candidates: np.ndarray,
    ids: _Identities,
    has_ids: np.ndarray,
    found: _Found,
    early: np.ndarray,
    cutoff: int | None,
) -> pa.Table:
    rules, log = work.rules, work.log
    keys = orders.column("order_key")
    lost = np.flatnonzero(~has_ids)
    if len(lost):
        kinds = np.asarray(take(orders.column("kind"), candidates[lost]).to_pylist())
        why = np.where(
            ~ids.has_contact[lost] & (kinds == "orders"), 0, 2 if rules.advanced_matching else 1
        )
        log.decide(
            ORDER,
            take(keys, candidates[lost]),
            positions[candidates[lost]],
            DecisionCode.NOT_LINKED_NO_IDENTITY,
            n1=why,
            s1=take(orders.column("customer_key"), candidates[lost]),
        )
    won = np.flatnonzero(found.visit >= 0)
    log.decide(
        ORDER,
        take(keys, candidates[early]),
        positions[candidates[early]],
        DecisionCode.NOT_LINKED_BEFORE_CONTACTS,
        n1=cutoff,
    )
    missed = np.flatnonzero(has_ids & (found.visit < 0) & ~early)
    log.decide(
        ORDER,
        take(keys, candidates[missed]),
        positions[candidates[missed]],
        DecisionCode.NOT_LINKED_NO_VISIT,
        n1=rules.visit_age_limit_days,
    )
    if not len(won):
        return orders
    rows = candidates[won]
    visits = found.visit[won]
    labels = take(found.label, won)
    log.decide(
        ORDER,
        take(keys, rows),
        positions[rows],
        DecisionCode.LINKED,
        n1=visits,
        n2=work.visits.start_of(visits),
        s1=labels,
    )
    for name, values in (
        ("linked_visit_id", pa.array(visits)),
        ("linked_by", labels),
        ("linked_at", pa.array(np.full(len(rows), work.now))),
    ):
        at = orders.schema.get_field_index(name)
        orders = orders.set_column(at, name, scatter(combined(orders.column(name)), rows, values))
    return orders
