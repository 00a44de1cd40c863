"""Writing then parsing any valid record gives it back, for every kind and both formats.

Records are generated inside the documented limits. Two things no format can carry are
left out on purpose: an empty list in CSV (an empty cell means "not sent") and a local time
that a DST change repeats (CRM date-times carry no offset, so the earlier one is read).
"""

import io
import json
import string
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from emulator.dates import zone
from emulator.domain import (
    Call,
    Contact,
    OfflineConversion,
    Order,
    OrderGoal,
    OrderStatus,
    SimpleOrder,
    StatusType,
    UploadKind,
)
from emulator.formats import (
    FormatOptions,
    UnknownColumns,
    parse_csv,
    parse_json,
    parse_status_mapping,
    status_mapping_to_json,
    to_json,
    write_csv,
)
from emulator.formats.currencies import ISO_4217
from emulator.formats.fields import SPECS
from emulator.formats.limits import MAX_INT32, MAX_MONEY

ZONES = [
    "Europe/Moscow",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "UTC",
]
NOW = datetime(2100, 1, 1, tzinfo=UTC)
ID_CHARS = string.ascii_letters + string.digits + "_:-"

texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)
ids = st.text(ID_CHARS, min_size=1, max_size=12)
money = st.decimals(min_value=0, max_value=MAX_MONEY, places=2, allow_nan=False)
client_ids = st.integers(1, 2**64 - 1)
emails = st.from_regex(r"[a-z0-9._-]{1,8}@[a-z0-9-]{1,8}\.[a-z]{2,4}", fullmatch=True)
phones = st.one_of(
    st.from_regex(r"7[0-9]{10}", fullmatch=True),
    st.from_regex(r"8 \([0-9]{3}\) [0-9]{3}-[0-9]{2}-[0-9]{2}", fullmatch=True),
)
md5s = st.from_regex(r"[0-9a-f]{32}", fullmatch=True)
currencies = st.sampled_from(sorted(ISO_4217))
goal_ids = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=10)


def maybe(strategy):
    return st.none() | strategy


def unique_list(strategy, max_size=4):
    return maybe(st.lists(strategy, min_size=1, max_size=max_size, unique=True).map(tuple))


goals = maybe(
    st.lists(st.builds(OrderGoal, goal_ids, maybe(money)), min_size=1, max_size=4).map(tuple)
)
products = maybe(
    st.dictionaries(
        st.text(string.ascii_letters + " _:", min_size=1, max_size=8).filter(
            lambda s: not s.endswith(":")
        ),
        st.integers(0, MAX_INT32),
        min_size=1,
        max_size=3,
    ).map(lambda d: tuple(d.items()))
)


def attributes(kind: UploadKind):
    reserved = {f.name for f in SPECS[kind].fields}
    names = st.text(ID_CHARS, min_size=1, max_size=8).filter(lambda n: n not in reserved)
    return maybe(
        st.dictionaries(names, texts, min_size=1, max_size=3).map(
            lambda d: tuple(sorted(d.items()))
        )
    )


@st.composite
def moments(draw, zone_name: str):
    """A whole-second instant in ``zone_name`` from 1970 on, not in a repeated local hour."""
    tz = zone(zone_name)
    seconds = draw(st.integers(86_400, 4_102_444_800))
    value = datetime.fromtimestamp(seconds, tz)
    wall = value.replace(tzinfo=None)
    assume(
        wall.replace(tzinfo=tz, fold=0).utcoffset() == wall.replace(tzinfo=tz, fold=1).utcoffset()
    )
    return value


@st.composite
def simple_orders(draw, zone_name):
    order = SimpleOrder(
        create_date_time=draw(moments(zone_name)),
        id=draw(maybe(texts)),
        client_uniq_id=draw(maybe(texts)),
        client_ids=draw(unique_list(client_ids)),
        emails=draw(unique_list(emails)),
        phones=draw(unique_list(phones)),
        emails_md5=draw(unique_list(md5s)),
        phones_md5=draw(unique_list(md5s)),
        order_status=draw(maybe(ids)),
        revenue=draw(maybe(money)),
        cost=draw(maybe(money)),
        goals=draw(goals),
        currency=draw(maybe(currencies)),
    )
    assume(order.client_ids or order.emails or order.phones or order.emails_md5 or order.phones_md5)
    return order


@st.composite
def orders(draw, zone_name):
    return Order(
        id=draw(texts),
        client_uniq_id=draw(texts),
        create_date_time=draw(moments(zone_name)),
        order_status=draw(ids),
        update_date_time=draw(maybe(moments(zone_name))),
        finish_date_time=draw(maybe(moments(zone_name))),
        revenue=draw(maybe(money)),
        cost=draw(maybe(money)),
        currency=draw(maybe(currencies)),
        goals=draw(goals),
        products=draw(products),
        attribute_values=draw(attributes(UploadKind.ORDERS)),
        user_comment=draw(maybe(texts)),
    )


@st.composite
def contacts(draw, zone_name):
    return Contact(
        uniq_id=draw(texts),
        name=draw(maybe(texts)),
        create_date_time=draw(maybe(moments(zone_name))),
        update_date_time=draw(maybe(moments(zone_name))),
        client_ids=draw(unique_list(client_ids)),
        emails=draw(unique_list(emails)),
        phones=draw(unique_list(phones)),
        emails_md5=draw(unique_list(md5s)),
        phones_md5=draw(unique_list(md5s)),
        birth_date=draw(maybe(st.dates(date(1970, 1, 1), date(2099, 12, 31)))),
        user_comment=draw(maybe(texts)),
        attribute_values=draw(attributes(UploadKind.CONTACTS)),
    )


