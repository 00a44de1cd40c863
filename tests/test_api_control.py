"""The ``/_emulator`` control routes, through the in-process client (no socket needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator import Emulator
from emulator.api import inprocess_client
from emulator.api.views import masked

COUNTER = 2215573
TOKEN = "control-token"
SETUP = {
    "time_zone": "Asia/Yekaterinburg",
    "tokens": {TOKEN: ["metrika:write", "metrika:read"]},
    "goals": [{"id": 101, "name": "Good leads", "identifier": "good_lead"}],
    "rules": {"spam_goal": False},
}


@pytest.fixture
def client(tmp_path):
    emu = Emulator(tmp_path / "state.sqlite3")
    with inprocess_client(emu, TOKEN) as http:
        assert http.put(f"/_emulator/counters/{COUNTER}", json=SETUP).status_code == 200
        yield http
    emu.close()


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["error_type"]


def test_put_counter_answers_its_whole_setup(client):
    body = client.get(f"/_emulator/counters/{COUNTER}").json()
    assert body["time_zone"] == "Asia/Yekaterinburg"
    assert body["tokens"] == {masked(TOKEN): ["metrika:write", "metrika:read"]}
    assert TOKEN not in client.get(f"/_emulator/counters/{COUNTER}").text
    assert body["goals"][0]["identifier"] == "good_lead"
    assert body["rules"]["spam_goal"] is False
    counter = client.get(f"/management/v1/counter/{COUNTER}").json()["counter"]
    assert (counter["time_zone_name"], counter["time_zone_offset"]) == ("Asia/Yekaterinburg", 300)


@pytest.mark.parametrize(
    "setup",
    [
        {"time_zone": "Mars/Olympus"},
        {"rules": {"no_such_rule": 1}},
        {"rules": {"spam_goal": "yes"}},
        {"tokens": {"t": ["metrika:everything"]}},
        {"goals": [{"id": "x", "name": "n"}]},
        {"colour": "blue"},
    ],
    ids=["zone", "rule", "rule-type", "scope", "goal", "unknown"],
)
def test_put_counter_refuses_a_bad_setup(client, setup):
    response = client.put(f"/_emulator/counters/{COUNTER}", json=setup)
    assert error_of(response) == (400, "invalid_parameter")
    assert client.get(f"/_emulator/counters/{COUNTER}").json()["time_zone"] == SETUP["time_zone"]


def test_clock_set_advance_and_refusals(client):
    start = client.post("/_emulator/clock", json={"now": "2024-05-01T10:00:00+05:00"}).json()
    assert datetime.fromisoformat(start["now"]) == datetime(2024, 5, 1, 5, tzinfo=UTC)
    later = client.post("/_emulator/clock", json={"advance_seconds": 90}).json()
    assert datetime.fromisoformat(later["now"]) == datetime(2024, 5, 1, 5, 1, 30, tzinfo=UTC)
    assert client.get("/_emulator/clock").json() == later
    for bad in (
        {"now": "2024-05-01T10:00:00"},
        {"now": "soon"},
        {"advance_seconds": -1},
        {"advance_seconds": "1"},
        {"now": "2024-05-01T10:00:00Z", "advance_seconds": 1},
        {},
    ):
        assert client.post("/_emulator/clock", json=bad).status_code == 400, bad
    assert client.get("/_emulator/clock").json() == later


def test_reset_restores_the_counters_the_app_started_with(client):
    """The fixture's client set up counter 2215573 with its token at start (no counter was
    there); a reset forgets the later setup and data, and brings that counter back."""
    client.put(f"/_emulator/counters/{COUNTER + 1}", json={"tokens": {"other": ["metrika:read"]}})
    uploaded = client.post(
        f"/cdp/api/v1/counter/{COUNTER}/data/simple_orders?merge_mode=SAVE",
        files={"file": b"id,create_date_time,client_ids\no1,01.01.2024,5\n"},
    )
    assert uploaded.status_code == 200, uploaded.text
    assert len(client.get(f"/_emulator/counters/{COUNTER}/orders").json()["orders"]) == 1
    assert client.post("/_emulator/reset", json={}).json() == {"ok": True}
    restored = client.get(f"/_emulator/counters/{COUNTER}").json()
    assert (restored["time_zone"], restored["goals"]) == ("Europe/Moscow", [])
    assert set(restored["tokens"]) == {masked(TOKEN)}
    assert error_of(client.get(f"/_emulator/counters/{COUNTER + 1}")) == (404, "not_found")
    assert client.get(f"/management/v1/counter/{COUNTER}").status_code == 200
    assert client.get(f"/_emulator/counters/{COUNTER}/orders").json() == {"orders": []}


def test_visits_from_csv_and_json(client):
    csv = (
        "visit_id,client_id,start_time,traffic_source,utm_source,yclid,email_md5\n"
        f'1,42,1714546800,ad,yandex,123456,"{"a" * 32},{"B" * 32}"\n'
        "2,42,2024-05-02T10:00:00+05:00,organic,,,\n"
    )
    loaded = client.post(
        f"/_emulator/counters/{COUNTER}/visits",
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert loaded.json() == {"loaded": 2}
    as_json = client.post(
        f"/_emulator/counters/{COUNTER}/visits",
        json={"visits": [{"visit_id": 3, "client_id": "43", "start_time": 1714546800}]},
    )
    assert as_json.json() == {"loaded": 1}
    again = client.post(
        f"/_emulator/counters/{COUNTER}/visits",
        content=csv.encode(),
        headers={"Content-Type": "text/csv; charset=utf-8"},
    )
    assert again.json() == {"loaded": 0}  # identical visits again: a no-op
    as_file = client.post(f"/_emulator/counters/{COUNTER}/visits", files={"file": csv.encode()})
    assert as_file.status_code == 415  # a form post is what any web page can send


@pytest.mark.parametrize(
    ("body", "column"),
    [
        ("visit_id,client_id\n1,42\n", "start_time"),
        ("visit_id,client_id,start_time\n1,x,1714546800\n", "client_id"),
        ("visit_id,client_id,start_time\n1,42,2024-05-02T10:00:00\n", "start_time"),
        ("visit_id,client_id,start_time,colour\n1,42,1714546800,red\n", "colour"),
        ("visit_id,client_id,start_time\n9223372036854775808,42,1714546800\n", "visit_id"),
        ("visit_id,client_id,start_time\n1,18446744073709551616,1714546800\n", "client_id"),
        ("visit_id,client_id,start_time,email_md5\n1,42,1714546800,zz\n", "email_md5"),
    ],
    ids=[
        "missing",
        "not-a-number",
        "no-offset",
        "unknown-column",
        "id-2^63",
        "clientid-2^64",
        "md5",
    ],
)
def test_bad_visits_load_nothing(client, body, column):
    response = client.post(
        f"/_emulator/counters/{COUNTER}/visits",
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert error_of(response) == (400, "invalid_uploading")
    assert column in response.json()["errors"][0]["location"]
    good = "visit_id,client_id,start_time\n1,42,1714546800\n"
    again = client.post(
        f"/_emulator/counters/{COUNTER}/visits",
        content=good.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert again.json() == {"loaded": 1}


def test_conflicting_visit_is_409(client):
    path = f"/_emulator/counters/{COUNTER}/visits"
    client.post(path, json={"visits": [{"visit_id": 1, "client_id": 1, "start_time": 0}]})
    other = client.post(path, json={"visits": [{"visit_id": 1, "client_id": 2, "start_time": 0}]})
    assert error_of(other) == (409, "conflict")


def test_unknown_order_and_uploading_are_404_envelopes(client):
    assert error_of(client.get(f"/_emulator/counters/{COUNTER}/orders/none")) == (
        404,
        "not_found",
    )
    rows = client.get(f"/_emulator/counters/{COUNTER}/offline_conversions/9/rows")
    assert error_of(rows) == (404, "not_found")
    assert client.get(f"/_emulator/counters/{COUNTER}/goal_reaches").json() == {"goal_reaches": []}


def test_faults_answer_the_next_requests_then_stop(client):
    goals = f"/management/v1/counter/{COUNTER}/goals"
    fault = {"path": "/management/v1/counter/{counterId}/goals", "count": 2, "status": 503}
    assert client.post("/_emulator/faults", json=fault).json()["faults"][0]["count"] == 2
    first, second, third = (client.get(goals) for _ in range(3))
    assert error_of(first) == (503, "backend_error")
    assert first.headers["Retry-After"] == "1"
    assert second.status_code == 503
    assert third.status_code == 200
    assert client.get("/_emulator/faults").json() == {"faults": []}


def test_fault_by_pattern_method_and_custom_type(client):
    fault = {
        "path": "/cdp/api/v1/counter/*/data/*",
        "method": "post",
        "status": 429,
        "error_type": "quota_requests_by_ip",
    }
    client.post("/_emulator/faults", json=fault)
    read = client.get(f"/cdp/api/v1/counter/{COUNTER}/last_uploadings")
    assert read.status_code == 200  # a GET does not match
    upload = client.post(
        f"/cdp/api/v1/counter/{COUNTER}/data/contacts/json?merge_mode=SAVE",
        json={"contacts": [{"uniq_id": "c1"}]},
    )
    assert error_of(upload) == (429, "quota_requests_by_ip")
    assert client.delete("/_emulator/faults").json() == {"faults": []}


def test_delay_fault_then_normal_answer(client):
    client.post("/_emulator/faults", json={"path": "/stat/v1/data", "delay_seconds": 0.01})
    response = client.get("/stat/v1/data", params={"ids": COUNTER, "metrics": "ym:s:visits"})
    assert response.status_code == 200
    assert client.get("/_emulator/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    "fault",
    [
        {"path": "/x"},
        {"path": "/x", "status": 200},
        {"path": "/x", "status": 500, "count": 0},
        {"path": "/x", "delay_seconds": 1000},
        {"path": "/x", "status": 500, "error_type": "oops"},
        {"path": "/x", "status": 500, "colour": "red"},
        [],
    ],
)
def test_bad_faults_are_refused(client, fault):
    assert client.post("/_emulator/faults", json=fault).status_code == 400
    assert client.get("/_emulator/faults").json() == {"faults": []}


def test_control_routes_need_no_token(client):
    response = client.get("/_emulator/clock", headers={"Authorization": ""})
    assert response.status_code == 200
