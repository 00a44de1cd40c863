"""Reporting API features integrators reconcile with, through HTTP: the real CRM metric names,
``currency``, ``SourceEngine``, ``filters``, ``preset``, ``bytime``, ``drilldown`` and
``comparison``."""

from __future__ import annotations

import json

import pytest

from tests.report_support import report_client, visit

COUNTER = 4417
TOKEN = "features-token"
VISITS = [
    visit(
        1,
        1,
        "2024-03-01T10:00",
        "ad",
        source_detail="Yandex Direct",
        utm_source="yandex",
        utm_medium="cpc",
        utm_campaign="spring",
    ),
    visit(2, 1, "2024-03-03T10:00", "direct"),
    visit(3, 2, "2024-03-03T11:00", "organic", source_detail="Yandex"),
    visit(4, 3, "2024-03-04T09:00", "organic", source_detail="Google"),
    visit(5, 4, "2024-03-10T12:00", "social", source_detail="vk.com", utm_source="vk"),
    visit(6, 5, "2024-03-11T12:00", "referral", source_detail="Otzovik.com"),
    visit(
        7,
        6,
        "2024-03-12T12:00",
        "ad",
        source_detail="Google Ads",
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="brand's",
    ),
]
ORDERS = (
    "id,create_date_time,client_ids,order_status,revenue,cost,currency\n"
    "A,03.03.2024 12:00,1,PAID,1000,400,RUB\n"
    "B,03.03.2024 13:00,2,IN_PROGRESS,500,,\n"
    "C,04.03.2024 10:00,3,PAID,300,100,EUR\n"
    "D,10.03.2024 13:00,4,CANCELLED,700,,\n"
    "E,11.03.2024 13:00,5,SPAM,100,,\n"
    "F,12.03.2024 13:00,6,PAID,2000,500,\n"
)
SOURCES = "ym:s:lastsignTrafficSource"
ENGINES = "ym:s:lastsignSourceEngine"
MARCH = {"date1": "2024-03-01", "date2": "2024-03-14"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("features") / "state.sqlite3"
    with report_client(db, COUNTER, TOKEN, VISITS, ORDERS, "2024-03-15T12:00:00+03:00") as http:
        yield http


def get(client, path: str = "", status: int = 200, **params) -> dict:
    response = client.get(f"/stat/v1/data{path}", params={"ids": COUNTER, **MARCH, **params})
    assert response.status_code == status, response.text
    return response.json()


def table(body: dict) -> dict[tuple, list]:
    return {
        tuple(d.get("id", d["name"]) for d in row["dimensions"]): row["metrics"]
        for row in body["data"]
    }


def test_crm_order_metric_names_and_formulas(client):
    """https://yandex.com/dev/metrika/ru/stat/metrics/visits/cdp_orders.md: conversion into
    payment is paid orders / all orders (spam excluded); revenue, profit and average cheque
    are ``ym:s:cdpOrders<currency>…`` over paid orders in that currency."""
    metrics = [
        "ym:s:cdpOrdersAllOrders",
        "ym:s:cdpOrdersPayed",
        "ym:s:cdpOrdersConversionIntoOrder",
        "ym:s:cdpOrdersConversionIntoPayment",
        "ym:s:cdpOrders<currency>Revenue",
        "ym:s:cdpOrders<currency>Profit",
        "ym:s:cdpOrders<currency>AverageCheque",
    ]
    body = get(client, metrics=",".join(metrics))
    # 5 orders besides spam over 7 visits; 3 paid of 5; RUB: A (1000-400) and F (2000-500).
    assert body["totals"] == [5.0, 3.0, pytest.approx(71.4286), 60.0, 3000.0, 2100.0, 1500.0]
    assert body["query"]["currency"] == "RUB"
    euro = get(client, metrics=",".join(metrics[4:]), currency="EUR")
    assert euro["totals"] == [300.0, 200.0, 300.0]
    assert euro["query"]["currency"] == "EUR"


def test_currency_written_into_the_name(client):
    """https://yandex.ru/dev/metrika/ru/stat/param: ``<currency>`` in a name takes the
    ``currency`` parameter; a code in its place is that currency, whatever the parameter."""
    body = get(
        client,
        metrics="ym:s:cdpOrdersRUBRevenue,ym:s:cdpOrdersEURRevenue,ym:s:cdpOrdersUSDRevenue",
        currency="USD",
    )
    assert body["totals"] == [3000.0, 300.0, 0.0]
    bad = get(client, status=400, metrics="ym:s:visits", currency="roubles")
    assert bad["errors"][0]["location"] == "currency"


@pytest.mark.parametrize(
    ("guessed", "real"),
    [
        ("ym:s:cdpOrdersConversionToOrder", "ym:s:cdpOrdersConversionIntoOrder"),
        ("ym:s:cdpOrdersConversionToPayment", "ym:s:cdpOrdersConversionIntoPayment"),
        ("ym:s:cdpOrdersAverageOrderValue", "ym:s:cdpOrders<currency>AverageCheque"),
        ("ym:s:cdpOrdersRevenue", "ym:s:cdpOrders<currency>Revenue"),
        ("ym:s:cdpOrdersProfit", "ym:s:cdpOrders<currency>Profit"),
    ],
)
def test_guessed_names_are_refused_with_the_real_one(client, guessed, real):
    """https://yandex.com/dev/metrika/ru/stat/metrics/visits/cdp_orders.md names the metrics;
    the names earlier versions answered to do not exist there."""
    body = get(client, status=400, metrics=f"ym:s:visits,{guessed}")
    error = body["errors"][0]
    assert (error["error_type"], error["location"]) == ("invalid_parameter", "metrics")
    assert real in error["message"]


def test_source_engine_ids(client):
    """``SourceEngine`` ids are ``<TrafficSource>.<engine>`` (``organic.yandex`` in
    https://yandex.ru/dev/metrika/ru/stat/examples; ``ad.Яндекс: Директ`` named
    "Yandex: Direct" in live answers); a visit without detail has none."""
    body = get(client, metrics="ym:s:visits", dimensions=f"{SOURCES},{ENGINES}", sort=ENGINES)
    assert [row["dimensions"][1] for row in body["data"]] == [
        {"name": "Google Ads", "id": "ad.Google Ads"},
        {"name": "Yandex: Direct", "id": "ad.Яндекс: Директ"},
        {"name": "Google", "id": "organic.google"},
        {"name": "Yandex", "id": "organic.yandex"},
        {"name": "otzovik.com", "id": "referral.otzovik.com"},
        {"name": "VKontakte", "id": "social.vk"},
    ]
    # lastsign credits the direct return to the Direct click: no row without an engine.
    last = get(client, metrics="ym:s:visits", dimensions="ym:s:lastSourceEngine")
    assert table(last)[(None,)] == [1.0]


@pytest.mark.parametrize(
    ("filters", "rows"),
    [
        (f"{SOURCES}=='ad'", {("ad",): [3.0, 2.0]}),
        (f"{SOURCES}=.('organic','social')", {("organic",): [2.0, 2.0], ("social",): [1.0, 1.0]}),
        (f"{SOURCES}!.('ad','organic') AND NOT({SOURCES}=='social')", {("referral",): [1.0, 0.0]}),
        (f"{ENGINES}=='organic.yandex' OR {ENGINES}=='social.vk'", None),
        ("ym:s:lastsignUTMCampaign=='brand\\'s'", {("ad",): [1.0, 1.0]}),
        ("ym:s:lastsignUTMSource=~'^(ya|go)' and ym:s:date<'2024-03-12'", {("ad",): [2.0, 1.0]}),
        ("ym:s:date>='2024-03-10' AND ym:s:date<='2024-03-11'", None),
    ],
)
def test_filters_keep_the_matching_visits_and_their_orders(client, filters, rows):
    """https://yandex.ru/dev/metrika/ru/stat/segmentation: dimension filters apply to the data
    before grouping; orders follow the visit their attribution credits."""
    body = get(
        client, metrics="ym:s:visits,ym:s:cdpOrdersAllOrders", dimensions=SOURCES, filters=filters
    )
    if rows is None:
        rows = {("organic",): [1.0, 1.0], ("social",): [1.0, 1.0]}
        if "date" in filters:
            rows = {("referral",): [1.0, 0.0], ("social",): [1.0, 1.0]}
    assert table(body) == rows
    assert body["query"]["filters"] == filters


@pytest.mark.parametrize(
    ("filters", "where"),
    [
        (f"{SOURCES}=@'ad'", "admits only"),
        (f"{SOURCES}=='ad' AND", "at character 37"),
        ("ym:s:isRobot=='No'", "not supported"),
        ("ym:s:date>'yesterday'", "YYYY-MM-DD"),
    ],
)
def test_a_bad_filter_is_a_400_saying_where(client, filters, where):
    """https://yandex.ru/dev/metrika/ru/stat/segmentation (operators per dimension:
    https://yandex.ru/dev/metrika/ru/stat/attributes/visits/source)."""
    body = get(client, status=400, metrics="ym:s:visits", filters=filters)
    error = body["errors"][0]
    assert (error["error_type"], error["location"]) == ("invalid_parameter", "filters")
    assert where in error["message"]


def test_preset_orders_sources(client):
    """https://yandex.ru/dev/metrika/ru/stat/presets/preset_cdp_orders: the preset's
    dimensions and metrics; explicit dimensions replace the preset's."""
    body = get(client, preset="orders_sources", attribution="last")
    query = body["query"]
    assert query["preset"] == "orders_sources"
    assert query["dimensions"] == [
        "ym:s:<attribution>TrafficSource",
        "ym:s:<attribution>SourceEngine",
    ]
    assert query["metrics"][:2] == ["ym:s:visits", "ym:s:cdpOrdersAllOrders"]
    assert len(body["totals"]) == 7
    assert table(body)[("direct", None)][:2] == [1.0, 1.0]
    narrowed = get(client, preset="orders_sources", dimensions="ym:s:date")
    assert narrowed["query"]["dimensions"] == ["ym:s:date"]
    unknown = get(client, status=400, preset="tech_platforms")
    assert unknown["errors"][0]["location"] == "preset"


def test_bytime_by_week(client):
    """https://yandex.ru/dev/metrika/ru/stat/openapi/bytime: each metric an array over the
    time intervals; ``totals`` likewise; calendar weeks from Monday; ``time_intervals`` as
    live answers carry them."""
    body = get(
        client,
        "/bytime",
        metrics="ym:s:visits,ym:s:cdpOrdersAllOrders",
        dimensions=SOURCES,
        group="week",
    )
    assert body["time_intervals"] == [
        ["2024-03-01", "2024-03-03"],
        ["2024-03-04", "2024-03-10"],
        ["2024-03-11", "2024-03-14"],
    ]
    assert table(body)[("ad",)] == [[2.0, 0.0, 1.0], [1.0, 0.0, 1.0]]
    assert table(body)[("organic",)] == [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]]
    assert body["totals"] == [[3.0, 2.0, 2.0], [2.0, 2.0, 1.0]]
    assert (body["total_rows"], body["query"]["group"]) == (4, "week")


