"""The whole integrator scenario over loopback HTTP, in one test (issue 4 acceptance).

Load visits, map statuses, upload contacts and orders, advance the clock past the processing
delay, change a status, then read the order's decisions and the CRM report.
"""

from __future__ import annotations

from datetime import datetime


def test_visits_contacts_orders_clock_statuses_decisions_and_report(metrica_emulator):
    api = metrica_emulator
    cdp = f"/cdp/api/v1/counter/{api.counter_id}"
    api.put_counter(
        goals=[{"id": 501, "name": "Good leads", "identifier": "good_lead"}],
        rules={"processing_delay_seconds": 7200},  # "within 2 hours" (spec §0 item 30)
    )
    api.clock.set(datetime.fromisoformat("2024-04-01T10:00:00+03:00"))
    visits = (
        "visit_id,client_id,start_time,traffic_source,utm_source,utm_campaign\n"
        "10,111,2024-03-30T09:00:00+03:00,organic,,\n"
        "11,222,2024-03-31T18:00:00+03:00,ad,yandex,spring\n"
    )
    assert api.load_visits(visits) == 2

    mapping = {
        "order_statuses": [
            {"id": "new", "type": "IN_PROGRESS"},
            {"id": "won", "type": "PAID", "goal_action_ids": ["good_lead"]},
        ]
    }
    assert api.client.post(f"{cdp}/schema/order_statuses", json=mapping).json() == {"success": True}
    contacts = {
        "contacts": [
            {"uniq_id": "c1", "name": "Иванов И.", "client_ids": [111]},
            {"uniq_id": "c2", "client_ids": ["222"], "phones": ["79995551111"]},
        ]
    }
    # Contacts first, before the visits (orders link only to visits made after the first
    # contacts upload, https://yandex.ru/dev/metrika/ru/data-import/data).
    api.clock.set(datetime.fromisoformat("2024-03-29T10:00:00+03:00"))
    response = api.client.post(f"{cdp}/data/contacts/json?merge_mode=SAVE", json=contacts)
    assert response.status_code == 200, response.text
    api.clock.set(datetime.fromisoformat("2024-04-01T10:00:00+03:00"))
    orders = (
        "id,client_uniq_id,client_type,order_status,create_date_time,revenue,cost\n"
        "o1,c1,CONTACT,new,31.03.2024 12:00,5000,1000\n"
        "o2,c2,CONTACT,new,01.04.2024 09:00,3000,\n"
    )
    response = api.client.post(
        f"{cdp}/data/orders/csv",
        params={"merge_mode": "SAVE"},
        files={"file": ("orders.csv", orders.encode(), "text/csv")},
    )
    assert response.status_code == 200, response.text

    # Nothing is decided before the processing delay has passed.
    pending = api.client.get(f"/_emulator/counters/{api.counter_id}/orders/o1")
    assert pending.status_code == 404
    api.clock.advance(hours=2)
    first = api.order("o1")
    assert (first["status_type"], first["linked_visit_id"]) == ("IN_PROGRESS", 10)
    assert [g["goal"] for g in first["goal_reaches"]] == ["CRM: Order created"]
    assert api.order("o2")["linked_visit_id"] == 11

    status_change = {
        "orders": [
            {
                "id": "o1",
                "client_uniq_id": "c1",
                "client_type": "CONTACT",
                "order_status": "won",
                "create_date_time": "2024-03-31 12:00:00",
            }
        ]
    }
    response = api.client.post(f"{cdp}/data/orders/json?merge_mode=UPDATE", json=status_change)
    assert response.status_code == 200, response.text
    api.clock.advance(hours=2)

    won = api.order("o1")
    assert won["status_type"] == "PAID"
    assert won["order"]["revenue"] == "5000"  # UPDATE keeps what was not sent
    reached = [(g["goal"], g["visit_id"], g["revenue"]) for g in won["goal_reaches"]]
    assert reached == [
        ("CRM: Order created", 10, "4000"),
        ("CRM: Order paid", 10, "4000"),
        ("Good leads", 10, "4000"),
    ]
    codes = [d["code"] for d in won["decisions"]]
    assert codes[0] == "CREATED" and "GOAL_FIRED" in codes
    assert all({"at", "code", "detail"} <= set(d) for d in won["decisions"])

    report = api.client.get(
        "/stat/v1/data",
        params={
            "ids": api.counter_id,
            "metrics": "ym:s:cdpOrdersAllOrders,ym:s:cdpOrdersPayed,"
            "ym:s:cdpOrders<currency>Revenue,ym:s:goal501reaches",
            "dimensions": "ym:s:lastsignTrafficSource,ym:s:lastsignUTMCampaign",
            "date1": "2024-03-25",
            "date2": "today",
        },
    ).json()
    rows = {
        tuple(d.get("id", d["name"]) for d in row["dimensions"]): row["metrics"]
        for row in report["data"]
    }
    assert rows == {
        ("organic", None): [1.0, 1.0, 5000.0, 1.0],
        ("ad", "spring"): [1.0, 0.0, 0.0, 0.0],
    }
    assert report["totals"] == [2.0, 1.0, 5000.0, 1.0]
