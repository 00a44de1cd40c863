"""``crmemu serve`` as a user runs it: a real process, a port, a state file, a config file."""

from __future__ import annotations

import httpx
import pytest

from emulator.api import load_config
from emulator.cli import main
from emulator.commands.serve import DEFAULT_COUNTER, DEFAULT_TOKEN
from tests.serve_support import serving

CONFIG = """
[server]
max_upload_bytes = 4096
lenient_auth = false

[quotas]
requests_per_day_per_counter = 100

[[counters]]
id = 42
time_zone = "Europe/Berlin"
tokens = { "config-token" = ["metrika:read", "metrika:write"] }
goals = [{ id = 7, name = "Purchase", identifier = "purchase" }]
rules = { validation_failure = "status_failed" }
"""


def test_default_counter_state_file_and_restart(tmp_path):
    db = tmp_path / "state.sqlite3"
    first = ("--db", str(db), "--allow-host", "api-metrika.yandex.net")
    with serving(tmp_path / "first.log", *first) as (url, banner):
        assert f"counter {DEFAULT_COUNTER}  token {DEFAULT_TOKEN}" in banner
        headers = {"Authorization": f"OAuth {DEFAULT_TOKEN}", "Host": "api-metrika.yandex.net"}
        response = httpx.post(
            f"{url}/cdp/api/v1/counter/{DEFAULT_COUNTER}/data/simple_orders?merge_mode=SAVE",
            headers=headers,
            files={"file": b"id,create_date_time,client_ids\no1,01.01.2024,5\n"},
        )
        assert response.status_code == 200, response.text
        clock = httpx.post(f"{url}/_emulator/clock", json={"advance_seconds": 60}).json()
    assert db.exists()
    with serving(tmp_path / "second.log", "--db", str(db)) as (url, _):
        again = httpx.get(
            f"{url}/cdp/api/v1/counter/{DEFAULT_COUNTER}/last_uploadings",
            headers={"Authorization": f"OAuth {DEFAULT_TOKEN}"},
        ).json()
        assert [u["uploading_id"] for u in again["uploadings"]] == ["1"]
        assert httpx.get(f"{url}/_emulator/clock").json() == clock


def test_config_file_declares_counters_limits_and_auth(tmp_path):
    config = tmp_path / "emulator.toml"
    config.write_text(CONFIG, encoding="utf-8")
    with serving(tmp_path / "log", "--db", ":memory:", "--config", str(config)) as (url, banner):
        assert "counter 42  token config-token" in banner
        assert str(DEFAULT_COUNTER) not in banner
        auth = {"Authorization": "OAuth config-token"}
        goals = httpx.get(f"{url}/management/v1/counter/42/goals", headers=auth).json()
        assert [g["identifier"] for g in goals["goals"]] == ["purchase"]
        bearer = httpx.get(
            f"{url}/management/v1/counter/42/goals",
            headers={"Authorization": "Bearer config-token"},
        )
        assert bearer.status_code == 401  # lenient_auth = false
        big = httpx.post(
            f"{url}/cdp/api/v1/counter/42/data/simple_orders?merge_mode=SAVE",
            headers=auth,
            files={"file": b"x" * 5000},
        )
        assert big.json()["errors"][0]["error_type"] == "invalid_uploading"
        failed = httpx.post(
            f"{url}/cdp/api/v1/counter/42/data/simple_orders?merge_mode=SAVE",
            headers=auth,
            files={"file": b"id,create_date_time,client_ids\no1,not a date,5\n"},
        )
        assert failed.status_code == 200  # validation_failure = status_failed (A19)
        assert failed.json()["uploading"]["api_validation_status"] == "FAILED"
        quotas = httpx.get(f"{url}/_emulator/quotas").json()
        assert (quotas["enabled"], quotas["requests_per_day_per_counter"]) == (True, 100)


def test_a_bad_config_is_refused_with_a_message(tmp_path, capsys):
    config = tmp_path / "emulator.json"
    config.write_text('{"counters": [{"id": 1, "tokens": {"t": ["metrika:all"]}}]}')
    assert main(["serve", "--port", "0", "--config", str(config)]) == 2
    assert "metrika:all" in capsys.readouterr().err


def test_load_config_reads_json_and_toml_alike(tmp_path):
    toml = tmp_path / "a.toml"
    toml.write_text(CONFIG, encoding="utf-8")
    json_file = tmp_path / "a.json"
    json_file.write_text(
        '{"server": {"max_upload_bytes": 4096, "lenient_auth": false},'
        ' "quotas": {"requests_per_day_per_counter": 100},'
        ' "counters": [{"id": 42, "time_zone": "Europe/Berlin",'
        ' "tokens": {"config-token": ["metrika:read", "metrika:write"]},'
        ' "goals": [{"id": 7, "name": "Purchase", "identifier": "purchase"}],'
        ' "rules": {"validation_failure": "status_failed"}}]}'
    )
    assert load_config(toml) == load_config(json_file)


def test_unknown_config_keys_are_errors(tmp_path):
    config = tmp_path / "bad.toml"
    for text in ("[server]\nport = 1\n", "[quotas]\nenabled = 'no'\n", "[clock]\nnow = 1\n"):
        config.write_text(text)
        try:
            load_config(config)
        except ValueError:
            continue
        raise AssertionError(f"accepted: {text!r}")


def test_serve_is_a_crmemu_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0
    usage = capsys.readouterr().out
    assert "--db" in usage and "--config" in usage and "--host" in usage
