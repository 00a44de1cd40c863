"""The inspector's pages and its request log, through the in-process client (no browser).

The browser tests (``test_inspector_browser.py``) read the same pages in Chromium; these check
what every page says and what the log keeps, fast and everywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from emulator import CounterConfig, Emulator, Visit
from emulator.api import create_app, inprocess_client
from emulator.api.app import InProcessTransport
from emulator.api.inspector.readings import walk
from emulator.api.inspector.requestlog import BODY_LIMIT, Entry, RequestLog, counter_of
from tests.test_api_serve import serving

COUNTER = 2215573
TOKEN = "inspector-token"
ORDERS = (
    b"id,create_date_time,client_ids,order_status,revenue,cost\n"
    b"704,01.03.2024 12:30,111,PAID,5000,4000\n"
    b"705,01.03.2024 13:00,999,IN_PROGRESS,700,0\n"
)
UPLOAD = f"/cdp/api/v1/counter/{COUNTER}/data/simple_orders?merge_mode=SAVE"


@pytest.fixture
def client():
    emulator = Emulator()
    with inprocess_client(emulator, TOKEN) as http:
        emulator.set_clock(datetime(2024, 3, 2, 12, tzinfo=UTC))
        emulator.load_visits(COUNTER, [Visit(1, 111, datetime(2024, 3, 1, 9, tzinfo=UTC))])
        assert http.post(UPLOAD, files={"file": ORDERS}).status_code == 200
        yield http
    emulator.close()


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))  # keeps U+202F


def test_overview_lists_counters_and_requests(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = text_of(page.text)
    assert f"{COUNTER} Europe/Moscow" in text
    assert TOKEN not in page.text  # masked: enough to tell tokens apart, not to use one
    assert "POST" in text and "/data/simple_orders" in text


def test_order_page_explains_the_link_and_the_goals(client):
    linked = text_of(client.get(f"/inspector/counters/{COUNTER}/orders/704").text)
    assert "Visit 1" not in linked and "visit 1 linked by ClientID 111" in linked
    assert "LINKED linked to visit 1" in linked
    assert "CRM: Order paid 1 1\u202f000 RUB" in linked
    lost = text_of(client.get(f"/inspector/counters/{COUNTER}/orders/705").text)
    assert "Not linked to any visit" in lost and "NOT_LINKED" in lost


def test_counter_page_reports_by_attribution_model(client):
    page = client.get(f"/inspector/counters/{COUNTER}", params={"attribution": "first"})
    text = text_of(page.text)
    assert "Order sources from CRM · First source" in text
    assert "Direct traffic 1 1 5\u202f000 1\u202f000" in text  # orders, paid, revenue, profit
    assert "<svg" in page.text and "CRM: Order created" in text
    assert "704" in text and "705" in text
    bad = client.get(f"/inspector/counters/{COUNTER}", params={"attribution": "best"})
    assert bad.status_code == 400 and "unknown attribution model" in bad.text


def test_visits_of_a_client_id_and_their_orders(client):
    text = text_of(client.get(f"/inspector/counters/{COUNTER}/clients/111").text)
    assert "Visits of ClientID 111" in text and "704" in text
    nobody = text_of(client.get(f"/inspector/counters/{COUNTER}/clients/999").text)
    assert "No visit of this ClientID is loaded" in nobody


def test_unknown_things_answer_an_html_page_with_the_engines_status(client):
    for path in (
        "/inspector/counters/42",
        f"/inspector/counters/{COUNTER}/orders/nope",
        f"/inspector/counters/{COUNTER}/offline/9",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")


def test_refused_upload_keeps_its_row_errors_in_the_log(client):
    bad = b"id,create_date_time,client_ids\n706,yesterday,111\n"
    assert client.post(UPLOAD, files={"file": bad}).status_code == 400
    rows = client.get("/inspector/requests", params={"counter": COUNTER}).text
    assert "line 2, column create_date_time" in rows and "yesterday" in rows


def test_the_live_log_gives_only_newer_rows_and_not_its_own_traffic(client):
    first = client.get("/inspector/requests").text
    newest = max(int(seq) for seq in re.findall(r'data-seq="(\d+)"', first))
    client.get(f"/inspector/counters/{COUNTER}")
    client.get("/inspector/static/inspector.js")
    assert client.get("/inspector/requests", params={"after": newest}).text.strip() == ""
    client.get(f"/management/v1/counter/{COUNTER}/goals")
    newer = client.get("/inspector/requests", params={"after": newest}).text
    assert len(re.findall(r'data-seq="(\d+)"', newer)) == 1 and "/goals" in newer


def entry(seq: int, body: bytes = b"") -> Entry:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    return Entry(seq, moment, moment, "127.0.0.1", "GET", "/x", "", 200, 1.0, None, body)


def test_the_request_log_is_a_bounded_ring_buffer():
    log = RequestLog(capacity=3)
    for seq in range(1, 6):
        log.add(entry(seq))
    assert [e.seq for e in log.entries()] == [5, 4, 3]
    assert [e.seq for e in log.entries(after=4)] == [5]


def test_a_huge_error_body_is_kept_only_up_to_the_limit():
    emulator = Emulator()
    emulator.put_counter(CounterConfig(COUNTER, tokens={TOKEN: ("metrika:write",)}))
    app = create_app(emulator)
    huge = b"id,create_date_time,client_ids\n" + b"".join(
        b"%d,%s,1\n" % (i, b"x" * 200) for i in range(2000)
    )
    with httpx.Client(transport=InProcessTransport(app), base_url="http://x") as client:
        response = client.post(
            UPLOAD, files={"file": huge}, headers={"Authorization": f"OAuth {TOKEN}"}
        )
    assert response.status_code == 400 and len(response.content) > BODY_LIMIT
    kept = app.state.request_log.entries(counter_id=COUNTER)[0]
    assert len(kept.error_body) == BODY_LIMIT


@pytest.mark.parametrize(
    ("path", "query", "counter"),
    [
        ("/cdp/api/v1/counter/42/data/orders", "", 42),
        ("/_emulator/counters/7/visits", "", 7),
        ("/stat/v1/data", "metrics=x&ids=99", 99),
        ("/_emulator/clock", "", None),
    ],
)
def test_counter_of_a_request(path, query, counter):
    assert counter_of(path, query) == counter


def test_the_status_walk_of_an_offline_uploading():
    assert [(s.name, s.state) for s in walk("EXPORTED")] == [
        ("PREPARED", "done"),
        ("UPLOADED", "done"),
        ("EXPORTED", "current"),
        ("MATCHED", "todo"),
        ("PROCESSED", "todo"),
    ]
    assert walk("LINKAGE_FAILURE")[-1].state == "failed"


def test_api_docs_load_nothing_from_the_internet(client):
    for path in ("/docs", "/redoc"):
        page = client.get(path).text
        assert "://" not in page.replace("window.location.origin", ""), path
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
        assert assets, path
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


def test_serve_prints_one_access_line_per_request_unless_quieted(tmp_path):
    for flags, expected in (((), 1), (("--no-access-log",), 0)):
        log = tmp_path / f"serve{len(flags)}.log"
        with serving(log, "--db", ":memory:", *flags) as (url, _):
            httpx.get(f"{url}/management/v1/counter/{COUNTER}/goals?x=1")
        lines = [line for line in log.read_text().splitlines() if "/goals?x=1" in line]
        assert len(lines) == expected, log.read_text()
        if expected:
            assert '"GET /management/v1/counter/2215573/goals?x=1" 401' in lines[0]
            assert lines[0].endswith(f"ms counter {COUNTER}")
