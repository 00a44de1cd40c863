"""The Arrow schemas of the record tables: the columns of ``orders`` and ``contacts``.

Record fields keep the names of the real API (``OrderRow``, ``ContactRow``, simple orders);
date-times are Unix seconds, ``birth_date`` days since 1970, money decimal text.
"""

from __future__ import annotations

import pyarrow as pa

GOAL_ITEM = pa.struct([("goal_action_id", pa.string()), ("price", pa.string())])
PRODUCT_ITEM = pa.struct([("name", pa.string()), ("qty", pa.int64())])
ATTRIBUTE_ITEM = pa.struct([("name", pa.string()), ("value", pa.string())])
STRINGS = pa.list_(pa.string())
CLIENT_IDS = pa.list_(pa.uint64())

IDENTIFIER_FIELDS = [
    pa.field("client_ids", CLIENT_IDS),
    pa.field("emails", STRINGS),
    pa.field("phones", STRINGS),
    pa.field("emails_md5", STRINGS),
    pa.field("phones_md5", STRINGS),
]

ORDER_FIELDS = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("client_uniq_id", pa.string()),
        pa.field("client_type", pa.string()),
        pa.field("create_date_time", pa.int64()),
        pa.field("order_status", pa.string()),
        pa.field("update_date_time", pa.int64()),
        pa.field("finish_date_time", pa.int64()),
        pa.field("revenue", pa.string()),
        pa.field("cost", pa.string()),
        pa.field("currency", pa.string()),
        pa.field("goals", pa.list_(GOAL_ITEM)),
        pa.field("products", pa.list_(PRODUCT_ITEM)),
        pa.field("attribute_values", pa.list_(ATTRIBUTE_ITEM)),
        pa.field("user_comment", pa.string()),
        *IDENTIFIER_FIELDS,
    ]
)
"""Every field of orders and simple orders (they share one id space)."""

ORDER_STATE = pa.schema(
    [
        pa.field("order_key", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("customer_key", pa.string()),
        pa.field("status_id", pa.string()),
        pa.field("status_type", pa.string()),
        pa.field("linked_visit_id", pa.int64()),
        pa.field("linked_by", pa.string()),
        pa.field("linked_at", pa.int64()),
        pa.field("fixed_status_id", pa.string()),
        pa.field("created_goal_fired", pa.bool_()),
        pa.field("fired_cell_goals", STRINGS),
        pa.field("entries", pa.string()),
    ]
)
"""What the engine keeps beside an order's fields: identity, status, link and goal state, and
the ledger entries that mention it."""

ORDER_ROW = pa.schema([*ORDER_STATE, *ORDER_FIELDS])

CONTACT_FIELDS = pa.schema(
    [
        pa.field("uniq_id", pa.string()),
        pa.field("name", pa.string()),
        pa.field("create_date_time", pa.int64()),
        pa.field("update_date_time", pa.int64()),
        *IDENTIFIER_FIELDS,
        pa.field("birth_date", pa.int64()),
        pa.field("user_comment", pa.string()),
        pa.field("attribute_values", pa.list_(ATTRIBUTE_ITEM)),
    ]
)

CONTACT_ROW = pa.schema([*CONTACT_FIELDS, pa.field("entries", pa.string())])
