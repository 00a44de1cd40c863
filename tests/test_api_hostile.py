"""Hostile requests against a live ``crmemu serve``: every one a 4xx envelope, never a 5xx.

Each class of input that once broke the server (issue 11) is listed, plus property-based
bodies from hypothesis. A response must be the documented envelope and show no internals
(no traceback, no file path, no Python exception name). The hypothesis requests go to a
second counter; the first holds one upload made at the start, which must be there, as it
was, at the end, with the server still up and its database passing ``integrity_check``.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serve_support import Served, start_server

COUNTER = 2215573
SPARE = 42
TOKEN = "hostile-token"
SCOPES = '["metrika:read", "metrika:write", "metrika:offline_data"]'
CONFIG = f"""
[server]
body_timeout_seconds = 1.0

[quotas]
enabled = false

[[counters]]
id = {COUNTER}
tokens = {{ "{TOKEN}" = {SCOPES} }}

[[counters]]
id = {SPARE}
tokens = {{ "{TOKEN}" = {SCOPES} }}
"""
SEED = b"id,create_date_time,client_ids,order_status,revenue\nseed1,10.01.2024 11:56,77,PAID,5\n"
INTERNALS = (
    "Traceback",
    "site-packages",
    'File "',
    sys.prefix,
    "RecursionError",
    "OverflowError",
    "UnicodeEncodeError",
    "_csv.Error",
    "FormParserError",
    "Errno",
)
ENVELOPE_TYPES = {"invalid_parameter", "invalid_uploading", "invalid_json", "missing_parameter"}


def cdp(counter: int, rest: str) -> str:
    return f"/cdp/api/v1/counter/{counter}/{rest}"


def json_routes(counter: int) -> list[tuple[str, str]]:
    """Every route that reads a JSON body (method, path)."""
    offline = f"/management/v1/counter/{counter}"
    return [
        ("POST", cdp(counter, "data/orders/json?merge_mode=SAVE")),
        ("POST", cdp(counter, "data/contacts/json?merge_mode=SAVE")),
        ("POST", cdp(counter, "data/orders?merge_mode=SAVE")),
        ("POST", cdp(counter, "data/contacts?merge_mode=SAVE")),
        ("POST", cdp(counter, "schema/order_statuses")),
        ("POST", cdp(counter, "schema/attributes?entity_type=CONTACT")),
        ("POST", cdp(counter, "schema/products")),
        ("POST", f"{offline}/goals"),
        ("POST", "/_emulator/clock"),
        ("PUT", f"/_emulator/counters/{counter + 1}"),
        ("POST", f"/_emulator/counters/{counter}/visits"),
        ("POST", "/_emulator/faults"),
        ("PUT", "/_emulator/quotas"),
    ]


def csv_routes(counter: int) -> list[str]:
    """Every route that reads a multipart CSV file."""
    offline = f"/management/v1/counter/{counter}/offline_conversions"
    return [
        cdp(counter, "data/simple_orders?merge_mode=SAVE"),
        cdp(counter, "data/orders/csv?merge_mode=SAVE"),
        cdp(counter, "data/contacts/csv?merge_mode=SAVE"),
        f"{offline}/upload",
        f"{offline}/upload_calls",
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    config = folder / "serve.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = folder / "state.sqlite3"
    served = start_server(folder / "serve.log", "--db", str(db), "--config", str(config))
    seed = send(served, "POST", csv_routes(COUNTER)[0], files={"file": SEED})
    assert seed.status_code == 200, seed.text
    yield served, folder / "serve.log", db
    served.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def send(served: Served, method: str, path: str, **kwargs) -> httpx.Response:
    """One request on its own connection (a refused body may close the connection)."""
    headers = {"Authorization": f"OAuth {TOKEN}", **kwargs.pop("headers", {})}
    with httpx.Client(base_url=served.url, timeout=30) as client:
        return client.request(method, path, headers=headers, **kwargs)


def assert_clean_4xx(response: httpx.Response) -> dict:
    """A 4xx in the documented envelope that reveals nothing of the server's insides."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"errors", "code", "message"}
    assert body["code"] == response.status_code
    for secret in INTERNALS:
        assert secret not in response.text, (secret, response.text[:500])
    return body


def json_post(method: str, path: str, raw: bytes) -> dict:
    return {"method": method, "path": path, "content": raw, "headers": JSON_TYPE}


