"""Headless Chromium for the inspector's tests and the docs' screenshots.

Only Debian's ``chromium`` and ``chromium-driver`` are used (``apt-get install -y chromium
chromium-driver``); nothing is downloaded at run time, so Selenium is given both paths and never
looks for a browser of its own. :func:`missing` says what is not installed, for a clear skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL = "apt-get install -y chromium chromium-driver"
ARTEFACTS = Path(os.environ.get("CRMEMU_ARTEFACTS", Path(__file__).parent.parent / "artefacts"))
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def executables() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    return browser, shutil.which("chromedriver")


def missing() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    browser, driver = executables()
    if browser is None or driver is None:
        absent = " and ".join(
            name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path
        )
        return f"{absent} not installed; install with: {INSTALL}"
    return None


@contextmanager
def chromium(profile: Path, width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A headless Chromium driven by Selenium, with a fresh profile in ``profile``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = executables()
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(driver_path)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def full_page_screenshot(driver: object, path: Path) -> Path:
    """The whole page, not only the window, as PNG (Chrome DevTools' capture beyond the
    viewport)."""
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})  # type: ignore[attr-defined]
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
