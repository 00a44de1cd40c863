"""A scenario's observable outcomes through the HTTP API, as plain JSON values.

What the golden files pin (``tests/golden/<scenario>.json``): every order (state, link,
decision codes), every order's decisions with their data, the goal reaches, the offline
uploadings and their rows, and the Reporting API's source-by-date table.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from emulator.api import inprocess_client

METRICS = ",".join(
    [
        "ym:s:visits",
        "ym:s:cdpOrdersAllOrders",
        "ym:s:cdpOrdersInProgress",
        "ym:s:cdpOrdersPayed",
        "ym:s:cdpOrdersCancelled",
        "ym:s:cdpOrdersSpam",
        "ym:s:cdpOrders<currency>Revenue",
        "ym:s:cdpOrders<currency>Profit",
    ]
)


def outcomes(engine: Any, result: Any, scenario: Any) -> dict[str, Any]:
    """Replay a simulated run through ``engine``'s HTTP API and read everything back."""
    from emulator.sim import send_timeline

    counter = dict(result.counter)
    counter["rules"] = scenario.rules.to_mapping()
    counter_id = scenario.settings.export.counter_id
    token = next(iter(counter["tokens"]))
    auth = {"Authorization": f"OAuth {token}"}
    with inprocess_client(engine) as client:
        client.post("/_emulator/reset", json={}).raise_for_status()
        send_timeline(
            result.timeline, client, token, counter_id, visits=result.visits, counter=counter
        )
        last = max(u.sent_at for u in result.timeline)
        end = last + timedelta(seconds=scenario.rules.processing_delay_seconds + 1)
        client.post("/_emulator/clock", json={"now": end.isoformat()}).raise_for_status()
        base = f"/_emulator/counters/{counter_id}"
        orders = client.get(f"{base}/orders").json()["orders"]
        decisions = {
            o["order_id"]: [
                [d["code"], d["data"]]
                for d in client.get(f"{base}/orders/{o['order_id']}").json()["decisions"]
            ]
            for o in orders
        }
        reaches = Counter(
            (r["goal"], r["visit_id"], r["revenue"], r["currency"], r["subject_key"])
            for r in client.get(f"{base}/goal_reaches").json()["goal_reaches"]
        )
        offline = []
        for path in ("uploadings", "calls_uploadings"):
            listed = client.get(
                f"/management/v1/counter/{counter_id}/offline_conversions/{path}", headers=auth
            ).json()["uploadings"]
            for uploading in listed:
                rows = client.get(f"{base}/offline_conversions/{uploading['id']}/rows").json()
                offline.append([uploading, rows])
        start = result.calendar.origin.date() - timedelta(days=60)
        report = client.get(
            "/stat/v1/data",
            headers=auth,
            params={
                "ids": counter_id,
                "metrics": METRICS,
                "dimensions": "ym:s:lastsignTrafficSource,ym:s:date",
                "date1": start.isoformat(),
                "date2": (start + timedelta(days=200)).isoformat(),
                "limit": 100_000,
            },
        ).json()
    return {
        "orders": orders,
        "decisions": decisions,
        "reaches": sorted([*key, count] for key, count in reaches.items()),
        "offline": offline,
        "report": {"data": report["data"], "totals": report["totals"]},
    }
