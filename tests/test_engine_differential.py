"""Engine v2 against the 0.1 engine on simulated scenarios: the same observable outcomes.

Every scenario's CRM history is simulated once and replayed through the HTTP API of both
engines; orders (state, link, decision codes), every order's decisions with their data and
sentences, goal reaches, offline rows and the Reporting API's source table must be equal.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator
from emulator._old.service import Emulator as Old01
from emulator._old.visit_input import visits_from_csv, visits_from_json
from emulator.api import inprocess_client
from emulator.scenario import load_scenario
from emulator.sim import send_timeline, simulate

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
METRICS = ",".join(
    [
        "ym:s:visits",
        "ym:s:cdpOrdersAllOrders",
        "ym:s:cdpOrdersInProgress",
        "ym:s:cdpOrdersPayed",
        "ym:s:cdpOrdersCancelled",
        "ym:s:cdpOrdersSpam",
        "ym:s:cdpOrdersRevenue",
        "ym:s:cdpOrdersProfit",
    ]
)


class OldEmulator(Old01):
    """The 0.1 engine with the visit routes of its time."""

    def load_visits_csv(self, counter_id: int, stream: Any) -> int:
        return self.load_visits(counter_id, visits_from_csv(stream))

    def load_visits_json(self, counter_id: int, body: Any) -> int:
        return self.load_visits(counter_id, visits_from_json(body))


def _outcomes(engine: Any, result: Any, scenario: Any) -> dict[str, Any]:
    counter = dict(result.counter)
    counter["rules"] = scenario.rules.to_mapping()
    counter_id = scenario.settings.export.counter_id
    token = next(iter(counter["tokens"]))
    auth = {"Authorization": f"OAuth {token}"}
    client = inprocess_client(engine)
    try:
        client.post("/_emulator/reset", json={}).raise_for_status()
        send_timeline(
            result.timeline, client, token, counter_id, visits=result.visits, counter=counter
        )
        last = max(u.sent_at for u in result.timeline)
        end = last + timedelta(seconds=scenario.rules.processing_delay_seconds + 1)
        client.post("/_emulator/clock", json={"now": end.isoformat()}).raise_for_status()
        base = f"/_emulator/counters/{counter_id}"
        orders = client.get(f"{base}/orders").json()["orders"]
        views = {o["order_id"]: client.get(f"{base}/orders/{o['order_id']}").json() for o in orders}
        reaches = client.get(f"{base}/goal_reaches").json()["goal_reaches"]
        offline = {}
        for path in ("uploadings", "calls_uploadings"):
            listed = client.get(
                f"/management/v1/counter/{counter_id}/offline_conversions/{path}", headers=auth
            ).json()["uploadings"]
            for uploading in listed:
                rows = client.get(f"{base}/offline_conversions/{uploading['id']}/rows").json()
                offline[uploading["id"]] = (uploading, rows)
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
    finally:
        client.close()
    return {
        "orders": orders,
        "views": views,
        "reaches": Counter(
            (r["goal"], r["visit_id"], r["revenue"], r["currency"], r["subject_key"])
            for r in reaches
        ),
        "offline": offline,
        "report": (report["data"], report["totals"]),
    }


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_v2_decides_as_the_01_engine(path):
    scenario = load_scenario(path)
    result = simulate(scenario.settings, scenario.seed)
    old = _outcomes(OldEmulator(), result, scenario)
    new = _outcomes(Emulator(), result, scenario)
    assert new["orders"] == old["orders"]
    for key, view in old["views"].items():
        assert new["views"][key] == view, key
    assert new["reaches"] == old["reaches"]
    assert new["offline"] == old["offline"]
    assert new["report"] == old["report"]