unix_moments = st.integers(0, int(NOW.timestamp())).map(lambda s: datetime.fromtimestamp(s, UTC))


@st.composite
def offline_conversions(draw, zone_name):
    record = OfflineConversion(
        target=draw(texts),
        date_time=draw(unix_moments),
        client_id=draw(maybe(client_ids)),
        user_id=draw(maybe(texts)),
        yclid=draw(maybe(client_ids)),
        purchase_id=draw(maybe(texts)),
        price=draw(maybe(money)),
        currency=draw(maybe(currencies)),
    )
    assume(record.client_id or record.user_id or record.yclid or record.purchase_id)
    return record


@st.composite
def calls(draw, zone_name):
    flags = maybe(st.booleans())
    record = Call(
        date_time=draw(unix_moments),
        client_id=draw(maybe(client_ids)),
        user_id=draw(maybe(texts)),
        yclid=draw(maybe(client_ids)),
        static_call=draw(st.booleans()),
        price=draw(maybe(money)),
        currency=draw(maybe(currencies)),
        phone_number=draw(maybe(st.from_regex(r"\+?7[0-9]{10}", fullmatch=True))),
        talk_duration=draw(maybe(st.integers(0, MAX_INT32))),
        hold_duration=draw(maybe(st.integers(0, MAX_INT32))),
        call_missed=draw(flags),
        tag=draw(maybe(texts)),
        first_time_caller=draw(flags),
        url=draw(maybe(texts)),
        call_tracker_url=draw(maybe(texts)),
    )
    assume(record.client_id or record.user_id or record.yclid)
    return record


STRATEGIES = {
    UploadKind.SIMPLE_ORDERS: simple_orders,
    UploadKind.ORDERS: orders,
    UploadKind.CONTACTS: contacts,
    UploadKind.OFFLINE_CONVERSIONS: offline_conversions,
    UploadKind.CALLS: calls,
}
RUSSIAN = {"id": "ИД", "client_uniq_id": "ИД клиента", "order_status": "Статус", "goals": "Цели"}


@st.composite
def files(draw):
    kind = draw(st.sampled_from(sorted(STRATEGIES)))
    zone_name = draw(st.sampled_from(ZONES))
    records = draw(st.lists(STRATEGIES[kind](zone_name), min_size=1, max_size=5))
    mapping = RUSSIAN if kind is UploadKind.ORDERS and draw(st.booleans()) else None
    options = FormatOptions(
        time_zone=zone_name,
        delimiter=draw(st.sampled_from([",", ";"])),
        columns_mapping=mapping,
        now=NOW,
        unknown_columns=UnknownColumns.ATTRIBUTE,
    )
    return kind, records, options


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_csv_round_trip(case):
    kind, records, options = case
    stream = io.BytesIO()
    write_csv(kind, records, stream, options)
    result = parse_csv(kind, io.BytesIO(stream.getvalue()), options)
    assert result.errors == []
    assert result.records == records
    assert result.rows == len(records)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ZONES)
    .flatmap(lambda z: st.tuples(st.just(z), st.sampled_from([orders, contacts])))
    .flatmap(
        lambda pair: st.tuples(st.just(pair[0]), st.lists(pair[1](pair[0]), min_size=1, max_size=4))
    )
)
def test_json_round_trip(case):
    zone_name, records = case
    kind = UploadKind.ORDERS if isinstance(records[0], Order) else UploadKind.CONTACTS
    options = FormatOptions(time_zone=zone_name, now=NOW)
    body = json.dumps(to_json(kind, records, options), ensure_ascii=False).encode("utf-8")
    result = parse_json(kind, body, options)
    assert result.errors == []
    assert result.records == records
    assert result.lines == list(range(1, len(records) + 1))


statuses = st.builds(
    OrderStatus,
    ids,
    st.sampled_from(list(StatusType)),
    maybe(st.text(max_size=20)),
    st.lists(goal_ids, max_size=10, unique=True).map(tuple),
)


@given(st.lists(statuses, min_size=1, max_size=5, unique_by=lambda s: s.id))
def test_status_mapping_round_trip(mapping):
    assert parse_status_mapping(json.dumps(status_mapping_to_json(mapping))) == (mapping, [])


def test_a_text_stream_works_for_writing_too():
    order = SimpleOrder(datetime(2024, 1, 1, 12, tzinfo=zone("Europe/Moscow")), client_ids=(1,))
    stream = io.StringIO()
    write_csv(UploadKind.SIMPLE_ORDERS, [order], stream)
    assert stream.getvalue() == "create_date_time,client_ids\n2024-01-01 12:00:00,1\n"
    assert parse_csv(UploadKind.SIMPLE_ORDERS, io.BytesIO(stream.getvalue().encode())).records == [
        order
    ]


def test_moments_are_written_in_the_counter_zone():
    moment = datetime(2024, 1, 1, 9, tzinfo=UTC) + timedelta(0)
    order = SimpleOrder(moment, client_ids=(1,))
    stream = io.StringIO()
    write_csv(UploadKind.SIMPLE_ORDERS, [order], stream, FormatOptions(time_zone="Asia/Kolkata"))
    assert "2024-01-01 14:30:00" in stream.getvalue()
