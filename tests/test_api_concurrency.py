"""8 clients at once against a live ``crmemu serve``: no 5xx, and no acknowledged upload lost."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.serve_support import start_server, upload_body

COUNTER = 2215573
CLIENTS = 8
REQUESTS = 25


def client_run(url: str, token: str, number: int) -> tuple[list[int], list[tuple[str, str]]]:
    """Mixed requests of one client; its statuses and its acknowledged uploads."""
    rng = random.Random(number)
    statuses: list[int] = []
    acknowledged: list[tuple[str, str]] = []
    cdp = f"/cdp/api/v1/counter/{COUNTER}"
    with httpx.Client(base_url=url, headers={"Authorization": f"OAuth {token}"}, timeout=60) as c:
        for n in range(REQUESTS):
            kind = rng.choice(["upload", "upload", "uploads", "goals", "report", "orders", "clock"])
            if kind == "upload":
                prefix = f"c{number}-{n}"
                response = c.post(
                    f"{cdp}/data/simple_orders",
                    params={"merge_mode": "APPEND"},
                    files={"file": upload_body(prefix, rng.randint(1, 300))},
                )
                if response.status_code == 200:
                    acknowledged.append((response.json()["uploading"]["uploading_id"], prefix))
            elif kind == "uploads":
                response = c.get(f"{cdp}/last_uploadings", params={"limit": 5})
            elif kind == "goals":
                response = c.get(f"/management/v1/counter/{COUNTER}/goals")
            elif kind == "report":
                response = c.get("/stat/v1/data", params={"ids": COUNTER, "metrics": "ym:s:visits"})
            elif kind == "orders":
                response = c.get(f"/_emulator/counters/{COUNTER}/orders")
            else:
                response = c.get("/_emulator/clock")
            statuses.append(response.status_code)
    return statuses, acknowledged


def test_eight_clients_at_once(tmp_path):
    config = tmp_path / "serve.toml"
    tokens = [f"client-{n}" for n in range(CLIENTS)]
    scopes = '["metrika:read", "metrika:write"]'
    table = ", ".join(f'"{t}" = {scopes}' for t in tokens)
    config.write_text(f"[[counters]]\nid = {COUNTER}\ntokens = {{ {table} }}\n")
    served = start_server(
        tmp_path / "log", "--db", str(tmp_path / "s.sqlite3"), "--config", str(config)
    )
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            runs = list(pool.map(client_run, [served.url] * CLIENTS, tokens, range(CLIENTS)))
        statuses = [s for run, _ in runs for s in run]
        acknowledged = [a for _, run in runs for a in run]
        assert all(s < 500 for s in statuses), sorted(set(statuses))
        assert statuses.count(200) + statuses.count(429) == len(statuses)
        with httpx.Client(
            base_url=served.url, headers={"Authorization": f"OAuth {tokens[0]}"}
        ) as c:
            listed = c.get(f"/cdp/api/v1/counter/{COUNTER}/last_uploadings", params={"limit": 1000})
            orders = c.get(f"/_emulator/counters/{COUNTER}/orders").json()["orders"]
        ids = {u["uploading_id"] for u in listed.json()["uploadings"]}
        assert {uploading for uploading, _ in acknowledged} <= ids
        prefixes = {o["order_id"].rsplit("-", 1)[0] for o in orders}
        assert {prefix for _, prefix in acknowledged} == prefixes
    finally:
        served.stop()
