"""The docs' own samples parse to the meaning the docs give them (spec §4.1-§4.6, §7.2, §7.7)."""

from datetime import UTC, datetime
from decimal import Decimal
from importlib.resources import files

import pytest

from emulator.dates import EndOfDay, zone
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
    parse_columns_mapping,
    parse_csv,
    parse_json,
    parse_status_mapping,
)

MSK = zone("Europe/Moscow")
SAMPLES = files("emulator") / "samples"
RUSSIAN = (
    '"id":"ИД","client_uniq_id":"ИД клиента","client_type":"Тип клиента",'
    '"order_status":"Статус","create_date_time":"Дата создания","revenue":"Сумма","goals":"Цели"'
)


def sample(name: str):
    return SAMPLES / name


def parsed(kind, name, **options):
    with sample(name).open("rb") as stream:
        result = parse_csv(kind, stream, FormatOptions(**options))
    assert result.ok, [e.describe() for e in result.errors]
    return result


def test_simple_orders_sample_of_section_4_1():
    result = parsed(UploadKind.SIMPLE_ORDERS, "simple_orders.csv")
    first, second, third = result.records
    assert first == SimpleOrder(
        id="s_ord1",
        create_date_time=datetime(2024, 1, 10, 11, 56, tzinfo=MSK),
        client_uniq_id="s_user1",
        emails=("mail@example.com", "mail2@example.com"),
        order_status="PAID",
        revenue=Decimal(200),
        cost=Decimal(150),
        goals=(OrderGoal("oplata_cash", Decimal(200)), OrderGoal("filial_1")),
    )
    # No status: None here, which the engine reads as PAID; currency EUR.
    assert second.id == "s_ord2" and second.order_status is None and second.currency == "EUR"
    assert second.client_ids == (12345,) and second.emails == ("mail3@example.com",)
    # No id; a date without a time is the end of that day, 23:59 (Metrica's docs).
    assert third.id is None
    assert third.create_date_time == datetime(2024, 2, 12, 23, 59, tzinfo=MSK)
    assert third.phones == ("79876543210",) and third.client_ids == (34456,)
    assert third.order_status == "SPAM" and third.goals == (OrderGoal("plohoy_lead"),)
    assert third.revenue is None and third.currency is None
    assert result.lines == [2, 3, 4] and result.rows == 3


def test_date_only_can_mean_23_59_59_as_direct_says():
    result = parsed(UploadKind.SIMPLE_ORDERS, "simple_orders.csv", end_of_day=EndOfDay.DIRECT)
    assert result.records[2].create_date_time == datetime(2024, 2, 12, 23, 59, 59, tzinfo=MSK)


def test_orders_csv_with_the_russian_headers_of_section_4_2():
    result = parsed(
        UploadKind.ORDERS, "orders_ru.csv", columns_mapping=parse_columns_mapping(RUSSIAN)
    )
    assert [o.id for o in result.records] == ["100", "101", "102"]
    first = result.records[0]
    assert first == Order(
        id="100",
        client_uniq_id="11",
        create_date_time=datetime(2020, 6, 11, 12, 30, tzinfo=MSK),
        order_status="paid",
        revenue=Decimal("43089.54"),
        goals=(OrderGoal("goal_action_id_1", Decimal(1000)),),
    )
    assert result.records[2].order_status == "created"
    assert result.records[1].goals == (OrderGoal("goal_action_id_2"),)


def test_errors_name_the_russian_header_as_written():
    mapping = parse_columns_mapping(RUSSIAN)
    text = "ИД,ИД клиента,Тип клиента,Статус,Дата создания\n100,11,CONTACT,paid,31.02.2020\n"
    result = parse_csv(UploadKind.ORDERS, _bytes(text), FormatOptions(columns_mapping=mapping))
    (error,) = result.errors
    assert (error.line, error.column, error.code) == (2, "Дата создания", "invalid_date")


def test_contacts_csv_keeps_a_mapped_custom_attribute():
    mapping = parse_columns_mapping('"uniq_id":"ID","name":"Name","emails":"Email","age":"Age"')
    result = parsed(UploadKind.CONTACTS, "contacts.csv", columns_mapping=mapping)
    first, second = result.records
    assert first == Contact(
        uniq_id="11",
        name="Иванов И.",
        emails=("ivanov@example.com",),
        attribute_values=(("age", "34"),),
    )
    assert second.emails == ("petrova@example.com", "m.petrova@example.org")