def test_bytime_groups_top_keys_and_row_ids(client):
    """https://yandex.ru/dev/metrika/ru/stat/openapi/bytime: ``top_keys`` rows by
    ``keys_sort``; ``row_ids`` picks rows, a shorter key standing for every row it begins
    (the docs' ``row_ids=[["direct"],["organic","organic.yandex"]]``)."""
    monthly = get(client, "/bytime", metrics="ym:s:visits", group="month")
    assert monthly["time_intervals"] == [["2024-03-01", "2024-03-14"]]
    assert monthly["data"] == [{"dimensions": [], "metrics": [[7.0]]}]
    daily = get(client, "/bytime", metrics="ym:s:visits", group="day", date2="2024-03-03")
    assert daily["totals"] == [[1.0, 0.0, 2.0]]
    top = get(client, "/bytime", metrics="ym:s:visits", dimensions=SOURCES, top_keys=2)
    assert [row["dimensions"][0]["id"] for row in top["data"]] == ["ad", "organic"]
    picked = get(
        client,
        "/bytime",
        metrics="ym:s:visits",
        dimensions=f"{SOURCES},{ENGINES}",
        group="all",
        row_ids=json.dumps([["ad"], ["organic", "organic.yandex"]]),
    )
    assert [(len(r["dimensions"]), r["metrics"]) for r in picked["data"]] == [
        (1, [[3.0]]),
        (2, [[1.0]]),
    ]
    for params in ({"group": "hour"}, {"group": "fortnight"}, {"row_ids": "[organic]"}):
        error = get(client, "/bytime", status=400, metrics="ym:s:visits", **params)
        assert error["errors"][0]["location"] in ("group", "row_ids")


