"""The per-customer order cap (ambiguity A20), checked without counting every customer.

https://yandex.ru/dev/metrika/ru/management/openapi/schema/uploadOrders: "Для одного клиента
можно передать не более 100 000 заказов". What happens above it is undocumented; under the
``fail_upload`` rule the upload fails validation, naming each customer and the line that would
take it over the limit, instead of passing while rows are dropped.

Only a customer whose stored orders plus rows in the upload exceed the limit can pass it, so
an upload first counts its rows per customer (by hash), compares them with the counter's
:class:`~emulator.engine.tally.Tally`, and follows row by row only the few customers left:
the *watched* ones, whose stored orders are then counted exactly. Usually there are none and
nothing more is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import RowError
from emulator.engine.accept import PendingUpload, iter_parts
from emulator.engine.arrays import take
from emulator.engine.orders import customer_keys, order_keys
from emulator.engine.records import Records
from emulator.engine.tally import Tally
from emulator.formats.hashing import hash_strings
from emulator.store import Session


def watched(
    session: Session,
    orders: Records,
    counter_id: int,
    customers: Callable[[], Iterable[pa.Array]],
    limit: int,
) -> dict[str, int]:
    """Customers of an upload who could pass ``limit``, with their stored orders.

    ``customers`` gives the upload's customer column, part by part (called twice at most)."""
    stored_total = len(orders.index(counter_id))
    sent = Tally.of(hash_strings(part) for part in customers())
    if stored_total + sent.most() <= limit:
        return {}
    stored = orders.tally(session, counter_id)
    over = sent.hashes[stored.get(sent.hashes) + sent.counts > limit]
    if not len(over):
        return {}
    names: set[str] = set()
    for part in customers():
        names.update(take(part, np.flatnonzero(np.isin(hash_strings(part), over))).to_pylist())
    return _stored_orders(session, orders, counter_id, sorted(names))


def _stored_orders(
    session: Session, orders: Records, counter_id: int, names: list[str]
) -> dict[str, int]:
    """The exact stored orders of each of ``names`` (the tally's hashes could merge two
    customers' counts, so it only chooses whom to count)."""
    counts = dict.fromkeys(names, 0)
    wanted = pa.array(names, pa.string())
    index = orders.index(counter_id)
    for part in orders.stream(session, counter_id, index, ["customer_key"]):
        keys = part.column("customer_key")
        mine = keys.filter(pc.is_in(keys, value_set=wanted))
        for item in pc.value_counts(mine).to_pylist():
            counts[item["values"]] += item["counts"]
    return counts


def watch_upload(
    session: Session, orders: Records, pending: PendingUpload, limit: int
) -> dict[str, int]:
    """:func:`watched` for an upload's pending parts: validation names the customers it
    would take over the limit, and processing in the same transaction reuses the answer."""
    return watched(
        session,
        orders,
        pending.counter_id,
        lambda: (customer_keys(part) for part in iter_parts(session, pending)),
        limit,
    )


def cap_errors(
    session: Session, orders: Records, pending: PendingUpload, watch: dict[str, int], limit: int
) -> list[RowError]:
    """The rows that would take a watched customer over ``limit`` (one error per customer)."""
    if not watch:
        return []
    index = orders.index(pending.counter_id)
    counts = dict(watch)
    names = pa.array(list(counts), pa.string())
    seen: set[str] = set()
    errors: dict[str, RowError] = {}
    for part in iter_parts(session, pending):
        customers = customer_keys(part)
        rows = np.flatnonzero(np.asarray(pc.is_in(customers, value_set=names)))
        keys = take(order_keys(part, pending.uploading_id), rows)
        fresh = orders.find(session, pending.counter_id, index, keys) < 0
        lines = np.asarray(part.column("line"))[rows].tolist()
        for key, customer, line, new in zip(
            keys.to_pylist(), take(customers, rows).to_pylist(), lines, fresh.tolist(), strict=True
        ):
            if not new or key in seen:
                continue
            seen.add(key)
            counts[customer] += 1
            if counts[customer] > limit and customer not in errors:
                errors[customer] = RowError(
                    line,
                    "client_uniq_id",
                    f"customer {customer!r} would have more than {limit} orders (at most "
                    f"{limit} orders per customer)",
                    code="customer_order_limit",
                )
    return sorted(errors.values(), key=lambda e: e.line)
