"""The README's screenshots of the inspector, after a dental-clinic run over HTTP.

    python -m tests.capture_inspector docs/inspector

Starts ``crmemu serve`` on a free port, runs ``crmemu run scenarios/dental_clinic.toml --via
http`` against it, sends one upload with a bad date (as a buggy exporter would, so the request
log shows a refused upload's row errors), then photographs the pages in headless Chromium.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests import browser
from tests.test_api_serve import serving

COUNTER = 2215573
TOKEN = "docs-token"
BAD_UPLOAD = b"id,create_date_time,client_ids\n9001,31.02.2024 10:00,111\n"


def run_dental_clinic(url: str, out: Path) -> None:
    command = [sys.executable, "-m", "emulator", "run", "scenarios/dental_clinic.toml"]
    command += ["--via", "http", "--base-url", url, "--token", TOKEN, "--out", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    httpx.post(
        f"{url}/cdp/api/v1/counter/{COUNTER}/data/simple_orders?merge_mode=UPDATE",
        headers={"Authorization": f"OAuth {TOKEN}"},
        files={"file": ("orders.csv", BAD_UPLOAD, "text/csv")},
    )


def linked_order(url: str) -> str:
    """An order linked to a visit whose goals fired: the best "why?" to show."""
    orders = httpx.get(f"{url}/_emulator/counters/{COUNTER}/orders").json()["orders"]
    paid = [o for o in orders if o["linked_visit_id"] and o["status_type"] == "PAID"]
    return (paid or orders)[0]["order_id"]


def capture(folder: Path) -> list[Path]:
    if (reason := browser.missing()) is not None:
        raise SystemExit(reason)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        with serving(work_path / "serve.log", "--db", str(work_path / "state.sqlite3")) as (
            url,
            _,
        ):
            run_dental_clinic(url, work_path / "run")
            order = linked_order(url)
            with browser.chromium(work_path / "profile", 1400, 1050) as driver:
                shots = []
                for name, path in (
                    ("overview", "/"),
                    ("counter", f"/inspector/counters/{COUNTER}"),
                    ("reports", f"/inspector/counters/{COUNTER}#reports"),
                    ("order", f"/inspector/counters/{COUNTER}/orders/{order}"),
                ):
                    driver.get(url + path)  # type: ignore[attr-defined]
                    target = folder / f"{name}.png"
                    driver.save_screenshot(str(target))  # type: ignore[attr-defined]
                    shots.append(target)
    return shots


if __name__ == "__main__":
    for shot in capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/inspector")):
        print(shot)
