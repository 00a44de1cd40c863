"""Named field limits of the upload formats, each with the place it comes from.

Documented limits (project spec §4.6, §4.11-§4.13, §7.2, §7.3, §7.7) carry the page they
come from. Where the docs give no maximum, the number is an assumption of this emulator,
marked ``ASSUMED``: a finite bound keeps memory bounded and makes ``check`` predictable.
"""

from __future__ import annotations

from decimal import Decimal

# https://yandex.com/dev/metrika/en/management/openapi/schema/uploadContactJson_1.md (ContactRow)
MAX_CLIENT_IDS = 500
MAX_CONTACT_VALUES = 50  # emails, phones, emails_md5, phones_md5: each list, unique items
MAX_USER_COMMENT = 1000

# https://yandex.com/dev/metrika/en/management/openapi/schema/uploadOrdersJson_1.md (OrderRow)
MAX_GOALS = 100
MAX_MONEY = Decimal(9223372036854)  # revenue and cost; also applied to goal and offline prices

# https://yandex.ru/dev/metrika/en/management/openapi/schema/mapOrderStatuses (OrderStatus)
MAX_STATUS_ID = 255
MAX_HUMANIZED = 4096
MAX_GOAL_ACTION_IDS = 10
# ``^[\w-:]+$`` of the docs, read with Java's default (ASCII) meaning of ``\w``.
ID_CHARS = r"[A-Za-z0-9_:-]+"
ID_PATTERN = rf"^{ID_CHARS}$"
ID_PATTERN_HELP = "Latin letters, digits, '_', '-' and ':'"

# https://yandex.ru/dev/metrika/en/management/openapi/offline_conversions/upload_1
MAX_UPLOAD_COMMENT = 255

# ASSUMED: the docs say only "string, min 1" for order ids, uniq_id, client_uniq_id, UserId,
# PurchaseId, Target, goal ids, product names, names and call tags.
MAX_ID_LENGTH = 255
# ASSUMED: URL and CallTrackerURL of calls (§7.7) have no documented maximum.
MAX_URL_LENGTH = 2048
# ASSUMED: any cell, including ignored columns; the largest documented string is `humanized`.
MAX_CELL_CHARS = MAX_HUMANIZED
# ASSUMED: product quantities, call durations: the docs say "integer" (read as int32).
MAX_INT32 = 2**31 - 1

# https://yandex.ru/dev/metrika/en/data-import/orders-data ("at most 100,000 orders per customer")
MAX_ORDERS_PER_CUSTOMER = 100_000
# https://www.yandex.com/support/metrica/crm/about.html (orders link within 21 days)
LINK_WINDOW_DAYS = 21