def test_drilldown_one_level_at_a_time(client):
    """https://yandex.ru/dev/metrika/ru/stat/openapi/drilldown: rows of the level below
    ``parent_id``, each ``{"dimension", "metrics", "expand"}``."""
    params = {"metrics": "ym:s:visits", "dimensions": f"{SOURCES},{ENGINES}"}
    top = get(client, "/drilldown", **params)
    assert top["data"][0] == {
        "dimension": {"name": "Ad traffic", "id": "ad"},
        "metrics": [3.0],
        "expand": True,
    }
    below = get(client, "/drilldown", parent_id='["ad"]', **params)
    assert [(r["dimension"]["id"], r["metrics"], r["expand"]) for r in below["data"]] == [
        ("ad.Яндекс: Директ", [2.0], False),
        ("ad.Google Ads", [1.0], False),
    ]
    assert (below["total_rows"], below["totals"]) == (2, [7.0])
    too_deep = get(client, "/drilldown", status=400, parent_id='["ad","ad.Google Ads"]', **params)
    assert too_deep["errors"][0]["location"] == "parent_id"


def test_comparison_of_two_segments(client):
    """https://yandex.ru/dev/metrika/ru/stat/openapi/comparison: per row ``metrics: {a, b}``,
    ``totals: {a, b}``; each segment has its dates and filters."""
    body = get(
        client,
        "/comparison",
        metrics="ym:s:visits,ym:s:cdpOrdersAllOrders",
        dimensions=SOURCES,
        date1_a="2024-03-01",
        date2_a="2024-03-07",
        date1_b="2024-03-08",
        date2_b="2024-03-14",
        filters_b=f"{SOURCES}!='referral'",
    )
    rows = {r["dimensions"][0]["id"]: r["metrics"] for r in body["data"]}
    assert rows["ad"] == {"a": [2.0, 1.0], "b": [1.0, 1.0]}
    assert rows["organic"] == {"a": [2.0, 2.0], "b": [0.0, 0.0]}
    assert "referral" not in rows
    assert body["totals"] == {"a": [4.0, 3.0], "b": [2.0, 2.0]}
    assert body["query"]["date1_b"] == "2024-03-08"
    assert body["query"]["filters_b"] == f"{SOURCES}!='referral'"
    error = get(client, "/comparison", status=400, metrics="ym:s:visits", date1_b="soon")
    assert error["errors"][0]["location"] == "date1_b"


def test_date_period_dimensions(client):
    """``ym:s:datePeriod<group>`` (https://yandex.com/dev/metrika/en/stat/attributes/
    visitsbehavior_/date_time.md): one row per calendar period, named by its first day (the
    emulator's reading); ``<group>`` takes the ``group`` parameter."""
    weekly = get(
        client, metrics="ym:s:visits", dimensions="ym:s:datePeriodweek", sort="ym:s:datePeriodweek"
    )
    assert table(weekly) == {("2024-02-26",): [3.0], ("2024-03-04",): [2.0], ("2024-03-11",): [2.0]}
    monthly = get(client, metrics="ym:s:visits", dimensions="ym:s:datePeriod<group>", group="month")
    assert table(monthly) == {("2024-03-01",): [7.0]}
    kept = get(
        client,
        metrics="ym:s:visits",
        dimensions="ym:s:datePeriodweek",
        filters="ym:s:datePeriodweek=='2024-03-04'",
    )
    assert table(kept) == {("2024-03-04",): [2.0]}
    bad = get(client, status=400, metrics="ym:s:visits", dimensions="ym:s:datePeriodfortnight")
    assert bad["errors"][0]["location"] == "dimensions"
