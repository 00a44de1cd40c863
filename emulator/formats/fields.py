"""The fields of every upload kind: names, CSV headers, rules, and what is required.

One table per kind, read by the CSV and JSON readers, the validator, the record builder,
the writers and ``check``, so a field's rule is stated once. Sources: spec §4.1 and §4.13
(simple orders), §4.12 (orders), §4.11 (contacts), §7.2 (offline conversions), §7.7 (calls).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from emulator.domain import Call, Contact, OfflineConversion, Order, SimpleOrder, UploadKind
from emulator.formats.cellrules import (
    CallPhoneRule,
    ClientIdRule,
    CurrencyRule,
    FlagRule,
    IntRule,
    MoneyRule,
    TextRule,
    YclidRule,
)
from emulator.formats.cells import Rule
from emulator.formats.daterules import DateRule, DateTimeRule, UnixTimeRule
from emulator.formats.limits import (
    ID_PATTERN,
    ID_PATTERN_HELP,
    MAX_CLIENT_IDS,
    MAX_CONTACT_VALUES,
    MAX_GOALS,
    MAX_STATUS_ID,
    MAX_URL_LENGTH,
    MAX_USER_COMMENT,
)
from emulator.formats.listrules import GoalsRule, IdentifierListRule, ProductsRule
from emulator.formats.videntity import check_client_ids, check_emails, check_md5s, check_phones


@dataclass(frozen=True)
class Field:
    """One field: ``name`` is the record attribute and JSON key, ``header`` the CSV column."""

    name: str
    rule: Rule
    required: bool = False
    header: str | None = None

    @property
    def column(self) -> str:
        return self.header or self.name


@dataclass(frozen=True)
class KindSpec:
    """Everything the codecs and ``check`` need to know about one upload kind.

    - ``identifiers``: a row needs a value in at least one of these fields (and the header
      at least one of these columns);
    - ``json_key``: the array's key in a JSON body (only orders and contacts have JSON);
    - ``mapping``: whether ``columns_mapping`` applies (orders and contacts CSV, spec §4.2);
    - ``attributes``: whether records keep custom attributes (``attribute_values``);
    - ``id_fields``: the key whose repetition ``check`` reports (rows with one key are
      applied in random order, spec §2.7); ``customer_field``: whose orders are counted
      against the 100,000 cap; ``date_field``: what the 21-day window is measured on.
    """

    kind: UploadKind
    record: type
    fields: tuple[Field, ...]
    identifiers: tuple[str, ...] = ()
    json_key: str | None = None
    mapping: bool = False
    attributes: bool = False
    id_fields: tuple[str, ...] = ()
    customer_field: str | None = None
    date_field: str | None = None
    client_id_field: str | None = None

    def field(self, name: str) -> Field:
        return self.by_name[name]

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


ID = TextRule()
STATUS = TextRule(MAX_STATUS_ID, ID_PATTERN, ID_PATTERN_HELP)
DATETIME = DateTimeRule()
MONEY = MoneyRule()
CURRENCY = CurrencyRule()
COMMENT = TextRule(MAX_USER_COMMENT)
CLIENT_IDS = IdentifierListRule(
    lambda items, ctx: check_client_ids(items), MAX_CLIENT_IDS, "ClientID", "invalid_client_id"
)
EMAILS = IdentifierListRule(
    lambda items, ctx: check_emails(items),
    MAX_CONTACT_VALUES,
    "e-mail",
    "invalid_email",
    "email_not_canonical",
)
PHONES = IdentifierListRule(
    lambda items, ctx: check_phones(items, ctx.options.default_country_code),
    MAX_CONTACT_VALUES,
    "phone",
    "invalid_phone",
    "phone_not_canonical",
)
MD5S = IdentifierListRule(
    lambda items, ctx: check_md5s(items), MAX_CONTACT_VALUES, "MD5 hash", "invalid_md5"
)

_CONTACT_IDS = (
    Field("client_ids", CLIENT_IDS),
    Field("emails", EMAILS),
    Field("phones", PHONES),
    Field("emails_md5", MD5S),
    Field("phones_md5", MD5S),
)

SIMPLE_ORDERS = KindSpec(
    UploadKind.SIMPLE_ORDERS,
    SimpleOrder,
    (
        Field("id", ID),
        Field("create_date_time", DATETIME, required=True),
        Field("client_uniq_id", ID),
        *_CONTACT_IDS[:3],
        Field("order_status", STATUS),
        Field("revenue", MONEY),
        Field("cost", MONEY),
        Field("goals", GoalsRule(MAX_GOALS)),
        Field("currency", CURRENCY),
        *_CONTACT_IDS[3:],
    ),
    identifiers=tuple(f.name for f in _CONTACT_IDS),
    id_fields=("id",),
    customer_field="client_uniq_id",
    date_field="create_date_time",
    client_id_field="client_ids",
)

ORDERS = KindSpec(
    UploadKind.ORDERS,
    Order,
    (
        Field("id", ID, required=True),
        Field("client_uniq_id", ID, required=True),
        Field("client_type", TextRule(choices=("CONTACT",)), required=True),
        Field("order_status", STATUS, required=True),
        Field("create_date_time", DATETIME, required=True),
        Field("update_date_time", DATETIME),
        Field("finish_date_time", DATETIME),
        Field("revenue", MONEY),
        Field("cost", MONEY),
        Field("currency", CURRENCY),
        Field("goals", GoalsRule(MAX_GOALS)),
        Field("products", ProductsRule()),
        Field("user_comment", COMMENT),
    ),
    json_key="orders",
    mapping=True,
    attributes=True,
    id_fields=("id",),
    customer_field="client_uniq_id",
    date_field="create_date_time",
)

CONTACTS = KindSpec(
    UploadKind.CONTACTS,
    Contact,
    (
        Field("uniq_id", ID, required=True),
        Field("name", TextRule()),
        Field("create_date_time", DATETIME),
        Field("update_date_time", DATETIME),
        *_CONTACT_IDS,
        Field("birth_date", DateRule()),
        Field("user_comment", COMMENT),
    ),
    json_key="contacts",
    mapping=True,
    attributes=True,
    id_fields=("uniq_id",),
    client_id_field="client_ids",
)

_VISITOR_IDS = (
    Field("client_id", ClientIdRule(), header="ClientId"),
    Field("user_id", ID, header="UserId"),
    Field("yclid", YclidRule(), header="Yclid"),
)

OFFLINE_CONVERSIONS = KindSpec(
    UploadKind.OFFLINE_CONVERSIONS,
    OfflineConversion,
    (
        *_VISITOR_IDS,
        Field("purchase_id", ID, header="PurchaseId"),
        Field("target", ID, required=True, header="Target"),
        Field("date_time", UnixTimeRule(), required=True, header="DateTime"),
        Field("price", MONEY, header="Price"),
        Field("currency", CURRENCY, header="Currency"),
    ),
    identifiers=("client_id", "user_id", "yclid", "purchase_id"),
    id_fields=("client_id", "user_id", "yclid", "purchase_id", "target", "date_time"),
    date_field="date_time",
)

CALLS = KindSpec(
    UploadKind.CALLS,
    Call,
    (
        *_VISITOR_IDS,
        Field("date_time", UnixTimeRule(), required=True, header="DateTime"),
        Field("static_call", FlagRule(), header="StaticCall"),
        Field("price", MONEY, header="Price"),
        Field("currency", CURRENCY, header="Currency"),
        Field("phone_number", CallPhoneRule(), header="PhoneNumber"),
        Field("talk_duration", IntRule(), header="TalkDuration"),
        Field("hold_duration", IntRule(), header="HoldDuration"),
        Field("call_missed", FlagRule(), header="CallMissed"),
        Field("tag", ID, header="Tag"),
        Field("first_time_caller", FlagRule(), header="FirstTimeCaller"),
        Field("url", TextRule(MAX_URL_LENGTH), header="URL"),
        Field("call_tracker_url", TextRule(MAX_URL_LENGTH), header="CallTrackerURL"),
    ),
    identifiers=("client_id", "user_id", "yclid"),
    id_fields=("client_id", "user_id", "yclid", "date_time"),
    date_field="date_time",
)

SPECS = {spec.kind: spec for spec in (SIMPLE_ORDERS, ORDERS, CONTACTS, OFFLINE_CONVERSIONS, CALLS)}
