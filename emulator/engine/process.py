"""Processing one accepted upload: its pending parts applied a batch at a time.

A part is applied as soon as it is read, except the rows whose key also occurs in another
part: those wait and are applied together at the end, so rows sharing a key are always
applied as one group (spec §2.7) whatever the batch size. Simple orders first add their
identifiers to their customers, across the whole upload, before any order is linked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from emulator.domain import UploadKind
from emulator.engine.accept import CALLS, PendingUpload, crossing, iter_parts, key_hashes
from emulator.engine.cap import watch_upload
from emulator.engine.config import Goal
from emulator.engine.contacts import apply_contacts, customers_from_simple_orders, relink
from emulator.engine.link import contacts_first_key
from emulator.engine.offline import apply_offline
from emulator.engine.orders import apply_orders, order_keys
from emulator.engine.work import Work


def _in_groups(
    work: Work,
    pending: PendingUpload,
    keys_of: Callable[[pa.Table], pa.Array],
    apply: Callable[[pa.Table], None],
) -> None:
    parts = iter_parts(work.session, pending)
    repeated = crossing(key_hashes(keys_of(part)) for part in parts)
    waiting: list[pa.Table] = []
    for part in iter_parts(work.session, pending):  # read again: parts are never all held
        later = np.isin(key_hashes(keys_of(part)), repeated)
        if later.any():
            waiting.append(part.filter(pa.array(later)))
            part = part.filter(pa.array(~later))
        if len(part):
            apply(part)
            work.flush()
    if waiting:
        apply(pa.concat_tables(waiting))
        work.flush()


def process_crm(work: Work, pending: PendingUpload, watch: dict[str, int] | None = None) -> None:
    """Apply a CRM upload; ``watch`` is the customer-cap watch validation already found in
    this transaction (found here otherwise)."""
    kind = pending.kind
    if kind is UploadKind.CONTACTS:
        customers: list[str] = []

        def apply(part: pa.Table) -> None:
            customers.extend(apply_contacts(work, part))

        _in_groups(work, pending, lambda part: part.column("uniq_id"), apply)
        first = contacts_first_key(work.counter_id)
        if customers and work.session.counters.setting(first) is None:
            work.session.counters.set_setting(first, work.now)
        relink(work, customers)
        work.flush()
        return
    if kind is UploadKind.SIMPLE_ORDERS:
        for part in iter_parts(work.session, pending):
            customers_from_simple_orders(work, part)
            work.flush()
    if watch is None:
        watch = watch_upload(
            work.session, work.books.orders, pending, work.rules.orders_per_customer_limit
        )
    work.watch = watch
    _in_groups(
        work,
        pending,
        lambda part: order_keys(part, pending.uploading_id),
        lambda part: apply_orders(work, kind, part),
    )


def process_offline(work: Work, pending: PendingUpload, goals: dict[str, Goal | None]) -> int:
    """Link and count every row; returns how many are linked."""
    linked = 0
    for part in iter_parts(work.session, pending):
        if pending.family == CALLS:
            targets = pa.array([pending.target] * len(part), pa.string())
        else:
            targets = part.column("target").combine_chunks()
        linked += apply_offline(work, part, targets, goals)
        work.flush()
    return linked