JSON_TYPE = {"Content-Type": "application/json"}
CSV_TYPE = {"Content-Type": "text/csv"}
DEEP = b"[" * 1000 + b"]" * 1000
JUST_TOO_DEEP = b'{"orders": ' + b"[" * 101 + b"]" * 101 + b"}"
BIG = 2**63
VISITS = f"/_emulator/counters/{COUNTER}/visits"


def _multipart(boundary: str, content: bytes) -> dict:
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {
        "content": body,
        "headers": {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    }


def case(name: str, request: dict, expected: str, *marks) -> object:
    return pytest.param(request, expected, marks=marks, id=name)


SURROGATE_BODIES = {
    "orders": (
        cdp(COUNTER, "data/orders/json?merge_mode=SAVE"),
        '{"orders": [{"id": %s, "client_uniq_id": "1", "client_type": "CONTACT", '
        '"create_date_time": "2024-01-01", "order_status": "PAID"}]}',
    ),
    "contacts": (
        cdp(COUNTER, "data/contacts/json?merge_mode=SAVE"),
        '{"contacts": [{"uniq_id": "c1", "name": %s}]}',
    ),
    "goal": (
        f"/management/v1/counter/{COUNTER}/goals",
        '{"goal": {"name": %s, "type": "action", "conditions": [{"type": "exact", "url": "x"}]}}',
    ),
    "statuses": (
        cdp(COUNTER, "schema/order_statuses"),
        '{"order_statuses": [{"id": "s", "type": "PAID", "humanized": %s}]}',
    ),
    "clock": ("/_emulator/clock", '{"now": %s}'),
}


def hostile_cases() -> list:
    """(request, expected error type) of every hostile class of issue 11."""
    cases = []
    for method, path in json_routes(COUNTER):
        for name, raw in (("deep-1000", DEEP), ("deep-101", JUST_TOO_DEEP)):
            cases.append(
                case(f"{name} {method} {path}", json_post(method, path, raw), "invalid_json")
            )
    for name, (path, template) in SURROGATE_BODIES.items():
        request = json_post("POST", path, (template % '"\\ud800"').encode())
        cases.append(case(f"surrogate {name}", request, "invalid_json"))
    other = f"/_emulator/counters/{COUNTER + 1}"
    goal = json.dumps({"goals": [{"id": BIG, "name": "too big"}]}).encode()
    cases.append(case("goal id 2^63", json_post("PUT", other, goal), "invalid_parameter"))
    zone = json.dumps({"time_zone": "x" * 300}).encode()
    cases.append(case("time zone 300", json_post("PUT", other, zone), "invalid_parameter"))
    cr_only = b"id,create_date_time,client_ids\ro1,01.01.2024,5\ro2,01.01.2024,6\r"
    for path in csv_routes(COUNTER):
        request = {"method": "POST", "path": path, "files": {"file": cr_only}}
        cases.append(case(f"CR-only {path}", request, "invalid_uploading"))
        long = {"method": "POST", "path": path, **_multipart("B" * 300, SEED)}
        cases.append(case(f"boundary-300 {path}", long, "invalid_uploading"))
    # A visit id is an int64, a ClientID a uint64: one past each is refused.
    for field, too_big, name in (("visit_id", BIG, "2^63"), ("client_id", 2 * BIG, "2^64")):
        visit = {"visit_id": 1, "client_id": 1, "start_time": 1704067200, field: too_big}
        raw = json.dumps({"visits": [visit]}).encode()
        request = json_post("POST", VISITS, raw)
        cases.append(case(f"{field} {name} JSON", request, "invalid_uploading"))
        csv = f"visit_id,client_id,start_time\n{visit['visit_id']},{visit['client_id']},1\n"
        request = {"method": "POST", "path": VISITS, "content": csv.encode(), "headers": CSV_TYPE}
        cases.append(case(f"{field} {name} CSV", request, "invalid_uploading"))
    for days in ("1000000000000daysAgo", "999999daysAgo"):
        params = {"ids": COUNTER, "metrics": "ym:s:visits", "date1": days}
        report = {"method": "GET", "path": "/stat/v1/data", "params": params}
        cases.append(case(f"date1 {days}", report, "invalid_parameter"))
    return cases


@pytest.mark.parametrize(("request_", "expected"), hostile_cases())
def test_hostile_input_is_a_clean_400(server, request_, expected):
    served, _, _ = server
    request_ = dict(request_)
    body = assert_clean_4xx(send(served, request_.pop("method"), request_.pop("path"), **request_))
    assert body["code"] == 400
    assert body["errors"][0]["error_type"] == expected


def _raw_exchange(served: Served, payload: bytes, pause: float = 0.0) -> bytes:
    """Send ``payload`` on a raw socket (optionally stall), return all the server answers."""
    host, port = httpx.URL(served.url).host, httpx.URL(served.url).port
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(payload)
        time.sleep(pause)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_a_one_megabyte_header_is_431_in_the_envelope(server):
    served, _, _ = server
    request = b"GET /_emulator/clock HTTP/1.1\r\nHost: localhost\r\nX-Big: %s\r\n\r\n"
    status, body = _status_and_body(_raw_exchange(served, request % (b"a" * 1_000_000)))
    assert (status, body["code"]) == (431, 431)


def test_a_stalled_body_times_out_with_408(server):
    served, _, _ = server
    head = (
        f"POST {csv_routes(COUNTER)[0]} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: OAuth {TOKEN}\r\nContent-Type: multipart/form-data; boundary=X\r\n"
        "Content-Length: 10000\r\n\r\n--X\r\n"
    ).encode()
    status, body = _status_and_body(_raw_exchange(served, head))
    assert (status, body["errors"][0]["error_type"]) == (408, "timeout")


def test_headers_sent_a_byte_at_a_time_time_out_with_408(server):
    served, _, _ = server
    status, body = _status_and_body(_raw_exchange(served, b"GET /_emulator/clock HTTP/1.1\r\nHo"))
    assert (status, body["errors"][0]["error_type"]) == (408, "timeout")


def test_a_client_gone_mid_upload_is_one_log_line(server):
    served, log, _ = server
    before = log.read_text()
    head = (
        f"POST {csv_routes(COUNTER)[0]} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: OAuth {TOKEN}\r\nContent-Type: multipart/form-data; boundary=X\r\n"
        "Content-Length: 100000\r\n\r\n--X\r\n"
    ).encode()
    host, port = httpx.URL(served.url).host, httpx.URL(served.url).port
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head + b"a" * 5000)
        time.sleep(0.2)
    for _ in range(50):
        added = log.read_text()[len(before) :]
        if added:
            break
        time.sleep(0.05)
    # One line says so (the access log adds its own line for the request); no traceback.
    assert added.count("disconnected during POST") == 1, added
    assert "Traceback" not in added, added
    assert "Traceback" not in added


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec=None, categories=None), max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
SHAPED = st.sampled_from(["orders", "contacts", "order_statuses", "attributes", "goal", "visits"])
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(route=st.sampled_from(json_routes(SPARE)), key=SHAPED, value=JSON_VALUES)
def test_any_json_body_is_answered_without_a_5xx(server, route, key, value):
    served, _, _ = server
    method, path = route
    raw = json.dumps({key: value if isinstance(value, list) else [value]}).encode()
    response = send(served, method, path, content=raw, headers=JSON_TYPE)
    if response.status_code >= 400:
        assert_clean_4xx(response)


