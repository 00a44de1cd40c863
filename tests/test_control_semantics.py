"""Control-route semantics a user following the README relies on (issue 12, rough edge 1).

- ``PUT /_emulator/counters/{id}`` merges; ``?replace=true`` replaces;
- ``POST /_emulator/reset`` brings back the counters the server started with;
- ``crmemu run --via http --token T`` adds T instead of replacing the server's tokens;
- the in-process client sets up a counter for its token, and an unclosed one does not hang
  the process at exit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import pytest

from emulator import CounterConfig, Emulator
from emulator.api import ApiSettings, LiveServer, QuotaSettings, create_app, inprocess_client
from emulator.api.views import masked
from emulator.scenario.runner import run_scenario
from emulator.scenario.spec import scenario_from_mapping

COUNTER = 2215573
TOKEN = "first-token"
FULL = ["metrika:read", "metrika:write", "metrika:offline_data"]


@pytest.fixture
def client():
    emulator = Emulator()
    with inprocess_client(emulator, TOKEN) as http:
        yield http
    emulator.close()


def put(client: httpx.Client, body: dict, **params: str) -> dict:
    response = client.put(f"/_emulator/counters/{COUNTER}", json=body, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_inprocess_client_sets_up_a_counter_for_its_token(client):
    assert client.get(f"/management/v1/counter/{COUNTER}").status_code == 200
    assert put(client, {})["tokens"] == {masked(TOKEN): FULL}


def test_put_merges_tokens_rules_and_goals(client):
    put(client, {"tokens": {"second": ["metrika:read"]}, "rules": {"spam_goal": False}})
    lead = {"id": 7, "name": "Lead", "identifier": "l"}
    setup = put(client, {"time_zone": "Asia/Yekaterinburg", "goals": [lead]})
    assert setup["tokens"] == {masked(TOKEN): FULL, masked("second"): ["metrika:read"]}
    assert setup["rules"]["spam_goal"] is False
    assert setup["time_zone"] == "Asia/Yekaterinburg"
    setup = put(client, {"goals": [{"id": 8, "name": "Call", "identifier": "c"}]})
    assert [goal["id"] for goal in setup["goals"]] == [7, 8]
    assert client.get(f"/management/v1/counter/{COUNTER}").status_code == 200


def test_put_removes_a_token_set_to_null(client):
    put(client, {"tokens": {"second": ["metrika:read"]}})
    assert put(client, {"tokens": {TOKEN: None}})["tokens"] == {masked("second"): ["metrika:read"]}
    assert client.get(f"/management/v1/counter/{COUNTER}").status_code == 401


def test_put_replaces_only_when_asked(client):
    put(client, {"rules": {"spam_goal": False}})
    setup = put(client, {"tokens": {"only": ["metrika:read"]}}, replace="true")
    assert setup["tokens"] == {masked("only"): ["metrika:read"]}
    assert setup["rules"]["spam_goal"] is True  # back to the default
    bad = client.put(f"/_emulator/counters/{COUNTER}", json={}, params={"replace": "maybe"})
    assert bad.status_code == 400


def test_put_refuses_a_bad_partial_setup_and_changes_nothing(client):
    before = put(client, {})
    for body in ({"tokens": {"x": ["metrika:everything"]}}, {"rules": {"spam_goal": "no"}}, []):
        response = client.put(f"/_emulator/counters/{COUNTER}", json=body)
        assert response.status_code == 400, body
    assert put(client, {}) == before


def test_an_unclosed_inprocess_client_does_not_hang_the_process():
    script = textwrap.dedent(
        """
        from emulator import Emulator
        from emulator.api import inprocess_client
        client = inprocess_client(Emulator(), "t")
        print(client.get("/_emulator/clock").status_code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "200"), done.stderr


def test_run_via_http_adds_its_token_and_reset_keeps_the_servers():
    emulator = Emulator()
    emulator.put_counter(CounterConfig(COUNTER, tokens={"server-token": tuple(FULL)}))
    app = create_app(emulator, ApiSettings(quotas=QuotaSettings(enabled=False)))
    scenario = scenario_from_mapping(
        {
            "simulation": {"days": 2, "traffic": {"visitors_per_day": 200.0}},
            "export": {"exporters": {"live": {"format": "simple_orders", "schedule": "realtime"}}},
        }
    )
    with LiveServer(app) as server:
        result = run_scenario(scenario, via="http", base_url=server.base_url, token="run-token")
        assert result.scorecard["run"]["uploads"] > 0
        for token in ("server-token", "run-token"):
            answer = httpx.get(
                f"{server.base_url}/management/v1/counter/{COUNTER}",
                headers={"Authorization": f"OAuth {token}"},
            )
            assert answer.status_code == 200, token
    emulator.close()
