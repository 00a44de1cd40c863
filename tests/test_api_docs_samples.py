"""The docs' sample requests (spec §4.1-§4.6, §7.3) produce the documented responses."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.test_conformance_clients import CONVERSIONS, PURCHASE_GOAL, SIMPLE_ORDERS_SAMPLE

UPLOADING_FIELDS = {
    "uploading_id",
    "datetime",
    "api_validation_status",
    "elements_count",
    "entity_type",
    "uploading_format",
    "uploading_source",
}
OFFLINE_FIELDS = {
    "id",
    "create_time",
    "source_quantity",
    "line_quantity",
    "comment",
    "type",
    "client_id_type",
    "status",
}
STATUS_SAMPLE = {
    "order_statuses": [
        {"id": "new", "humanized": "Новый", "type": "IN_PROGRESS"},
        {"id": "paid", "humanized": "Оплачен", "type": "PAID"},
        {"id": "created", "humanized": "Создан", "type": "IN_PROGRESS"},
        {
            "id": "cancelled_by_shop",
            "humanized": "Отменен магазином",
            "type": "CANCELLED",
            "goal_action_ids": "otmena",
        },
        {"id": "test_order", "type": "SPAM", "goal_action_ids": "proverka"},
        {"id": "success", "type": "PAID"},
    ]
}
ORDERS_CSV = (
    "ИД,ИД клиента,Тип клиента,Статус,Дата создания,Сумма,Цели\n"
    "100,11,CONTACT,paid,2020-06-11 12:30:00,43089.54,goal_action_id_1:1000\n"
    "101,42,CONTACT,paid,2019-10-11 09:10:00,109999,goal_action_id_2\n"
    "102,42,CONTACT,created,2020-12-24 12:30:00,1004.17,goal_action_id_3\n"
)
ORDERS_MAPPING = (
    '"id":"ИД","client_uniq_id":"ИД клиента","client_type":"Тип клиента",'
    '"order_status":"Статус","create_date_time":"Дата создания","revenue":"Сумма","goals":"Цели"'
)
ORDERS_JSON = {
    "orders": [
        {
            "id": "704",
            "client_uniq_id": "J3QQ4-H7H2V-2HCH4-M3HK8-6M8VW",
            "client_type": "CONTACT",
            "order_status": "IN_PROGRESS",
            "create_date_time": "2022-09-21 09:48:23",
            "update_date_time": "2022-10-15 10:48:34",
            "cost": 4000,
            "revenue": 5000,
            "goals": [{"goal_action_id": "goal_id1", "price": 123.5}],
            "products": {"pear": 10, "apple": 30},
        },
        {
            "id": "706",
            "client_uniq_id": "ZYX4-H7H2V-2HCH4-M3HK8-6M8VW",
            "client_type": "CONTACT",
            "order_status": "PAID",
            "create_date_time": "2022-09-30 10:48:23",
            "cost": 10000,
            "revenue": 13000,
            "goals": [{"goal_action_id": "goal_id2", "price": 123.5}],
            "products": {"apple": 30, "cherry": 20},
        },
    ]
}
CONTACTS_JSON = {
    "contacts": [
        {
            "uniq_id": "J3QQ4-H7H2V-2HCH4-M3HK8-6M8VW",
            "name": "Иванов И.",
            "create_date_time": "2020-04-17 16:12:21",
            "update_date_time": "2020-04-17 16:12:21",
            "client_ids": ["12345678910", "10987654321"],
            "emails": ["exampl1@example.com", "example2@example.com"],
            "phones": ["78005553535", "73449932378"],
        },
        {
            "uniq_id": "ZYX4-H7H2V-2HCH4-M3HK8-6M8VW",
            "name": "Петрова М.",
            "create_date_time": "2020-05-17 16:13:21",
            "update_date_time": "2020-05-17 16:14:21",
            "client_ids": ["11223344556"],
        },
    ]
}
CONTACTS_CSV = "ID,Name,Email,Age\nc1,Иванов Иван,mail@yandex.ru,33\nc2,Петрова Мария,m@ya.ru,41\n"
CONTACTS_MAPPING = '"uniq_id":"ID","name":"Name","emails":"Email","age":"Age"'


@pytest.fixture
def api(metrica_emulator):
    metrica_emulator.clock.set(datetime.fromisoformat("2022-10-16T12:00:00+03:00"))
    return metrica_emulator


def cdp(api, path: str) -> str:
    return f"/cdp/api/v1/counter/{api.counter_id}{path}"


def check_uploading(response, count: int, fmt: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"uploading"}
    uploading = body["uploading"]
    assert set(uploading) == UPLOADING_FIELDS
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", uploading["datetime"])
    assert uploading["datetime"] == "2022-10-16 12:00:00"  # the counter's zone
    assert uploading["api_validation_status"] == "PASSED"
    assert (uploading["elements_count"], uploading["uploading_format"]) == (count, fmt)
    assert (uploading["entity_type"], uploading["uploading_source"]) == ("SYSTEM", "API")


def test_4_1_simple_orders(api):
    response = api.client.post(
        cdp(api, "/data/simple_orders"),
        params={"merge_mode": "SAVE", "delimiter_type": "COMMA"},
        files={"file": ("data.csv", SIMPLE_ORDERS_SAMPLE.encode(), "text/csv")},
    )
    check_uploading(response, 3, "CSV")


def test_4_6_status_mapping_sample_then_get(api):
    response = api.client.post(cdp(api, "/schema/order_statuses"), json=STATUS_SAMPLE)
    assert (response.status_code, response.json()) == (200, {"success": True})
    listed = api.client.get(cdp(api, "/schema/order_statuses")).json()["order_statuses"]
    by_id = {status["id"]: status for status in listed}
    assert by_id["cancelled_by_shop"]["goal_action_ids"] == ["otmena"]  # string → list (A10)
    assert by_id["new"] == {
        "id": "new",
        "type": "IN_PROGRESS",
        "humanized": "Новый",
        "goal_action_ids": [],
    }


def test_4_2_orders_csv_with_russian_headers_and_mapped_statuses(api):
    api.client.post(cdp(api, "/schema/order_statuses"), json=STATUS_SAMPLE)
    response = api.client.post(
        cdp(api, "/data/orders/csv"),
        params={"merge_mode": "SAVE", "columns_mapping": ORDERS_MAPPING},
        files={"file": ("data.csv", ORDERS_CSV.encode(), "text/csv")},
    )
    check_uploading(response, 3, "CSV")
    assert api.order("100")["status_type"] == "PAID"
    assert api.order("102")["status_type"] == "IN_PROGRESS"


def test_4_3_orders_json(api):
    response = api.client.post(cdp(api, "/data/orders/json?merge_mode=SAVE"), json=ORDERS_JSON)
    check_uploading(response, 2, "JSON")
    assert api.order("704")["order"]["revenue"] == "5000"


def test_4_4_contacts_csv_with_a_custom_attribute(api):
    attributes = {"attributes": [{"name": "age", "type_name": "numeric", "multivalued": False}]}
    created = api.client.post(
        cdp(api, "/schema/attributes"), params={"entity_type": "CONTACT"}, json=attributes
    )
    assert created.json() == {"success": True}
    response = api.client.post(
        cdp(api, "/data/contacts/csv"),
        params={"merge_mode": "SAVE", "columns_mapping": CONTACTS_MAPPING},
        files={"file": ("data.csv", CONTACTS_CSV.encode(), "text/csv")},
    )
    check_uploading(response, 2, "CSV")
    custom = api.client.get(cdp(api, "/schema/attributes"), params={"entity_type": "CONTACT"})
    assert [a["name"] for a in custom.json()["custom_attributes"]] == ["age"]


def test_4_5_contacts_json(api):
    response = api.client.post(
        cdp(api, "/data/contacts/json"), params={"merge_mode": "SAVE"}, json=CONTACTS_JSON
    )
    check_uploading(response, 2, "JSON")


def test_legacy_aliases_take_csv_or_json_by_content_type(api):
    api.client.post(cdp(api, "/schema/order_statuses"), json=STATUS_SAMPLE)
    as_json = api.client.post(cdp(api, "/data/contacts?merge_mode=SAVE"), json=CONTACTS_JSON)
    check_uploading(as_json, 2, "JSON")
    as_csv = api.client.post(
        cdp(api, "/data/orders"),
        params={"merge_mode": "SAVE", "columns_mapping": ORDERS_MAPPING},
        files={"file": ("data.csv", ORDERS_CSV.encode(), "text/csv")},
    )
    check_uploading(as_csv, 3, "CSV")


def test_last_uploadings_pages_backwards_newest_first(api):
    for _ in range(3):
        api.client.post(cdp(api, "/data/contacts/json?merge_mode=UPDATE"), json=CONTACTS_JSON)
        api.clock.advance(60)
    first = api.client.get(cdp(api, "/last_uploadings"), params={"limit": 2}).json()
    ids = [u["uploading_id"] for u in first["uploadings"]]
    assert ids == ["3", "2"]
    older = api.client.get(
        cdp(api, "/last_uploadings"),
        params={"limit": 2, "datetime_offset": first["uploadings"][-1]["datetime"]},
    ).json()
    assert [u["uploading_id"] for u in older["uploadings"]] == ["1"]


def test_7_3_offline_conversions_upload(api):
    api.put_counter(goals=[PURCHASE_GOAL])
    api.clock.set(datetime.fromisoformat("2024-03-20T12:00:00+03:00"))
    api.load_visits([{"visit_id": 5, "client_id": 777, "start_time": "2024-03-05T12:00:00+03:00"}])
    response = api.client.post(
        f"/management/v1/counter/{api.counter_id}/offline_conversions/upload",
        params={"comment": "March offline sales", "type": "BASIC"},
        files={"file": ("data.csv", CONVERSIONS.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    uploading = response.json()["uploading"]
    assert set(uploading) >= OFFLINE_FIELDS
    assert isinstance(uploading["id"], int)
    assert uploading["create_time"] == "2024-03-20T09:00:00Z"
    assert (uploading["source_quantity"], uploading["line_quantity"]) == (1, 1)
    assert (uploading["comment"], uploading["type"]) == ("March offline sales", "BASIC")
    assert (uploading["client_id_type"], uploading["status"]) == ("CLIENT_ID", "PROCESSED")
    by_id = api.client.get(
        f"/management/v1/counter/{api.counter_id}/offline_conversions/uploading/{uploading['id']}"
    )
    assert by_id.json() == {"uploading": uploading}


def test_calls_upload_creates_its_goal_and_lists_apart(api):
    api.clock.set(datetime.fromisoformat("2024-03-20T12:00:00+03:00"))
    api.load_visits([{"visit_id": 5, "client_id": 777, "start_time": "2024-03-05T12:00:00+03:00"}])
    calls = "ClientId,DateTime,StaticCall,Price\n777,1710061200,0,10\n777,1710061300,1,\n"
    base = f"/management/v1/counter/{api.counter_id}/offline_conversions"
    response = api.client.post(
        base + "/upload_calls",
        params={"new_goal_name": "Calls from the site", "client_id_type": "CLIENT_ID"},
        files={"file": ("calls.csv", calls.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text
    uploading = response.json()["uploading"]
    assert (uploading["static_calls_quantity"], uploading["dynamic_calls_quantity"]) == (1, 1)
    assert api.client.get(base + "/uploadings").json() == {"uploadings": []}
    listed = api.client.get(base + "/calls_uploadings").json()["uploadings"]
    assert [u["id"] for u in listed] == [uploading["id"]]
    goals = api.client.get(f"/management/v1/counter/{api.counter_id}/goals").json()["goals"]
    assert "Calls from the site" in [g["name"] for g in goals]
