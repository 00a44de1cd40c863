"""The control-plane protections of issue 11 over real loopback HTTP (emulator.api.protect).

What a web page in the user's browser could do to an emulator on 127.0.0.1 is refused:
foreign ``Host`` names (DNS rebinding), control requests of the types a page may send
cross-site without a preflight, control requests without the admin token when one is set.
Also: no CORS unless configured, ``X-Forwarded-For`` only from configured proxies, quota
changes kept across restarts.
"""

from __future__ import annotations

import json

import httpx
import pytest

from emulator import CounterConfig, Emulator
from emulator.api import ApiSettings, LiveServer, QuotaSettings, create_app, load_config
from emulator.api.protect import ADMIN_HEADER, is_loopback
from emulator.api.quotas import QuotaBook
from emulator.cli import main

COUNTER = 2215573
TOKEN = "protect-token"
AUTH = {"Authorization": f"OAuth {TOKEN}"}
GOALS = f"/management/v1/counter/{COUNTER}/goals"
NOW = {"now": "2024-05-01T10:00:00+00:00"}


def emulator_at(path) -> Emulator:
    emu = Emulator(path)
    emu.put_counter(CounterConfig(COUNTER, tokens={TOKEN: ("metrika:read", "metrika:write")}))
    return emu


@pytest.fixture
def serve(tmp_path):
    """Start an app with the given settings on loopback; yields a client factory."""
    started = []

    def start(settings: ApiSettings | None = None, **server) -> httpx.Client:
        emu = emulator_at(tmp_path / f"state{len(started)}.sqlite3")
        app = create_app(emu, settings or ApiSettings())
        if "quotas" in server:
            app.state.api.quotas = server.pop("quotas")
        live = LiveServer(app, **server).start()
        client = httpx.Client(base_url=live.base_url)
        started.append((emu, live, client))
        return client

    yield start
    for emu, live, client in started:
        client.close()
        live.stop()
        emu.close()


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["error_type"]


def test_foreign_host_names_are_refused_on_every_route(serve):
    client = serve(ApiSettings(allowed_hosts=("crm.test",)))
    for host in ("evil.example", "evil.example:80", "localhost.evil.example"):
        headers = {**AUTH, "Host": host}
        assert error_of(client.get(GOALS, headers=headers)) == (400, "invalid_parameter")
        refused = client.get("/_emulator/clock", headers=headers)
        assert refused.json()["errors"][0]["location"] == "Host"
    for host in ("localhost", "localhost:8080", "127.0.0.1", "[::1]:80", "crm.test"):
        assert client.get(GOALS, headers={**AUTH, "Host": host}).status_code == 200, host