def test_orders_json_sample_of_section_4_3():
    result = parse_json(UploadKind.ORDERS, sample("orders.json").read_bytes())
    assert result.ok and result.lines == [1, 2]
    first, second = result.records
    assert first == Order(
        id="704",
        client_uniq_id="J3QQ4-H7H2V-2HCH4-M3HK8-6M8VW",
        create_date_time=datetime(2022, 9, 21, 9, 48, 23, tzinfo=MSK),
        order_status="IN_PROGRESS",
        update_date_time=datetime(2022, 10, 15, 10, 48, 34, tzinfo=MSK),
        revenue=Decimal(5000),
        cost=Decimal(4000),
        goals=(OrderGoal("goal_id1", Decimal("123.5")),),
        products=(("pear", 10), ("apple", 30)),
    )
    assert second.order_status == "PAID" and second.update_date_time is None
    assert second.products == (("apple", 30), ("cherry", 20))


def test_contacts_json_sample_of_section_4_5_with_string_client_ids():
    result = parse_json(UploadKind.CONTACTS, sample("contacts.json").read_bytes())
    assert result.ok
    first, second = result.records
    assert first.client_ids == (12345678910, 10987654321)
    assert first.emails == ("exampl1@example.com", "example2@example.com")
    assert first.phones == ("78005553535", "73449932378")
    assert first.create_date_time == datetime(2020, 4, 17, 16, 12, 21, tzinfo=MSK)
    assert second == Contact(
        uniq_id="ZYX4-H7H2V-2HCH4-M3HK8-6M8VW",
        name="Петрова М.",
        create_date_time=datetime(2020, 5, 17, 16, 13, 21, tzinfo=MSK),
        update_date_time=datetime(2020, 5, 17, 16, 14, 21, tzinfo=MSK),
        client_ids=(11223344556,),
    )


def test_status_mapping_sample_of_section_4_6_with_string_goal_action_ids():
    statuses, errors = parse_status_mapping(sample("order_statuses.json").read_bytes())
    assert errors == []
    assert statuses == [
        OrderStatus("new", StatusType.IN_PROGRESS, "Новый"),
        OrderStatus("cancelled_by_shop", StatusType.CANCELLED, "Отменён магазином", ("otmena",)),
        OrderStatus("test_order", StatusType.SPAM, None, ("proverka",)),
        OrderStatus("success", StatusType.PAID),
    ]


def test_the_docs_status_sample_with_its_missing_comma_is_a_clear_json_error():
    body = '{"order_statuses":[{"id":"x","type":"SPAM"\n "goal_action_ids":"proverka"}]}'
    statuses, (error,) = parse_status_mapping(body)
    assert statuses == [] and error.code == "invalid_json"
    assert "line 2" in error.message and "delimiter" in error.message


def test_offline_conversions_sample_has_one_row_per_identifier():
    result = parsed(UploadKind.OFFLINE_CONVERSIONS, "offline_conversions.csv", now=_utc(2024, 3, 2))
    first, second, third, fourth = result.records
    assert first == OfflineConversion(
        target="offline_purchase",
        date_time=_utc(2024, 3, 1, 8),
        client_id=1551977723718998723,
        price=Decimal("1500.50"),
        currency="RUB",
    )
    assert second.user_id == "crm-user-17" and third.yclid == 6203845720938485761
    assert fourth.purchase_id == "ORD-2024-0042" and fourth.currency == "EUR"


def test_calls_sample_reads_flags_and_durations():
    result = parsed(UploadKind.CALLS, "calls.csv", now=_utc(2024, 3, 2))
    dynamic, static = result.records
    assert dynamic == Call(
        date_time=_utc(2024, 3, 1, 8),
        client_id=1551977723718998723,
        static_call=False,
        price=Decimal(500),
        currency="RUB",
        phone_number="+70123456789",
        talk_duration=135,
        hold_duration=12,
        call_missed=False,
        tag="sales",
        first_time_caller=True,
        url="https://example.com/contacts",
        call_tracker_url="https://tracker.example.net/call/1",
    )
    assert static.static_call is True and static.call_missed is True and static.price is None


@pytest.mark.parametrize("name", ["simple_orders.csv", "offline_conversions.csv", "calls.csv"])
def test_every_bundled_csv_sample_has_no_warning_either(name):
    kind = {"simple": UploadKind.SIMPLE_ORDERS, "offline": UploadKind.OFFLINE_CONVERSIONS}.get(
        name.split("_")[0], UploadKind.CALLS
    )
    assert parsed(kind, name, now=_utc(2024, 3, 2)).warnings == []


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _bytes(text: str):
    import io

    return io.BytesIO(text.encode("utf-8"))
