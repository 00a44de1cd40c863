"""``GET /stat/v1/data`` over the engine's reports: the real shape, metrics and dimensions."""

from __future__ import annotations

import pytest

from tests.report_support import report_client

COUNTER = 2215573
TOKEN = "report-token"
VISITS = [
    # visitor 1: a Direct click, then a direct return on which the order is placed
    {
        "visit_id": 1,
        "client_id": 1,
        "start_time": "2024-03-01T10:00:00+03:00",
        "traffic_source": "ad",
        "source_detail": "Yandex Direct",
        "utm_source": "yandex",
        "utm_campaign": "spring",
    },
    {
        "visit_id": 2,
        "client_id": 1,
        "start_time": "2024-03-03T10:00:00+03:00",
        "traffic_source": "direct",
    },
    # visitor 2: organic search, orders on the same day
    {
        "visit_id": 3,
        "client_id": 2,
        "start_time": "2024-03-03T11:00:00+03:00",
        "traffic_source": "organic",
        "utm_source": "google",
    },
]
ORDERS = (
    "id,create_date_time,client_ids,order_status,revenue,cost,goals\n"
    "A,03.03.2024 12:00,1,PAID,1000,400,lead\n"
    "B,03.03.2024 13:00,2,IN_PROGRESS,500,,\n"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("reports") / "state.sqlite3"
    goals = [{"id": 7, "name": "Lead", "identifier": "lead"}]
    now = "2024-03-05T12:00:00+03:00"
    with report_client(db, COUNTER, TOKEN, VISITS, ORDERS, now, goals) as http:
        yield http


def report(client, **params) -> dict:
    params = {"ids": COUNTER, "date1": "2024-03-01", "date2": "2024-03-05", **params}
    response = client.get("/stat/v1/data", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def table(body: dict) -> dict[tuple, list]:
    return {
        tuple(d.get("id", d["name"]) for d in row["dimensions"]): row["metrics"]
        for row in body["data"]
    }


def test_the_real_json_shape(client):
    body = report(client, metrics="ym:s:visits", dimensions="ym:s:<attribution>TrafficSource")
    assert {
        "query",
        "data",
        "totals",
        "total_rows",
        "sampled",
        "sample_share",
        "min",
        "max",
    } <= set(body)
    query = body["query"]
    assert query["ids"] == [COUNTER]
    assert query["dimensions"] == ["ym:s:<attribution>TrafficSource"]
    assert (query["date1"], query["date2"], query["attribution"]) == (
        "2024-03-01",
        "2024-03-05",
        "LastSign",
    )
    assert body["data"][0]["dimensions"][0] == {"name": "Ad traffic", "id": "ad"}
    assert (body["total_rows"], body["totals"]) == (2, [3.0])


def test_orders_by_last_significant_source(client):
    body = report(
        client,
        metrics="ym:s:visits,ym:s:cdpOrdersAllOrders,ym:s:cdpOrdersPayed,ym:s:cdpOrders<currency>Revenue,"
        "ym:s:cdpOrders<currency>Profit,ym:s:cdpOrdersInProgress",
        dimensions="ym:s:lastsignTrafficSource",
    )
    # The direct return is credited to the earlier ad click under lastsign.
    assert table(body) == {
        ("ad",): [2.0, 1.0, 1.0, 1000.0, 600.0, 0.0],
        ("organic",): [1.0, 1.0, 0.0, 0.0, 0.0, 1.0],
    }
    assert body["totals"] == [3.0, 2.0, 1.0, 1000.0, 600.0, 1.0]


def test_attribution_parameter_and_explicit_model(client):
    last = report(client, metrics="ym:s:cdpOrdersAllOrders", dimensions="ym:s:lastTrafficSource")
    by_param = report(
        client,
        metrics="ym:s:cdpOrdersAllOrders",
        dimensions="ym:s:<attribution>TrafficSource",
        attribution="last",
    )
    assert (
        table(last) == table(by_param) == {("direct",): [1.0], ("organic",): [1.0], ("ad",): [0.0]}
    )
    assert by_param["query"]["attribution"] == "Last"


def test_goal_metrics_by_utm_and_date(client):
    body = report(
        client,
        metrics="ym:s:goal7reaches,ym:s:goal7revenue,ym:s:visits",
        dimensions="ym:s:date,ym:s:firstUTMSource",
        sort="ym:s:date",
    )
    assert table(body) == {
        ("2024-03-01", "yandex"): [0.0, 0.0, 1.0],
        ("2024-03-03", "yandex"): [1.0, 600.0, 1.0],
        ("2024-03-03", "google"): [0.0, 0.0, 1.0],
    }
    assert [r["dimensions"][0]["name"] for r in body["data"]] == [
        "2024-03-01",
        "2024-03-03",
        "2024-03-03",
    ]


def test_date_range_filters_and_relative_dates(client):
    only_first = report(client, metrics="ym:s:visits", date1="2024-03-01", date2="2024-03-02")
    assert only_first["totals"] == [1.0]
    relative = report(client, metrics="ym:s:visits", date1="4daysAgo", date2="today")
    assert (relative["query"]["date1"], relative["query"]["date2"]) == ("2024-03-01", "2024-03-05")
    default = client.get("/stat/v1/data", params={"ids": COUNTER, "metrics": "ym:s:visits"})
    assert default.json()["query"]["date1"] == "2024-02-28"  # 6daysAgo


def test_no_dimensions_is_one_row(client):
    body = report(client, metrics="ym:s:cdpOrdersAllOrders,ym:s:cdpOrdersConversionIntoOrder")
    assert body["data"] == [{"dimensions": [], "metrics": [2.0, pytest.approx(66.6667)]}]


def test_sort_limit_offset(client):
    params = {"metrics": "ym:s:visits", "dimensions": "ym:s:lastTrafficSource"}
    ascending = report(client, sort="ym:s:lastTrafficSource", **params)
    assert [r["dimensions"][0]["id"] for r in ascending["data"]] == ["ad", "direct", "organic"]
    page = report(client, sort="-ym:s:lastTrafficSource", limit=1, offset=2, **params)
    assert [r["dimensions"][0]["id"] for r in page["data"]] == ["direct"]
    assert page["total_rows"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {"metrics": "ym:s:pageviews"},
        {"metrics": "ym:s:visits", "dimensions": "ym:s:browser"},
        {"metrics": "ym:s:visits", "attribution": "automatic"},
        {"metrics": "ym:s:visits", "filters": "ym:s:isRobot=='No'"},
        {"metrics": "ym:s:visits", "date1": "yesterday-ish"},
        {"metrics": "ym:s:visits", "date1": "2024-03-05", "date2": "2024-03-01"},
        {"metrics": "ym:s:visits", "sort": "ym:s:users"},
        {"metrics": "ym:s:visits", "ids": f"{COUNTER},{COUNTER}"},
        {"metrics": ""},
    ],
)
def test_unsupported_or_wrong_queries_are_400(client, params):
    response = client.get("/stat/v1/data", params={"ids": COUNTER, **params})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["error_type"] in {"invalid_parameter", "missing_parameter"}


def test_json_suffix_and_missing_ids(client):
    suffixed = client.get("/stat/v1/data.json", params={"ids": COUNTER, "metrics": "ym:s:visits"})
    assert suffixed.status_code == 200
    missing = client.get("/stat/v1/data", params={"metrics": "ym:s:visits"})
    assert missing.json()["errors"][0]["error_type"] == "missing_parameter"
