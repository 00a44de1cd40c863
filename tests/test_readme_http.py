"""The README's HTTP snippets run as written against a live ``crmemu serve``.

Following the README's curl steps in order once ended in 401 (a PUT replaced the token list, a
reset deleted the default counter); here every step must answer 2xx. The only change made to a
snippet is the port: the server listens on a free one instead of 8080.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.test_api_serve import serving

README = Path(__file__).resolve().parent.parent / "README.md"
DEFAULT_URL = "http://127.0.0.1:8080"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def block_with(language: str, marker: str) -> str:
    return next(block for block in blocks(language) if marker in block)


def run_python(source: str, **names: object) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "README.md", "exec"), dict(names))
    return printed.getvalue()


@pytest.fixture
def server(tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    with serving(tmp_path / "serve.log", "--db", str(tmp_path / "state.sqlite3")) as (url, _):
        yield url


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_steps_in_order(server, tmp_path):
    script = block_with("sh", "B=" + DEFAULT_URL).replace(DEFAULT_URL, server)
    harness = 'set -e\ncurl() { command curl -sS --fail-with-body "$@"; echo; }\n'
    done = subprocess.run(
        ["bash", "-c", harness + script], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answers = done.stdout.splitlines()
    assert any('"code":"LINKED"' in line for line in answers), answers
    assert '"counter":{"id":2215573' in answers[-1]


def test_the_httpx_sample(server, tmp_path):
    (tmp_path / "orders.csv").write_bytes(
        b"id,create_date_time,client_ids,order_status\n704,2024-03-19 12:30:00,111,PAID\n"
    )
    sample = block_with("python", "import httpx").replace(DEFAULT_URL, server)
    assert run_python(sample).strip() == "200 PASSED"


def test_the_inprocess_sample():
    sample = block_with("python", "with inprocess_client(")
    assert run_python(sample).strip() == "2215573 Europe/Moscow"


def test_the_pytest_fixture_sample(metrica_emulator):
    def run_my_exporter(base_url: str, token: str) -> None:
        csv = b"id,create_date_time,client_ids,order_status\n704,2024-03-01 12:00:00,42,PAID\n"
        response = httpx.post(
            f"{base_url}/cdp/api/v1/counter/2215573/data/simple_orders?merge_mode=SAVE",
            headers={"Authorization": f"OAuth {token}"},
            files={"file": csv},
        )
        response.raise_for_status()

    namespace: dict[str, object] = {"run_my_exporter": run_my_exporter}
    exec(compile(block_with("python", "def test_my_exporter"), "README.md", "exec"), namespace)
    namespace["test_my_exporter"](metrica_emulator)  # type: ignore[operator]