@pytest.mark.parametrize(
    "kind",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_control_posts_of_cross_site_types_are_refused(serve, kind):
    client = serve()
    before = client.get("/_emulator/clock").json()
    headers = {"Content-Type": kind} if kind else {}
    refused = client.post("/_emulator/clock", content=json.dumps(NOW), headers=headers)
    assert error_of(refused) == (415, "invalid_parameter")
    assert client.get("/_emulator/clock").json() == before
    for path in ("/_emulator/reset", f"/_emulator/counters/{COUNTER}/visits"):
        assert client.post(path, headers=headers).status_code == 415
    assert client.get(GOALS, headers=AUTH).status_code == 200  # nothing was reset


def test_control_routes_take_json_and_csv_where_they_read_csv(serve):
    client = serve()
    assert client.post("/_emulator/clock", json=NOW).json() == {"now": NOW["now"]}
    csv = b"visit_id,client_id,start_time\n1,42,1714546800\n"
    visits = f"/_emulator/counters/{COUNTER}/visits"
    loaded = client.post(visits, content=csv, headers={"Content-Type": "text/csv"})
    assert loaded.json() == {"loaded": 1}
    csv_clock = client.post("/_emulator/clock", content=b"{}", headers={"Content-Type": "text/csv"})
    assert csv_clock.status_code == 415
    assert client.delete("/_emulator/faults").status_code == 200  # browsers preflight DELETE


def test_the_admin_token_guards_every_control_route(serve):
    client = serve(ApiSettings(admin_token="s3cret"))
    for headers in ({}, {ADMIN_HEADER: "guess"}, {ADMIN_HEADER: "s3cre"}):
        assert error_of(client.get("/_emulator/clock", headers=headers)) == (401, "unauthorized")
        assert client.post("/_emulator/clock", json=NOW, headers=headers).status_code == 401
    admin = {ADMIN_HEADER: "s3cret"}
    assert client.post("/_emulator/clock", json=NOW, headers=admin).json() == {"now": NOW["now"]}
    assert client.get(GOALS, headers=AUTH).status_code == 200  # real routes need only OAuth


def test_no_cors_headers_unless_configured(serve):
    preflight = {
        "Origin": "http://app.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    closed = serve()
    answer = closed.options("/_emulator/clock", headers=preflight)
    assert "access-control-allow-origin" not in answer.headers
    simple = closed.get("/_emulator/clock", headers={"Origin": "http://app.test"})
    assert "access-control-allow-origin" not in simple.headers
    opened = serve(ApiSettings(cors_origins=("http://app.test",)))
    answer = opened.options("/_emulator/clock", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "http://app.test"
    other = opened.options("/_emulator/clock", headers={**preflight, "Origin": "http://x.test"})
    assert "access-control-allow-origin" not in other.headers


def test_forwarded_for_is_believed_only_from_configured_proxies(serve):
    def frozen_book() -> QuotaBook:
        """A per-IP quota of 1 a second over a clock that never moves."""
        return QuotaBook(QuotaSettings(requests_per_second_per_ip=1), monotonic=lambda: 0.0)

    def statuses(client: httpx.Client) -> list[int]:
        return [
            client.get(GOALS, headers={**AUTH, "X-Forwarded-For": f"10.0.0.{n}"}).status_code
            for n in (1, 2)
        ]

    assert statuses(serve(quotas=frozen_book())) == [200, 429]
    trusting = serve(quotas=frozen_book(), forwarded_allow_ips=("127.0.0.1",))
    assert statuses(trusting) == [200, 200]


def test_quota_changes_survive_a_restart_until_a_reset(tmp_path):
    db = tmp_path / "state.sqlite3"
    configured = ApiSettings(quotas=QuotaSettings(requests_per_day_per_user=100))
    emu = emulator_at(db)
    with LiveServer(create_app(emu, configured)) as live, httpx.Client(base_url=live.base_url) as c:
        c.put("/_emulator/quotas", json={"requests_per_day_per_user": 7})
    emu.close()
    emu = Emulator(db)
    with LiveServer(create_app(emu, configured)) as live, httpx.Client(base_url=live.base_url) as c:
        assert c.get("/_emulator/quotas").json()["requests_per_day_per_user"] == 7
        c.post("/_emulator/reset", json={})
        assert c.get("/_emulator/quotas").json()["requests_per_day_per_user"] == 100
    emu.close()


def test_a_network_address_needs_an_admin_token(capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--db", ":memory:"]) == 2
    message = capsys.readouterr().err.strip()
    assert "--admin-token" in message and len(message.splitlines()) == 1
    assert [is_loopback(h) for h in ("127.0.0.2", "::1", "[::1]", "localhost")] == [True] * 4
    assert [is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com")] == [False] * 4


def test_protection_settings_come_from_the_config_file(tmp_path):
    config = tmp_path / "serve.toml"
    config.write_text(
        '[server]\nallowed_hosts = ["crm.test"]\nadmin_token = "t"\n'
        'cors_origins = ["http://app.test"]\nforwarded_allow_ips = ["10.0.0.1"]\n'
        "query_token = true\nbody_timeout_seconds = 5\n"
    )
    settings = load_config(config).settings
    assert settings.allowed_hosts == ("crm.test",) and settings.admin_token == "t"
    assert settings.cors_origins == ("http://app.test",) and settings.query_token
    assert settings.forwarded_allow_ips == ("10.0.0.1",) and settings.body_timeout_seconds == 5
    config.write_text('[server]\nallowed_hosts = "crm.test"\n')
    with pytest.raises(ValueError, match="allowed_hosts"):
        load_config(config)
