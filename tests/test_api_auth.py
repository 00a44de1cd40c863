"""Tokens, scopes and quotas over loopback HTTP (spec §2.2, §2.3)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from emulator import CounterConfig, Emulator
from emulator.api import ApiSettings, inprocess_client
from emulator.api.quotas import CLIENT_READ, QuotaBook
from emulator.api.settings import QuotaSettings
from emulator.errors import ApiError

READER = "reader-token"
WRITER = "writer-token"
OFFLINE = "offline-token"
OTHER = "other-counter-token"
SIMPLE_CSV = b"id,create_date_time,client_ids\no1,10.01.2024,1\n"
DAY = date(2024, 1, 1)


@pytest.fixture
def emulator(metrica_emulator):
    metrica_emulator.put_counter(
        tokens={
            READER: ["metrika:read"],
            WRITER: ["metrika:write"],
            OFFLINE: ["metrika:offline_data"],
            metrica_emulator.token: ["metrika:read", "metrika:write"],
        }
    )
    metrica_emulator.put_counter(1000, tokens={OTHER: ["metrika:read", "metrika:write"]})
    return metrica_emulator


def call(emulator, method: str, path: str, token: str | None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"OAuth {token}"} if token else {}
    with httpx.Client(base_url=emulator.base_url) as client:
        return client.request(method, path, headers=headers, **kwargs)


def goals(emulator) -> str:
    return f"/management/v1/counter/{emulator.counter_id}/goals"


def upload(emulator) -> str:
    return f"/cdp/api/v1/counter/{emulator.counter_id}/data/simple_orders?merge_mode=SAVE"


def envelope(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert body["code"] == response.status_code
    return response.status_code, body["errors"][0]["error_type"]


def test_no_token_and_unknown_token_are_401(emulator):
    assert envelope(call(emulator, "GET", goals(emulator), None)) == (401, "unauthorized")
    assert envelope(call(emulator, "GET", goals(emulator), "nope")) == (401, "unauthorized")


def test_token_of_another_counter_is_403(emulator):
    assert envelope(call(emulator, "GET", goals(emulator), OTHER)) == (403, "access_denied")
    other = call(emulator, "GET", "/management/v1/counter/1000/goals", OTHER)
    assert other.status_code == 200


def test_scopes_decide_reads_and_writes(emulator):
    files = {"file": SIMPLE_CSV}
    assert call(emulator, "GET", goals(emulator), READER).status_code == 200
    assert envelope(call(emulator, "POST", upload(emulator), READER, files=files)) == (
        403,
        "access_denied",
    )
    assert call(emulator, "POST", upload(emulator), WRITER, files=files).status_code == 200
    assert call(emulator, "POST", upload(emulator), OFFLINE, files=files).status_code == 200
    # metrika:offline_data opens CRM uploads, not reads.
    assert envelope(call(emulator, "GET", goals(emulator), OFFLINE)) == (403, "access_denied")
    # Creating a goal is a management write: metrika:write only.
    goal = {
        "goal": {"name": "Buy", "type": "action", "conditions": [{"type": "exact", "url": "b"}]}
    }
    assert call(emulator, "POST", goals(emulator), OFFLINE, json=goal).status_code == 403
    assert call(emulator, "POST", goals(emulator), WRITER, json=goal).status_code == 200


def test_bearer_is_accepted_and_the_query_token_only_when_asked(emulator, tmp_path):
    with httpx.Client(base_url=emulator.base_url) as client:
        bearer = client.get(goals(emulator), headers={"Authorization": f"Bearer {READER}"})
        query = client.get(goals(emulator), params={"oauth_token": READER})
    assert bearer.status_code == 200
    assert envelope(query) == (401, "unauthorized")
    assert "oauth_token" not in query.json()["message"]  # not offered when off
    emu = Emulator(tmp_path / "state.sqlite3")
    emu.put_counter(CounterConfig(1, tokens={READER: ("metrika:read",)}))
    with inprocess_client(emu, settings=ApiSettings(query_token=True)) as client:
        query = client.get("/management/v1/counter/1/goals", params={"oauth_token": READER})
    emu.close()
    assert query.status_code == 200


def test_daily_quota_per_counter_resets_with_the_clock(emulator):
    emulator.client.put(
        "/_emulator/quotas", json={"enabled": True, "requests_per_day_per_counter": 2}
    )
    statuses = [call(emulator, "GET", goals(emulator), READER).status_code for _ in range(2)]
    assert statuses == [200, 200]
    refused = call(emulator, "GET", goals(emulator), READER)
    assert envelope(refused) == (429, "quota_requests_by_counter_id")
    # Another group (writes) has its own count.
    assert call(emulator, "POST", upload(emulator), WRITER, files={"file": SIMPLE_CSV}).is_success
    emulator.clock.advance(days=1)
    assert call(emulator, "GET", goals(emulator), READER).status_code == 200


def test_daily_quota_per_user(emulator):
    emulator.client.put("/_emulator/quotas", json={"requests_per_day_per_user": 1, "enabled": True})
    assert call(emulator, "GET", goals(emulator), READER).status_code == 200
    assert envelope(call(emulator, "GET", goals(emulator), READER)) == (
        429,
        "quota_requests_by_uid",
    )
    assert call(emulator, "GET", goals(emulator), WRITER).status_code == 200


def test_quotas_switch_off(emulator):
    settings = {"enabled": True, "requests_per_day_per_counter": 1}
    emulator.client.put("/_emulator/quotas", json=settings)
    call(emulator, "GET", goals(emulator), READER)
    assert call(emulator, "GET", goals(emulator), READER).status_code == 429
    answer = emulator.client.put("/_emulator/quotas", json={"enabled": False}).json()
    assert answer["enabled"] is False
    assert call(emulator, "GET", goals(emulator), READER).status_code == 200


def test_quota_settings_are_checked(emulator):
    bad = emulator.client.put("/_emulator/quotas", json={"per_minute": 5})
    assert envelope(bad) == (400, "invalid_parameter")
    assert envelope(emulator.client.put("/_emulator/quotas", json={"enabled": "yes"}))[0] == 400


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_second_per_ip_is_a_sliding_window():
    clock = FakeTime()
    book = QuotaBook(QuotaSettings(requests_per_second_per_ip=2), monotonic=clock)
    for _ in range(2):
        assert book.enter(CLIENT_READ, "10.0.0.1", "t", [1], DAY)
        book.leave("t")
    with pytest.raises(ApiError) as refused:
        book.enter(CLIENT_READ, "10.0.0.1", "t", [1], DAY)
    assert refused.value.error_type == "quota_requests_by_ip"
    assert refused.value.status == 429
    # Another IP is counted apart; a second later the window has slid.
    assert book.enter(CLIENT_READ, "10.0.0.2", "t", [1], DAY)
    book.leave("t")
    clock.now += 1.0
    assert book.enter(CLIENT_READ, "10.0.0.1", "t", [1], DAY)


def test_parallel_requests_per_user():
    book = QuotaBook(QuotaSettings(parallel_requests_per_user=2), monotonic=FakeTime())
    book.enter(CLIENT_READ, "a", "user", [1], DAY)
    book.enter(CLIENT_READ, "b", "user", [1], DAY)
    with pytest.raises(ApiError) as refused:
        book.enter(CLIENT_READ, "c", "user", [1], DAY)
    assert refused.value.error_type == "quota_parallel_requests"
    book.leave("user")
    assert book.enter(CLIENT_READ, "c", "user", [1], DAY)


def test_disabled_quotas_count_nothing():
    book = QuotaBook(QuotaSettings(enabled=False, requests_per_day_per_user=0))
    assert book.enter(CLIENT_READ, "a", "user", [1], DAY) is False
