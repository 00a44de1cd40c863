"""Bad requests over real loopback HTTP get the documented error and leave the state unchanged.

The state is compared as a full dump of the engine's SQLite database before and after each
request, so "nothing stored" covers uploadings, orders, decisions, goals and id sequences.
"""

from __future__ import annotations

import pytest
import requests

from emulator import CounterConfig, Emulator
from emulator.api import ApiSettings, LiveServer, QuotaSettings, create_app

COUNTER = 2215573
TOKEN = "bad-input-token"
VALID = b"id,create_date_time,client_ids,order_status,revenue\no1,10.01.2024 11:56,12345,PAID,200\n"
LIMIT = len(VALID)
SIMPLE = f"/cdp/api/v1/counter/{COUNTER}/data/simple_orders"
ORDERS_JSON = f"/cdp/api/v1/counter/{COUNTER}/data/orders/json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("bad_input") / "state.sqlite3")
    settings = ApiSettings(max_upload_bytes=LIMIT, quotas=QuotaSettings(enabled=False))
    with LiveServer(create_app(emu, settings)) as live:
        yield emu, live.base_url
    emu.close()


@pytest.fixture
def api(server):
    emu, base_url = server
    emu.reset()
    emu.put_counter(CounterConfig(COUNTER, tokens={TOKEN: ("metrika:write", "metrika:read")}))
    session = requests.Session()
    session.headers["Authorization"] = f"OAuth {TOKEN}"
    yield emu, base_url, session
    session.close()


def dump(emu: Emulator) -> list[str]:
    return emu.store.dump()


def refused(api, method: str, path: str, **kwargs) -> dict:
    """Send a request that must fail; return its envelope after checking nothing changed."""
    emu, base_url, session = api
    before = dump(emu)
    response = session.request(method, base_url + path, **kwargs)
    assert dump(emu) == before
    body = response.json()
    assert set(body) == {"errors", "code", "message"}
    assert body["code"] == response.status_code
    assert "Traceback" not in response.text
    return body


def refused_upload(api, **kwargs) -> dict:
    """A simple-orders upload with ``merge_mode=SAVE`` that must be refused."""
    return refused(api, "POST", SIMPLE, params={"merge_mode": "SAVE"}, **kwargs)


def error_type(body: dict) -> str:
    return body["errors"][0]["error_type"]


def test_a_valid_file_of_exactly_the_limit_is_stored(api):
    emu, base_url, session = api
    response = session.post(base_url + SIMPLE, params={"merge_mode": "SAVE"}, files={"file": VALID})
    assert response.status_code == 200, response.text
    assert emu.order_ids(COUNTER) == ["o1"]


def test_a_file_one_byte_over_the_limit_is_refused(api):
    body = refused_upload(api, files={"file": VALID + b"\n"})
    assert body["code"] == 400
    assert error_type(body) == "invalid_uploading"
    assert str(LIMIT) in body["message"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [({}, "missing_parameter"), ({"merge_mode": "MERGE"}, "invalid_parameter")],
    ids=["missing", "wrong"],
)
def test_merge_mode_missing_or_wrong(api, params, expected):
    body = refused(api, "POST", SIMPLE, params=params, files={"file": VALID})
    assert body["code"] == 400
    assert error_type(body) == expected
    assert body["errors"][0]["location"] == "merge_mode"


def test_missing_file_part(api):
    body = refused_upload(api, files={"document": VALID})
    assert (body["code"], error_type(body)) == (400, "missing_parameter")
    assert body["errors"][0]["location"] == "file"


@pytest.mark.parametrize(
    "payload",
    [
        b'--XYZ\r\nContent-Disposition: form-data; name="file"\r\n\r\nid,create',
        b"no boundary at all",
        b"",
    ],
    ids=["truncated", "no-parts", "empty"],
)
def test_malformed_multipart(api, payload):
    headers = {"Content-Type": "multipart/form-data; boundary=XYZ"}
    body = refused_upload(api, data=payload, headers=headers)
    assert (body["code"], error_type(body)) == (400, "invalid_uploading")


def test_csv_sent_without_multipart(api):
    body = refused_upload(
        api,
        data=VALID,
        headers={"Content-Type": "text/csv"},
    )
    assert (body["code"], error_type(body)) == (400, "invalid_uploading")


def test_non_utf8_file(api):
    latin = "id,create_date_time,client_ids,order_status\nпервый,10.01.2024,1,PAID\n"
    body = refused_upload(
        api,
        files={"file": latin.encode("cp1251")},
    )
    assert (body["code"], error_type(body)) == (400, "invalid_uploading")
    assert "line 2" in body["errors"][0]["location"]


def test_bad_row_lists_line_column_and_stores_nothing(api):
    bad = b"id,create_date_time,client_ids\nx,32.13.2024,1\n"
    body = refused_upload(api, files={"file": bad})
    assert (body["code"], error_type(body)) == (400, "invalid_uploading")
    assert body["errors"][0]["location"] == "line 2, column create_date_time"


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"orders"', b"42", b"{not json", b""], ids=str)
def test_json_body_that_is_not_an_object(api, payload):
    body = refused(
        api,
        "POST",
        ORDERS_JSON,
        params={"merge_mode": "SAVE"},
        data=payload,
        headers={"Content-Type": "application/json"},
    )
    assert (body["code"], error_type(body)) == (400, "invalid_json")


def test_json_body_over_the_limit(api):
    payload = b'{"orders": [' + b" " * LIMIT + b"]}"
    body = refused(
        api,
        "POST",
        ORDERS_JSON,
        params={"merge_mode": "SAVE"},
        data=payload,
        headers={"Content-Type": "application/json"},
    )
    assert (body["code"], error_type(body)) == (400, "invalid_uploading")


@pytest.mark.parametrize("counter", ["1", "2215574"])
def test_wrong_counter_id_is_access_denied(api, counter):
    path = SIMPLE.replace(str(COUNTER), counter)
    body = refused(api, "POST", path, params={"merge_mode": "SAVE"}, files={"file": VALID})
    assert (body["code"], error_type(body)) == (403, "access_denied")


def test_counter_id_that_is_not_a_number(api):
    path = SIMPLE.replace(str(COUNTER), "abc")
    body = refused(api, "POST", path, params={"merge_mode": "SAVE"}, files={"file": VALID})
    assert (body["code"], error_type(body)) == (400, "invalid_parameter")


def test_unknown_route_wrong_method_and_bad_parameter_type(api):
    assert error_type(refused(api, "GET", "/cdp/api/v1/counter/1/nothing")) == "not_found"
    body = refused(api, "GET", SIMPLE)
    assert body["code"] == 405
    limit = refused(api, "GET", f"/cdp/api/v1/counter/{COUNTER}/last_uploadings?limit=ten")
    assert (limit["code"], error_type(limit)) == (400, "invalid_parameter")
    assert limit["errors"][0]["location"] == "limit"


def test_405_names_the_allowed_methods(api):
    _, base_url, session = api
    response = session.delete(base_url + SIMPLE)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_an_unexpected_failure_is_a_backend_error_envelope(api, monkeypatch):
    emu, _, _ = api

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(emu, "order_statuses", broken)
    body = refused(api, "GET", f"/cdp/api/v1/counter/{COUNTER}/schema/order_statuses")
    assert (body["code"], error_type(body)) == (503, "backend_error")
    assert "disk on fire" not in body["message"]
