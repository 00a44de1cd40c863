"""``crmemu serve`` as a real process for the HTTP tests: start it, read its banner, stop it."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

UPLOAD_HEADER = "id,create_date_time,client_ids,order_status,revenue\n"
COMMAND = [sys.executable, "-m", "emulator", "serve", "--port", "0", "--log-level", "warning"]


@dataclass
class Served:
    """A running ``crmemu serve``: its base URL, start-up banner and process."""

    url: str
    banner: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


def start_server(log: Path, *args: str) -> Served:
    """Run ``crmemu serve --port 0 ...`` with stderr in ``log``; return once it answers."""
    with log.open("a") as errors:
        process = subprocess.Popen(
            [*COMMAND, *args], stdout=subprocess.PIPE, stderr=errors, text=True
        )
    try:
        banner = _read_banner(process, log)
        url = re.search(r"on (http://\S+)", banner)
        assert url, banner
        _wait_until_up(url[1])
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Served(url[1], banner, process)


@contextmanager
def serving(log: Path, *args: str) -> Iterator[tuple[str, str]]:
    """:func:`start_server` as a context; yields the base URL and the banner."""
    served = start_server(log, *args)
    try:
        yield served.url, served.banner
    finally:
        served.stop()


def _read_banner(process: subprocess.Popen, log: Path) -> str:
    """The lines printed up to the OpenAPI hint, read by a thread so a silent server cannot
    hang the test."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    banner: list[str] = []
    while not banner or "OpenAPI" not in banner[-1]:
        try:
            banner.append(lines.get(timeout=30))
        except queue.Empty:
            raise AssertionError("no banner: " + "".join(banner) + log.read_text()) from None
    return "".join(banner)


def _wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(url + "/_emulator/clock", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)


def upload_body(prefix: str, rows: int) -> bytes:
    """A simple-orders CSV of ``rows`` orders with ids ``<prefix>-<n>``."""
    lines = "".join(f"{prefix}-{n},10.01.2024 11:56,{n + 1},PAID,{n}\n" for n in range(rows))
    return (UPLOAD_HEADER + lines).encode()
