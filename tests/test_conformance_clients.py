"""Real third-party clients against a live emulator on loopback, as integrators use them.

Each client is pointed at the emulator by swapping only its base URL (issue 4 acceptance),
and each test checks the decision that follows the upload, not just a 200.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import requests
from tapi2 import generate_wrapper_from_adapter
from tapi_yandex_metrika.tapi_yandex_metrika import (
    YandexMetrikaManagementClientAdapter,
    YandexMetrikaStatsClientAdapter,
)
from yametrikapy import Metrika

from emulator.identity import md5_hex

PURCHASE_GOAL = {"id": 301, "name": "Offline purchase", "identifier": "purchase"}
MARCH_VISITS = [
    {"visit_id": 1, "client_id": 777, "start_time": "2024-03-01T12:00:00+03:00"},
    {
        "visit_id": 5,
        "client_id": 777,
        "start_time": "2024-03-05T12:00:00+03:00",
        "traffic_source": "ad",
        "source_detail": "Yandex Direct",
        "utm_source": "yandex",
    },
    {
        "visit_id": 11,
        "client_id": 777,
        "start_time": "2024-03-11T12:00:00+03:00",
        "traffic_source": "organic",
    },
]
PURCHASE_AT = int(datetime(2024, 3, 10, 9, tzinfo=UTC).timestamp())
CONVERSIONS = f"ClientId,Target,DateTime,Price,Currency\n777,purchase,{PURCHASE_AT},1500.50,RUB\n"


@pytest.fixture
def march(metrica_emulator):
    """The docs' offline example: visits on 1, 5, 11 March, a purchase on 10 March, uploaded
    on 20 March (https://yandex.ru/dev/metrika/en/management/offline-conv)."""
    metrica_emulator.put_counter(goals=[PURCHASE_GOAL])
    metrica_emulator.clock.set(datetime.fromisoformat("2024-03-20T12:00:00+03:00"))
    assert metrica_emulator.load_visits(MARCH_VISITS) == 3
    return metrica_emulator


def linked_rows(emulator, uploading_id: int) -> list[tuple[int | None, str]]:
    path = f"/_emulator/counters/{emulator.counter_id}/offline_conversions/{uploading_id}/rows"
    return [(row["visit_id"], row["code"]) for row in emulator.client.get(path).json()["rows"]]


def purchase_reaches(emulator) -> list[tuple[int, str]]:
    return [
        (reach["visit_id"], reach["revenue"])
        for reach in emulator.goal_reaches()
        if reach["goal_id"] == PURCHASE_GOAL["id"]
    ]


def test_yametrikapy_uploads_offline_conversions(march):
    metrika = Metrika("emulated-app", token=march.token)
    metrika.HOST = march.base_url + "/"  # the only change an integrator makes
    uploading = metrika.upload_offline_conversions(
        march.counter_id, io.StringIO(CONVERSIONS), "CLIENT_ID", comment="March"
    ).uploading
    assert uploading["status"] == "PROCESSED"
    assert (uploading["client_id_type"], uploading["line_quantity"]) == ("CLIENT_ID", 1)
    listed = metrika.offline_conversions_uploadings(march.counter_id).uploadings
    assert [u["id"] for u in listed] == [uploading["id"]]
    again = metrika.offline_conversions_uploading(march.counter_id, uploading["id"]).uploading
    assert again["status"] == "PROCESSED"
    # The decision: linked to the 5 March visit, the last one before the purchase.
    assert linked_rows(march, uploading["id"]) == [(5, "LINKED")]
    assert purchase_reaches(march) == [(5, "1500.50")]
    # Legacy switches the SDK also drives.
    assert metrika.on_extended_threshold(march.counter_id).success is True
    assert metrika.counter(march.counter_id).counter["offline_options"][
        "offline_conversion_extend_post_click_period"
    ]
    assert metrika.off_extended_threshold(march.counter_id).success is True


def test_yametrikapy_reads_the_report_of_the_linked_conversion(march):
    metrika = Metrika("emulated-app", token=march.token)
    metrika.HOST = march.base_url + "/"
    metrika.upload_offline_conversions(march.counter_id, io.StringIO(CONVERSIONS), "CLIENT_ID")
    report = metrika.stat_data(
        march.counter_id,
        "ym:s:visits,ym:s:goal301reaches,ym:s:goal301revenue",
        dimensions="ym:s:lastTrafficSource",
        date1="2024-03-01",
        date2="2024-03-20",
    )
    rows = {row["dimensions"][0]["id"]: row["metrics"] for row in report.data}
    assert rows == {"direct": [1.0, 0.0, 0.0], "ad": [1.0, 1.0, 1500.5], "organic": [1.0, 0.0, 0.0]}


class EmulatedManagement(YandexMetrikaManagementClientAdapter):
    """tapi-yandex-metrika fixes its API root; an integrator overrides that one method."""

    def get_api_root(self, api_params, resource_name):
        return api_params["base_url"] + "/"


class EmulatedStats(YandexMetrikaStatsClientAdapter):
    def get_api_root(self, api_params, resource_name):
        return api_params["base_url"] + "/"


Management = generate_wrapper_from_adapter(EmulatedManagement)
Stats = generate_wrapper_from_adapter(EmulatedStats)


def test_tapi_yandex_metrika_reads_goals_and_uploads_offline_conversions(march):
    client = Management(
        access_token=march.token,
        base_url=march.base_url,
        default_url_params={"counterId": march.counter_id},
    )
    goals = client.goals().get().data["goals"]
    assert [(g["id"], g["conditions"][0]["url"]) for g in goals] == [(301, "purchase")]
    uploaded = client.offline_conversions_upload().post(
        params={"client_id_type": "CLIENT_ID", "comment": "tapi"},
        files={"file": ("conversions.csv", CONVERSIONS.encode(), "text/csv")},
        # The adapter labels every request JSON; a multipart upload needs its own type.
        headers={"Content-Type": None},
    )
    uploading = uploaded.data["uploading"]
    assert (uploading["status"], uploading["comment"]) == ("PROCESSED", "tapi")
    assert linked_rows(march, uploading["id"]) == [(5, "LINKED")]
    assert purchase_reaches(march) == [(5, "1500.50")]
    found = client.offline_conversions_uploading(id=uploading["id"]).get().data["uploading"]
    assert found["line_quantity"] == 1


def test_tapi_yandex_metrika_sees_crm_goals_and_reads_the_report(march):
    client = Management(
        access_token=march.token,
        base_url=march.base_url,
        default_url_params={"counterId": march.counter_id},
    )
    simple = (
        b"id,create_date_time,client_ids,order_status,revenue\nA1,10.03.2024 12:00,777,PAID,900\n"
    )
    response = requests.post(
        f"{march.base_url}/cdp/api/v1/counter/{march.counter_id}/data/simple_orders",
        params={"merge_mode": "SAVE"},
        headers={"Authorization": f"OAuth {march.token}"},
        files={"file": simple},
    )
    assert response.status_code == 200
    names = [goal["name"] for goal in client.goals().get().data["goals"]]
    assert {"CRM: Order created", "CRM: Order paid"} <= set(names)
    stats = Stats(access_token=march.token, base_url=march.base_url)
    report = stats.stats().get(
        params={
            "ids": march.counter_id,
            "metrics": "ym:s:cdpOrdersAllOrders,ym:s:cdpOrders<currency>Revenue",
            "dimensions": "ym:s:<attribution>UTMSource",
            "attribution": "last",
            "date1": "2024-03-01",
            "date2": "2024-03-20",
        }
    )
    assert report().to_dicts() == [
        {
            "ym:s:<attribution>UTMSource": "yandex",
            "ym:s:cdpOrdersAllOrders": 1.0,
            "ym:s:cdpOrders<currency>Revenue": 900.0,
        },
        {
            "ym:s:<attribution>UTMSource": None,
            "ym:s:cdpOrdersAllOrders": 0.0,
            "ym:s:cdpOrders<currency>Revenue": 0.0,
        },
    ]


SIMPLE_ORDERS_SAMPLE = (
    "id,create_date_time,client_uniq_id,client_ids,emails,phones,order_status,revenue,cost,goals,currency\n"
    's_ord1,10.01.2024 11:56,s_user1,,"mail@example.com,mail2@example.com",,PAID,200,150,"oplata_cash:200,filial_1",\n'  # noqa: E501
    "s_ord2,20.01.2024 11:59,,12345,mail3@example.com,,,200,150,,EUR\n"
    ",12.02.2024,,34456,,79876543210,SPAM,,,plohoy_lead,\n"
)
SAMPLE_GOALS = [
    {"id": 11, "name": "Cash", "identifier": "oplata_cash"},
    {"id": 12, "name": "Branch 1", "identifier": "filial_1"},
    {"id": 13, "name": "Bad lead", "identifier": "plohoy_lead"},
]


def test_requests_sends_simple_orders_as_the_docs_python_sample(metrica_emulator):
    """https://yandex.ru/dev/metrika/en/management/openapi/schema/uploadSimpleOrders: the
    sample posts ``files={"file": content}`` with ``Authorization: OAuth <token>``."""
    emulator = metrica_emulator
    emulator.put_counter(goals=SAMPLE_GOALS, rules={"spam_goal": False})
    emulator.clock.set(datetime.fromisoformat("2024-01-25T12:00:00+03:00"))
    emulator.load_visits(
        [
            {
                "visit_id": 1,
                "client_id": 500,
                "start_time": "2024-01-09T10:00:00+03:00",
                "email_md5": [md5_hex("mail@example.com")],
            },
            {"visit_id": 2, "client_id": 12345, "start_time": "2024-01-19T10:00:00+03:00"},
            {"visit_id": 3, "client_id": 34456, "start_time": "2024-01-24T10:00:00+03:00"},
        ]
    )
    url = (
        f"{emulator.base_url}/cdp/api/v1/counter/{emulator.counter_id}"
        "/data/simple_orders?merge_mode=SAVE&delimiter_type=COMMA"
    )
    content = SIMPLE_ORDERS_SAMPLE.encode()
    response = requests.post(
        url, headers={"Authorization": f"OAuth {emulator.token}"}, files={"file": content}
    )
    assert response.status_code == 200, response.text
    uploading = response.json()["uploading"]
    assert (uploading["api_validation_status"], uploading["elements_count"]) == ("PASSED", 3)
    assert emulator.order("s_ord1")["linked_visit_id"] == 1  # by the hashed e-mail
    second = emulator.order("s_ord2")
    assert second["status_type"] == "PAID"  # no status → PAID
    assert second["linked_visit_id"] == 2  # by ClientID, the visit before 20 Jan 11:59
    reaches = {(r["subject_key"], r["goal"]): r["revenue"] for r in emulator.goal_reaches()}
    assert reaches[("s_ord1", "Cash")] == "200"
    assert reaches[("s_ord1", "Branch 1")] == "50"
    anonymous = [key for key, goal in reaches if goal == "Bad lead"]
    assert len(anonymous) == 1 and anonymous[0].startswith("#auto:")
    assert emulator.order(anonymous[0])["linked_visit_id"] == 3


def test_requests_sends_offline_conversions_as_the_docs_python_sample(march):
    """§7.3: ``requests.post(url, headers=..., files={"file": content})``."""
    url = f"{march.base_url}/management/v1/counter/{march.counter_id}/offline_conversions/upload"
    response = requests.post(
        url,
        headers={"Authorization": f"OAuth {march.token}"},
        files={"file": CONVERSIONS.encode()},
    )
    assert response.status_code == 200, response.text
    uploading = response.json()["uploading"]
    assert uploading["type"] == "BASIC"
    assert linked_rows(march, uploading["id"]) == [(5, "LINKED")]
