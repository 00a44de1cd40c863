"""The replayer against a real loopback HTTP server that throttles and fails before it answers."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import numpy as np
import pytest

from emulator.sim import ReplayError, Upload, send_timeline
from emulator.sim.replay import Replayer
from emulator.sim.settings import Retry, SimulationSettings
from emulator.sim.visits import CONTROL_FIELDS, VisitTable

FAST = Retry(attempts=4, base_seconds=0.01, max_seconds=0.05, jitter=0.5)


class Recorder(BaseHTTPRequestHandler):
    """Answers each path with its scripted codes first, then 200; remembers every request."""

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        url = urlsplit(self.path)
        server = self.server
        server.seen.append(
            {
                "method": self.command,
                "path": url.path,
                "query": parse_qsl(url.query),
                "headers": dict(self.headers),
                "body": body,
            }
        )
        script = server.script.get(url.path, [])
        code = script.pop(0) if script else 200
        payload = json.dumps({"code": code}).encode()
        self.send_response(code)
        if code == 429:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    httpd.seen = []
    httpd.script = {}
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def client_for(server) -> httpx.Client:
    host, port = server.server_address
    return httpx.Client(base_url=f"http://{host}:{port}", timeout=5)


def make_upload(seq: int, kind: str, body: bytes, content_type: str, minute: int) -> Upload:
    at = datetime(2024, 3, 2, 3, minute, tzinfo=UTC)
    path = (
        "/cdp/api/v1/counter/42/data/simple_orders"
        if kind == "simple_orders"
        else ("/cdp/api/v1/counter/42/schema/order_statuses")
    )
    params = (
        (("merge_mode", "SAVE"), ("delimiter_type", "COMMA")) if content_type == "text/csv" else ()
    )
    return Upload(
        seq, at, kind, "POST", path, params, body, content_type, (), "job", "scheduled", at
    )


CSV_BODY = (
    b"id,create_date_time,client_ids,order_status\n1,2024-03-01 10:00:00,1709240490123456789,PAID\n"
)
TIMELINE = (
    make_upload(1, "status_mapping", b'{"order_statuses": []}', "application/json", 0),
    make_upload(2, "simple_orders", CSV_BODY, "text/csv", 5),
)


def test_uploads_go_out_in_order_with_the_clock_set_first_and_bodies_as_built(server):
    with client_for(server) as client:
        report = send_timeline(TIMELINE, client, "t0k3n", 42, retry=FAST)
    assert report.ok
    calls = [(r["method"], r["path"]) for r in server.seen]
    assert calls == [
        ("POST", "/_emulator/clock"),
        ("POST", "/cdp/api/v1/counter/42/schema/order_statuses"),
        ("POST", "/_emulator/clock"),
        ("POST", "/cdp/api/v1/counter/42/data/simple_orders"),
    ]
    assert json.loads(server.seen[0]["body"]) == {"now": "2024-03-02T03:00:00+00:00"}
    assert all(r["headers"]["Authorization"] == "OAuth t0k3n" for r in server.seen)
    assert server.seen[1]["body"] == TIMELINE[0].body
    upload = server.seen[3]
    assert upload["query"] == [("merge_mode", "SAVE"), ("delimiter_type", "COMMA")]
    part = _multipart_file(upload)
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename() == "data.csv"
    assert part.get_payload(decode=True) == CSV_BODY


def test_429_and_503_are_retried_with_bounded_backoff_and_every_attempt_is_recorded(server):
    server.script["/cdp/api/v1/counter/42/data/simple_orders"] = [429, 503, 503]
    with client_for(server) as client:
        report = send_timeline(TIMELINE, client, "t", 42, set_clock=False, retry=FAST)
    assert report.ok
    attempts = [e for e in report.exchanges if e.seq == 2]
    assert [e.status for e in attempts] == [429, 503, 503, 200]
    assert [e.attempt for e in attempts] == [0, 1, 2, 3]
    assert all(0 < e.waited <= FAST.max_seconds for e in attempts[1:])
    bodies = [_multipart_file(r).get_payload(decode=True) for r in server.seen[1:]]
    assert bodies == [CSV_BODY] * 4  # the same file each time
    assert not any(r["path"].startswith("/_emulator") for r in server.seen)


def test_the_jitter_is_drawn_from_the_seed(server):
    waits = []
    for _ in range(2):
        server.script["/cdp/api/v1/counter/42/data/simple_orders"] = [503, 503, 503]
        with client_for(server) as client:
            report = send_timeline(TIMELINE, client, "t", 42, set_clock=False, retry=FAST, seed=9)
        waits.append([e.waited for e in report.exchanges])
    assert waits[0] == waits[1]


def test_an_upload_that_keeps_failing_is_given_up_and_reported(server):
    server.script["/cdp/api/v1/counter/42/data/simple_orders"] = [500] * 10
    with client_for(server) as client:
        report = send_timeline(TIMELINE, client, "t", 42, set_clock=False, retry=FAST)
    assert report.failed == [2]
    assert len([e for e in report.exchanges if e.seq == 2]) == FAST.attempts + 1


def test_a_client_error_is_not_retried(server):
    server.script["/cdp/api/v1/counter/42/schema/order_statuses"] = [400]
    with client_for(server) as client:
        report = send_timeline(TIMELINE, client, "t", 42, set_clock=False, retry=FAST)
    assert report.failed == [1]
    assert [e.status for e in report.exchanges if e.seq == 1] == [400]


def test_a_target_without_control_routes_fails_loudly_when_asked_to_set_the_clock(server):
    server.script["/_emulator/clock"] = [404]
    with client_for(server) as client, pytest.raises(ReplayError, match="/_emulator/clock"):
        Replayer(client, "t", 42, retry=FAST).send(TIMELINE[0])


def test_the_counter_is_created_and_visits_arrive_before_the_uploads_that_follow_them(server):
    origin = int(datetime(2024, 3, 2, 3, 0, tzinfo=UTC).timestamp())
    starts = np.array([origin - 600, origin + 60, origin + 240, origin + 3600])
    n = len(starts)
    columns = {
        "visit_id": np.arange(1, n + 1),
        "client_id": np.arange(n, dtype=np.uint64) + np.uint64(1709240490123456789),
        "person": np.arange(n),
        "start": starts,
        "duration": np.full(n, 30, dtype=np.int32),
        "source": np.zeros(n, dtype=np.int16),
        "campaign": np.full(n, -1, dtype=np.int16),
        "term": np.full(n, -1, dtype=np.int16),
        "landing": np.zeros(n, dtype=np.int16),
        "yclid": np.zeros(n, dtype=np.uint64),
        "device": np.zeros(n, dtype=np.int8),
        "region": np.zeros(n, dtype=np.int16),
    }
    settings = SimulationSettings()
    visits = VisitTable(columns, settings, {}, tuple(settings.sources))
    counter = {"time_zone": "Europe/Moscow", "tokens": {"t": ["metrika:write"]}, "goals": []}
    with client_for(server) as client:
        send_timeline(TIMELINE, client, "t", 42, retry=FAST, visits=visits, counter=counter)
    paths = [r["path"] for r in server.seen]
    assert paths[0] == "/_emulator/counters/42"
    assert json.loads(server.seen[0]["body"]) == counter
    loads = [r for r in server.seen if r["path"] == "/_emulator/counters/42/visits"]
    first, second = (list(csv.reader(io.StringIO(r["body"].decode()))) for r in loads)
    assert first[0] == list(CONTROL_FIELDS)
    assert len(first) == 2 and len(second) == 3  # one visit before 03:00, two before 03:05
    assert paths.index("/_emulator/counters/42/visits") < paths.index(
        "/cdp/api/v1/counter/42/schema/order_statuses"
    )
    assert datetime.fromtimestamp(int(second[1][2]), UTC) < TIMELINE[1].sent_at
    assert TIMELINE[1].sent_at - TIMELINE[0].sent_at == timedelta(minutes=5)


def _multipart_file(request):
    content_type = request["headers"]["Content-Type"]
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + request["body"]
    message = BytesParser(policy=HTTP).parsebytes(raw)
    (part,) = list(message.iter_parts())
    return part
