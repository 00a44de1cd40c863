"""Every documented limit, just inside and just outside (spec §4.6, §4.11-§4.13, §7.2, §7.7)."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from emulator.domain import Severity, StatusType, UploadKind
from emulator.formats import (
    FormatOptions,
    UnknownColumns,
    delimiter_from_type,
    parse_columns_mapping,
    parse_csv,
    parse_json,
    parse_status_mapping,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)
BASE = {
    UploadKind.SIMPLE_ORDERS: {
        "id": "o1",
        "create_date_time": "29.02.2024 10:00",
        "client_ids": "1",
    },
    UploadKind.ORDERS: {
        "id": "o1",
        "client_uniq_id": "c1",
        "client_type": "CONTACT",
        "order_status": "PAID",
        "create_date_time": "2024-02-29 10:00:00",
    },
    UploadKind.CONTACTS: {"uniq_id": "c1"},
    UploadKind.OFFLINE_CONVERSIONS: {"ClientId": "1", "Target": "buy", "DateTime": "1709200000"},
    UploadKind.CALLS: {"ClientId": "1", "DateTime": "1709200000"},
}


def read(kind, **cells):
    row = BASE[kind] | cells
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(row)
    writer.writerow(row.values())
    return parse_csv(kind, io.BytesIO(text.getvalue().encode()), FormatOptions(now=NOW))


def verdict(kind, column, value):
    result = read(kind, **{column: value})
    return [(e.column, e.code) for e in result.errors]


def many(prefix, count, width=0):
    return ",".join(f"{prefix}{n:0{width}d}" for n in range(1, count + 1))


CASES = [
    # kind, column, value just inside, value just outside, error code outside
    (UploadKind.SIMPLE_ORDERS, "client_ids", many("", 500), many("", 501), "too_many_values"),
    (
        UploadKind.SIMPLE_ORDERS,
        "emails",
        many("m", 50).replace(",", "@x.ru,") + "@x.ru",
        many("m", 51).replace(",", "@x.ru,") + "@x.ru",
        "too_many_values",
    ),
    (
        UploadKind.SIMPLE_ORDERS,
        "phones",
        many("7999", 50, 7),
        many("7999", 51, 7),
        "too_many_values",
    ),
    (
        UploadKind.SIMPLE_ORDERS,
        "emails_md5",
        many("a" * 29, 50, 3),
        many("a" * 29, 51, 3),
        "too_many_values",
    ),
    (UploadKind.SIMPLE_ORDERS, "goals", many("g", 100), many("g", 101), "too_many_values"),
    (UploadKind.SIMPLE_ORDERS, "revenue", "9223372036854", "9223372036854.01", "invalid_number"),
    (UploadKind.SIMPLE_ORDERS, "cost", "0", "-1", "invalid_number"),
    (UploadKind.SIMPLE_ORDERS, "revenue", "12.5", "12,5", "invalid_number"),
    (UploadKind.SIMPLE_ORDERS, "goals", "g:9223372036854", "g:9223372036854.5", "invalid_number"),
    (UploadKind.SIMPLE_ORDERS, "goals", "g:1.5,a:b", "lead:", "invalid_number"),
    (UploadKind.SIMPLE_ORDERS, "currency", "EUR", "eur", "invalid_currency"),
    (UploadKind.SIMPLE_ORDERS, "id", "x" * 255, "x" * 256, "too_long"),
    (UploadKind.SIMPLE_ORDERS, "client_uniq_id", "y" * 255, "y" * 256, "too_long"),
    (UploadKind.SIMPLE_ORDERS, "order_status", "good_lead:2-b", "good lead", "invalid_value"),
    (UploadKind.SIMPLE_ORDERS, "order_status", "s" * 255, "s" * 256, "too_long"),
    (
        UploadKind.SIMPLE_ORDERS,
        "create_date_time",
        "01.01.1970 00:00",
        "31.12.1969 23:59",
        "invalid_date",
    ),
    (
        UploadKind.SIMPLE_ORDERS,
        "client_ids",
        "18446744073709551615",
        "18446744073709551616",
        "invalid_client_id",
    ),
    (UploadKind.SIMPLE_ORDERS, "client_ids", "1,2", "1,01", "duplicate_value"),
    (UploadKind.SIMPLE_ORDERS, "phones", "9995551111", "999555111", "invalid_phone"),
    (UploadKind.SIMPLE_ORDERS, "emails", "a@b.co", "a@b", "invalid_email"),
    (
        UploadKind.SIMPLE_ORDERS,
        "phones_md5",
        "F09F2C3D48F31E2A802944ADE2E5AEC5",
        "f09f2c3d48f31e2a802944ade2e5aec",
        "invalid_md5",
    ),
    (UploadKind.ORDERS, "user_comment", "c" * 1000, "c" * 1001, "too_long"),
    (UploadKind.ORDERS, "client_type", "CONTACT", "COMPANY", "invalid_value"),
    (
        UploadKind.ORDERS,
        "products",
        "Laptop TGDD12:1,pear:2147483647",
        "pear:2147483648",
        "invalid_number",
    ),
    (UploadKind.ORDERS, "products", "a:b:1", "pear", "invalid_product"),
    (UploadKind.ORDERS, "products", "pear:1,apple:1", "pear:1,pear:2", "duplicate_value"),
    (UploadKind.CONTACTS, "user_comment", "c" * 1000, "c" * 1001, "too_long"),
    (UploadKind.CONTACTS, "birth_date", "01.01.1970", "1969-12-31", "invalid_date"),
    (UploadKind.CONTACTS, "birth_date", "1990-05-01", "1990-05-01 10:00", "invalid_date"),
    (UploadKind.CONTACTS, "client_ids", many("", 500), many("", 501), "too_many_values"),
    (UploadKind.CONTACTS, "name", "n" * 255, "n" * 256, "too_long"),
    (UploadKind.OFFLINE_CONVERSIONS, "Target", "t" * 255, "t" * 256, "too_long"),
    (UploadKind.OFFLINE_CONVERSIONS, "Yclid", "18446744073709551615", "0", "invalid_value"),
    (UploadKind.OFFLINE_CONVERSIONS, "Price", "1500.50", "1 500", "invalid_number"),
    (UploadKind.OFFLINE_CONVERSIONS, "Currency", "RUB", "RUR", "invalid_currency"),
    (UploadKind.OFFLINE_CONVERSIONS, "DateTime", "1893456000", "1893456001", "future_date"),
    (UploadKind.CALLS, "StaticCall", "1", "2", "invalid_value"),
    (UploadKind.CALLS, "TalkDuration", "2147483647", "2147483648", "invalid_number"),
    (UploadKind.CALLS, "PhoneNumber", "+70123456789", "+7012345", "invalid_phone"),
    (UploadKind.CALLS, "URL", "u" * 2048, "u" * 2049, "too_long"),
]


@pytest.mark.parametrize(("kind", "column", "inside", "outside", "code"), CASES)
def test_limit_inside_and_outside(kind, column, inside, outside, code):
    assert verdict(kind, column, inside) == []
    assert (column, code) in verdict(kind, column, outside)


def test_a_phone_in_local_format_is_kept_as_sent_with_a_warning():
    result = read(UploadKind.SIMPLE_ORDERS, phones="8 (999) 555-11-11", emails="Mail@Example.com")
    assert result.ok and result.records[0].phones == ("8 (999) 555-11-11",)
    assert result.records[0].emails == ("Mail@Example.com",)
    assert {(w.code, w.severity) for w in result.warnings} == {
        ("phone_not_canonical", Severity.WARNING),
        ("email_not_canonical", Severity.WARNING),
    }


def test_md5_in_upper_case_is_lower_cased():
    result = read(UploadKind.SIMPLE_ORDERS, emails_md5="3C56FF8FEF0F6C65B36B2D25720FE276")
    assert result.records[0].emails_md5 == ("3c56ff8fef0f6c65b36b2d25720fe276",)


def test_a_goal_is_split_at_its_last_colon_only_before_a_number():
    goals = read(UploadKind.SIMPLE_ORDERS, goals="a:b:7,c:d,e").records[0].goals
    assert [(g.goal_action_id, g.price) for g in goals] == [("a:b", 7), ("c:d", None), ("e", None)]


@pytest.mark.parametrize(
    ("kind", "drop", "code"),
    [
        (UploadKind.ORDERS, "order_status", "missing_column"),
        (UploadKind.SIMPLE_ORDERS, "client_ids", "missing_column"),
        (UploadKind.OFFLINE_CONVERSIONS, "ClientId", "missing_column"),
        (UploadKind.CALLS, "DateTime", "missing_column"),
        (UploadKind.CONTACTS, "uniq_id", "missing_header"),
    ],
)
def test_required_and_identifier_columns(kind, drop, code):
    text = io.StringIO()
    row = {k: v for k, v in BASE[kind].items() if k != drop}
    csv.writer(text, lineterminator="\n").writerows([row, row.values()])
    (error, *_) = parse_csv(kind, io.BytesIO(text.getvalue().encode())).errors
    assert (error.line, error.code) == (1, code)


def test_empty_required_values_and_rows_without_identifiers():
    assert verdict(UploadKind.ORDERS, "order_status", "") == [("order_status", "missing_value")]
    assert verdict(UploadKind.SIMPLE_ORDERS, "client_ids", "") == [(None, "no_identifier")]
    assert verdict(UploadKind.OFFLINE_CONVERSIONS, "ClientId", "") == [(None, "no_identifier")]


def test_unknown_columns_follow_the_chosen_policy():
    text = b"uniq_id,age\nc1,34\n"
    warned = parse_csv(UploadKind.CONTACTS, io.BytesIO(text))
    assert warned.ok and warned.records[0].attribute_values is None
    assert [w.code for w in warned.warnings] == ["unknown_column"]
    kept = parse_csv(
        UploadKind.CONTACTS,
        io.BytesIO(text),
        FormatOptions(unknown_columns=UnknownColumns.ATTRIBUTE),
    )
    assert kept.records[0].attribute_values == (("age", "34"),) and kept.warnings == []
    refused = parse_csv(
        UploadKind.CONTACTS, io.BytesIO(text), FormatOptions(unknown_columns=UnknownColumns.ERROR)
    )
    assert [e.code for e in refused.errors] == ["unknown_column"]


def test_columns_mapping_text_and_delimiter_type():
    assert parse_columns_mapping('"id":"ИД", "revenue":"Сумма"') == {"id": "ИД", "revenue": "Сумма"}
    for garbage in ["", "id:ИД", '"id":"ИД";"x":"y"', '"id":"A","id":"B"', '"a":"H","b":"H"']:
        with pytest.raises(ValueError, match="columns_mapping"):
            parse_columns_mapping(garbage)
    assert (delimiter_from_type("COMMA"), delimiter_from_type("SEMICOLON")) == (",", ";")
    with pytest.raises(ValueError, match="COMMA or SEMICOLON"):
        delimiter_from_type("TAB")
    assert FormatOptions(delimiter="SEMICOLON").delimiter == ";"


def test_columns_mapping_is_refused_for_simple_orders():
    options = FormatOptions(columns_mapping={"id": "ИД"})
    result = parse_csv(
        UploadKind.SIMPLE_ORDERS,
        io.BytesIO(b"id,create_date_time,client_ids\n1,29.02.2024,1\n"),
        options,
    )
    assert [e.code for e in result.errors] == ["invalid_parameter"]


# -- JSON bodies ---------------------------------------------------------------------------

ORDER = BASE[UploadKind.ORDERS]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("[1, 2]", "invalid_json"),
        ('{"order": []}', "invalid_json"),
        ('{"orders": {}}', "invalid_json"),
        ('{"orders": []}', "no_rows"),
        ('{"orders": [1', "invalid_json"),
    ],
)
def test_json_bodies_of_the_wrong_shape(body, code):
    result = parse_json(UploadKind.ORDERS, body)
    assert [(e.line, e.code) for e in result.errors] == [(0, code)]


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("revenue", 5000, True),
        ("revenue", "5000.5", True),
        ("revenue", [5000], False),
        ("revenue", True, False),
        ("id", 704, True),
        ("products", {"pear": 10}, True),
        ("products", [["pear", 10]], False),
        ("goals", [{"goal_action_id": "g", "price": 1.5}], True),
        ("goals", [{"price": 1.5}], False),
        ("attribute_values", {"age": 5}, True),
        ("attribute_values", [["age", "5"], {"size": 41}], True),
        ("attribute_values", {"bad name": 1}, False),
    ],
)
def test_json_types_are_coerced_like_jackson_or_refused(field, value, ok):
    result = parse_json(UploadKind.ORDERS, {"orders": [ORDER | {field: value}]})
    assert result.ok is ok
    if not ok:
        assert result.errors[0].line == 1 and result.errors[0].column == field


def test_json_client_ids_as_strings_or_integers():
    body = {"contacts": [{"uniq_id": "c1", "client_ids": ["12345678910", 10987654321]}]}
    assert parse_json(UploadKind.CONTACTS, body).records[0].client_ids == (12345678910, 10987654321)


def test_json_missing_required_key_names_the_element():
    result = parse_json(
        UploadKind.ORDERS, {"orders": [ORDER, {k: v for k, v in ORDER.items() if k != "id"}]}
    )
    assert [(e.line, e.column, e.code) for e in result.errors] == [(2, "id", "missing_value")]
    assert result.lines == [1]


# -- status mapping ------------------------------------------------------------------------


def statuses(*items):
    return parse_status_mapping(json.dumps({"order_statuses": list(items)}))


@pytest.mark.parametrize(
    ("inside", "outside"),
    [
        ({"id": "s" * 255, "type": "PAID"}, {"id": "s" * 256, "type": "PAID"}),
        ({"id": "a-b:c_1", "type": "PAID"}, {"id": "a b", "type": "PAID"}),
        (
            {"id": "x", "type": "OTHER", "humanized": "h" * 4096},
            {"id": "x", "type": "OTHER", "humanized": "h" * 4097},
        ),
        (
            {"id": "x", "type": "SPAM", "goal_action_ids": [f"g{n}" for n in range(10)]},
            {"id": "x", "type": "SPAM", "goal_action_ids": [f"g{n}" for n in range(11)]},
        ),
        (
            {"id": "x", "type": "SPAM", "goal_action_ids": ["a", "b"]},
            {"id": "x", "type": "SPAM", "goal_action_ids": ["a", "a"]},
        ),
        ({"id": "x", "type": "CANCELED"}, {"id": "x", "type": "DELETED"}),
    ],
)
def test_status_limits(inside, outside):
    assert statuses(inside)[1] == []
    valid, (error,) = statuses(outside)
    assert valid == [] and error.line == 1


def test_canceled_is_read_as_cancelled_and_an_id_twice_is_an_error():
    valid, errors = statuses({"id": "a", "type": "CANCELED"}, {"id": "a", "type": "PAID"})
    assert [s.type for s in valid] == [StatusType.CANCELLED]
    assert [(e.line, e.code) for e in errors] == [(2, "duplicate_value")]