CSV_BYTES = st.lists(
    st.sampled_from([b",", b";", b"\r", b"\n", b'"', b"\x00", b"\xff", b"id", b"1", b"2024-01-01"]),
    max_size=40,
).map(b"".join)


@FUZZ
@given(path=st.sampled_from(csv_routes(SPARE)), header=st.sampled_from([b"", SEED]), tail=CSV_BYTES)
def test_any_csv_file_is_answered_without_a_5xx(server, path, header, tail):
    served, _, _ = server
    response = send(served, "POST", path, files={"file": header + tail})
    if response.status_code >= 400:
        assert_clean_4xx(response)


@FUZZ
@given(host=st.text(max_size=30), kind=st.sampled_from(["text/plain", "", "application/json"]))
def test_any_host_and_body_type_on_the_control_plane_is_a_clean_answer(server, host, kind):
    served, _, _ = server
    headers = {"Host": host.encode("utf-8", "surrogatepass"), "Content-Type": kind}
    try:
        response = send(served, "POST", "/_emulator/clock", content=b"{}", headers=headers)
    except httpx.LocalProtocolError:
        return  # httpx itself refuses to send such a header
    assert_clean_4xx(response)


def test_the_server_is_up_and_its_state_intact(server):
    served, _, _ = server
    uploads = send(served, "GET", cdp(COUNTER, "last_uploadings")).json()["uploadings"]
    assert [u["uploading_id"] for u in uploads] == ["1"]
    orders = send(served, "GET", f"/_emulator/counters/{COUNTER}/orders").json()["orders"]
    assert [(o["order_id"], o["revenue"]) for o in orders] == [("seed1", "5")]
    assert served.process.poll() is None
