"""Value types shared by every layer: what a CRM sends and what the service keeps.

The types are frozen and know nothing of I/O. Field names follow the real API
(``https://yandex.com/dev/metrika/en/management/openapi/schema/uploadOrdersJson_1.md``
and its siblings) so a record reads like the JSON body it came from.

Conventions:
- ``None`` means "not sent". Merge modes decide what that does to a stored value
  (``SAVE`` clears it, ``UPDATE``/``APPEND`` keep it; §2.7 of the project spec).
- Date-times are timezone-aware ``datetime`` values, already read in the counter's zone.
- Money is ``Decimal`` so that revenues and profits add up exactly.
- Multi-valued fields are tuples in the order they were sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class StatusType(StrEnum):
    """The five order status types of Metrica (spec §2.8)."""

    IN_PROGRESS = "IN_PROGRESS"
    PAID = "PAID"
    CANCELLED = "CANCELLED"
    SPAM = "SPAM"
    OTHER = "OTHER"


class MergeMode(StrEnum):
    """How an upload combines with stored records (spec §2.7)."""

    SAVE = "SAVE"
    UPDATE = "UPDATE"
    APPEND = "APPEND"


class UploadKind(StrEnum):
    """Every kind of file or body a CRM can send."""

    SIMPLE_ORDERS = "simple_orders"
    ORDERS = "orders"
    CONTACTS = "contacts"
    OFFLINE_CONVERSIONS = "offline_conversions"
    CALLS = "calls"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem found in one row (or the whole file when ``line`` is 0).

    ``line`` is the physical line in the file where the row starts (the header is
    line 1); for JSON bodies it is the 1-based index of the element in its array.
    ``column`` is the header name as written in the file (or the JSON key).
    """

    line: int
    column: str | None
    message: str
    code: str = "invalid_value"
    severity: Severity = Severity.ERROR

    def location(self, json_key: str | None = None) -> str:
        """``line 3, column id`` in a file; ``orders[2].id`` in a JSON body's ``orders``."""
        if json_key is not None:
            if not self.line:
                return json_key if self.column in (None, json_key) else self.column
            return f"{json_key}[{self.line - 1}]" + (f".{self.column}" if self.column else "")
        return f"line {self.line}" + (f", column {self.column}" if self.column else "")

    def describe(self, json_key: str | None = None) -> str:
        if json_key is not None:
            return f"{self.location(json_key)}: {self.message}"
        where = f"line {self.line}" if self.line else "file"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class OrderGoal:
    """One entry of an order's ``goals``: a JS goal identifier and its own price."""

    goal_action_id: str
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A CRM customer (ContactRow)."""

    uniq_id: str
    name: str | None = None
    create_date_time: datetime | None = None
    update_date_time: datetime | None = None
    client_ids: tuple[int, ...] | None = None
    emails: tuple[str, ...] | None = None
    phones: tuple[str, ...] | None = None
    emails_md5: tuple[str, ...] | None = None
    phones_md5: tuple[str, ...] | None = None
    birth_date: date | None = None
    user_comment: str | None = None
    attribute_values: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """A CRM order (OrderRow). ``order_status`` is the status id as sent."""

    id: str
    client_uniq_id: str
    create_date_time: datetime
    order_status: str
    client_type: str = "CONTACT"
    update_date_time: datetime | None = None
    finish_date_time: datetime | None = None
    revenue: Decimal | None = None
    cost: Decimal | None = None
    currency: str | None = None
    goals: tuple[OrderGoal, ...] | None = None
    products: tuple[tuple[str, int], ...] | None = None
    attribute_values: tuple[tuple[str, str], ...] | None = None
    user_comment: str | None = None


@dataclass(frozen=True, slots=True)
class SimpleOrder:
    """A row of the simplified customers+orders upload (spec §4.1, §4.13).

    ``id`` may be missing: the row then becomes a new order every time it is sent.
    ``order_status`` is ``None`` when the cell is empty; the service reads that as PAID.
    """

    create_date_time: datetime
    id: str | None = None
    client_uniq_id: str | None = None
    client_ids: tuple[int, ...] | None = None
    emails: tuple[str, ...] | None = None
    phones: tuple[str, ...] | None = None
    emails_md5: tuple[str, ...] | None = None
    phones_md5: tuple[str, ...] | None = None
    order_status: str | None = None
    revenue: Decimal | None = None
    cost: Decimal | None = None
    goals: tuple[OrderGoal, ...] | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class OrderStatus:
    """One entry of the order-status mapping (``schema/order_statuses``)."""

    id: str
    type: StatusType
    humanized: str | None = None
    goal_action_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OfflineConversion:
    """A row of an offline-conversions CSV (spec §7.2). ``date_time`` is UTC."""

    target: str
    date_time: datetime
    client_id: int | None = None
    user_id: str | None = None
    yclid: int | None = None
    purchase_id: str | None = None
    price: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """A row of a calls CSV (spec §7.7). ``date_time`` is UTC."""

    date_time: datetime
    client_id: int | None = None
    user_id: str | None = None
    yclid: int | None = None
    static_call: bool = False
    price: Decimal | None = None
    currency: str | None = None
    phone_number: str | None = None
    talk_duration: int | None = None
    hold_duration: int | None = None
    call_missed: bool | None = None
    tag: str | None = None
    first_time_caller: bool | None = None
    url: str | None = None
    call_tracker_url: str | None = None


@dataclass(frozen=True, slots=True)
class Uploading:
    """``UploadingMetaExternal``: what a CRM upload returns (spec §4.12)."""

    uploading_id: str
    datetime: datetime
    api_validation_status: str
    elements_count: int
    entity_type: str
    uploading_format: str
    uploading_source: str = "API"


class OfflineUploadingStatus(StrEnum):
    """Lifecycle of an offline-conversions uploading (spec §7.3)."""

    PREPARED = "PREPARED"
    UPLOADED = "UPLOADED"
    EXPORTED = "EXPORTED"
    MATCHED = "MATCHED"
    PROCESSED = "PROCESSED"
    LINKAGE_FAILURE = "LINKAGE_FAILURE"


@dataclass(frozen=True, slots=True)
class OfflineUploading:
    """``OfflineConversionUploading`` / ``OfflineCallsUploading`` (spec §7.3, §7.7)."""

    id: int
    create_time: datetime
    source_quantity: int
    line_quantity: int
    comment: str | None
    type: str
    client_id_type: str
    status: OfflineUploadingStatus
    linked_quantity: int = 0
    static_calls_quantity: int | None = None
    dynamic_calls_quantity: int | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    """A website visit as the emulator knows it (loaded through the control API)."""

    visit_id: int
    client_id: int
    start_time: datetime
    duration: int = 0
    traffic_source: str = "direct"
    source_detail: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    yclid: int | None = None
    user_id: str | None = None
    purchase_id: str | None = None
    device: str | None = None
    region: str | None = None
    email_md5: tuple[str, ...] = field(default=())
    phone_md5: tuple[str, ...] = field(default=())
