"""SIGKILL a live ``crmemu serve`` at random moments mid-upload; every acknowledged upload
must survive, no upload may be partly stored, and the database must pass its integrity check.

Slow (``pytest -m slow``): ``CRASH_ROUNDS`` restarts, each with uploads in flight.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections import Counter

import httpx
import pytest

from tests.serve_support import start_server, upload_body

COUNTER = 2215573
TOKEN = "crash-token"
ROWS = 3000
CRASH_ROUNDS = int(os.environ.get("CRASH_ROUNDS", "20"))


def keep_uploading(url: str, round_: int, sent: list[str], acknowledged: dict[str, str]) -> None:
    """Upload until the server dies; note each upload sent and each one acknowledged."""
    path = f"/cdp/api/v1/counter/{COUNTER}/data/simple_orders"
    with httpx.Client(base_url=url, headers={"Authorization": f"OAuth {TOKEN}"}) as client:
        for n in range(10_000):
            prefix = f"r{round_}u{n}"
            sent.append(prefix)
            try:
                response = client.post(
                    path,
                    params={"merge_mode": "APPEND"},
                    files={"file": upload_body(prefix, ROWS)},
                    timeout=30,
                )
            except httpx.TransportError:
                return
            if response.status_code == 200:
                acknowledged[prefix] = response.json()["uploading"]["uploading_id"]


@pytest.mark.slow
def test_sigkill_mid_upload_loses_no_acknowledged_upload(tmp_path):
    db = tmp_path / "state.sqlite3"
    config = tmp_path / "serve.toml"
    config.write_text(
        f"[quotas]\nenabled = false\n[[counters]]\nid = {COUNTER}\n"
        f'tokens = {{ "{TOKEN}" = ["metrika:read", "metrika:write"] }}\n'
    )
    args = ("--db", str(db), "--config", str(config))
    rng = random.Random(11)
    sent: list[str] = []
    acknowledged: dict[str, str] = {}
    for round_ in range(CRASH_ROUNDS):
        served = start_server(tmp_path / "log", *args)
        uploader = threading.Thread(
            target=keep_uploading, args=(served.url, round_, sent, acknowledged)
        )
        uploader.start()
        time.sleep(rng.uniform(0.2, 1.5))
        served.process.kill()
        served.process.wait()
        uploader.join()
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    served = start_server(tmp_path / "log", *args)
    try:
        with httpx.Client(base_url=served.url, headers={"Authorization": f"OAuth {TOKEN}"}) as c:
            listed = c.get(
                f"/cdp/api/v1/counter/{COUNTER}/last_uploadings", params={"limit": 1000}
            ).json()["uploadings"]
            orders = c.get(f"/_emulator/counters/{COUNTER}/orders", timeout=60).json()["orders"]
    finally:
        served.stop()
    stored = Counter(o["order_id"].split("-")[0] for o in orders)
    assert set(acknowledged.values()) <= {u["uploading_id"] for u in listed}
    assert set(acknowledged) <= set(stored), "an acknowledged upload was lost"
    assert all(count == ROWS for count in stored.values()), "an upload was stored in part"
    assert set(stored) <= set(sent)
    print(
        f"\n{CRASH_ROUNDS} SIGKILLs: {len(acknowledged)} acknowledged uploads all present, "
        f"{len(sent) - len(acknowledged)} unacknowledged, "
        f"{len(stored) - len(acknowledged)} of them stored whole, none in part; integrity ok"
    )
