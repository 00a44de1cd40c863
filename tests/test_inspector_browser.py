"""The inspector in a real browser: ``crmemu serve`` in its own process, headless Chromium.

The test uploads through the API as a pipeline would, then reads the page as a person does:
the order, the decisions that explain it and its goal reaches, the refused upload's row errors
in the live request log, the clock buttons and the offline API docs. Screenshots go to the
artefact folder (``$CRMEMU_ARTEFACTS``, default ``artefacts/``). Without Chromium the tests skip
and say how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.commands.serve import DEFAULT_COUNTER, DEFAULT_TOKEN
from tests import browser
from tests.test_api_serve import serving

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))

WAIT = 20  # seconds a page may take to show what it must show
AUTH = {"Authorization": f"OAuth {DEFAULT_TOKEN}"}
ORDERS = (
    b"id,create_date_time,client_ids,order_status,revenue,cost\n"
    b"704,2024-03-19 12:30:00,111,PAID,5000,4000\n"
)
BAD_ORDERS = b"id,create_date_time,client_ids\n705,yesterday,111\n706,2024-03-19 12:30:00,111\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A served emulator holding one linked, paid order and one refused upload."""
    folder = tmp_path_factory.mktemp("inspector")
    with serving(folder / "serve.log", "--db", str(folder / "state.sqlite3")) as (url, _):
        with httpx.Client(base_url=url, timeout=30) as client:
            client.post("/_emulator/clock", json={"now": "2024-03-20T12:00:00+03:00"})
            client.post(
                f"/_emulator/counters/{DEFAULT_COUNTER}/visits",
                json={"visits": [{"visit_id": 1, "client_id": 111, "start_time": 1710838800}]},
            ).raise_for_status()
            path = f"/cdp/api/v1/counter/{DEFAULT_COUNTER}/data/simple_orders?merge_mode=SAVE"
            client.post(path, headers=AUTH, files={"file": ORDERS}).raise_for_status()
            refused = client.post(path, headers=AUTH, files={"file": BAD_ORDERS})
            assert refused.status_code == 400
        yield url


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with browser.chromium(tmp_path_factory.mktemp("chromium-profile")) as chrome:
        yield chrome


def wait_for_text(driver, css: str, text: str) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )
    return driver.find_element(By.CSS_SELECTOR, css).text


def test_the_order_its_decisions_and_its_goals(server, driver):
    from selenium.webdriver.common.by import By

    driver.get(server + "/")
    driver.find_element(By.LINK_TEXT, str(DEFAULT_COUNTER)).click()
    assert "704" in wait_for_text(driver, "table.orders", "704")
    browser.full_page_screenshot(driver, browser.ARTEFACTS / "inspector-counter.png")
    driver.find_element(By.LINK_TEXT, "704").click()
    decisions = wait_for_text(driver, "#decisions", "LINKED")
    assert "CREATED" in decisions and "through ClientID 111" in decisions
    goals = driver.find_element(By.ID, "goal-reaches").text
    assert "CRM: Order created" in goals and "CRM: Order paid" in goals
    assert "1\u202f000 RUB" in goals  # profit 5000 - 4000, thousands apart
    driver.find_element(By.LINK_TEXT, "111").click()
    assert "704" in wait_for_text(driver, "#client-orders", "704")
    assert "1" in driver.find_element(By.ID, "visits").text
    browser.full_page_screenshot(driver, browser.ARTEFACTS / "inspector-client.png")


def test_the_request_log_shows_the_refused_uploads_row_errors(server, driver):
    from selenium.webdriver.common.by import By

    driver.get(server + "/")
    log = wait_for_text(driver, "#request-rows", "400")
    assert "/data/simple_orders" in log
    refused = driver.find_element(
        By.XPATH, "//tbody[@id='request-rows']/tr[contains(., 'simple_orders') and .//details]"
    )
    assert refused.get_attribute("class") == "status-4xx"
    refused.find_element(By.TAG_NAME, "summary").click()
    assert "line 2" in refused.text and "create_date_time" in refused.text
    browser.full_page_screenshot(driver, browser.ARTEFACTS / "inspector-overview.png")


def test_the_log_is_live_and_the_clock_buttons_move_the_clock(server, driver):
    from selenium.webdriver.common.by import By

    driver.get(server + "/")
    httpx.get(f"{server}/management/v1/counter/{DEFAULT_COUNTER}/goals", headers=AUTH)
    assert "/goals" in wait_for_text(driver, "#request-rows", "/goals")
    before = httpx.get(f"{server}/_emulator/clock").json()["now"]
    driver.find_element(By.CSS_SELECTOR, "[data-advance='86400']").click()
    wait_for_text(driver, "#request-rows", "/_emulator/clock")
    after = httpx.get(f"{server}/_emulator/clock").json()["now"]
    assert (before, after) == ("2024-03-20T09:00:00+00:00", "2024-03-21T09:00:00+00:00")
    assert "2024-03-21" in wait_for_text(driver, "#clock-now", "2024-03-21")


def test_the_api_docs_render_without_internet(server, driver):
    driver.get(server + "/docs")
    title = wait_for_text(driver, ".swagger-ui .info .title", "emulator")
    assert "Metrica CRM" in title
    driver.get(server + "/redoc")
    assert "Metrica CRM" in wait_for_text(driver, "h1", "Metrica CRM")
