"""The per-customer order cap, checked before an upload is accepted (ambiguity A20).

https://yandex.ru/dev/metrika/ru/management/openapi/schema/uploadOrders: "Для одного клиента
можно передать не более 100 000 заказов". What happens above it is undocumented; under the
``fail_upload`` rule the upload fails validation, naming each customer and the line that would
take it over the limit, instead of passing while rows are dropped.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from emulator.domain import RowError
from emulator.engine.accept import Intake, PendingUpload, iter_parts
from emulator.engine.orders import customer_keys, order_keys
from emulator.engine.records import Records
from emulator.store import Session


def cap_errors(
    session: Session, orders: Records, pending: PendingUpload, limit: int, intake: Intake
) -> list[RowError]:
    index = orders.index(pending.counter_id)
    if len(index) + intake.valid <= limit:
        return []
    stored = orders.all(session, pending.counter_id, index, ["customer_key"])
    counted = pc.value_counts(stored.column("customer_key")).to_pylist() if len(stored) else []
    counts = {c["values"]: c["counts"] for c in counted}
    seen: set[str] = set()
    errors: dict[str, RowError] = {}
    for part in iter_parts(session, pending):
        keys = order_keys(part, pending.uploading_id)
        fresh = index.find(keys) < 0
        lines = np.asarray(part.column("line")).tolist()
        for key, customer, line, new in zip(
            keys.to_pylist(), customer_keys(part).to_pylist(), lines, fresh.tolist(), strict=True
        ):
            if not new or key in seen:
                continue
            seen.add(key)
            counts[customer] = counts.get(customer, 0) + 1
            if counts[customer] > limit and customer not in errors:
                errors[customer] = RowError(
                    line,
                    "client_uniq_id",
                    f"customer {customer!r} would have more than {limit} orders (at most "
                    f"{limit} orders per customer)",
                    code="customer_order_limit",
                )
    return list(errors.values())
