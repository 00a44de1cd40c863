"""The scenario suite: every scenario passes its expectations, and the expectations bite."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from emulator.cli import main
from emulator.rules import CreateDateConflict
from emulator.scenario import ScenarioError, load_scenario, run_scenario
from emulator.scenario.spec import scenario_from_mapping

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
REQUIRED = {
    "dental_clinic",
    "good_lead",
    "crm_migration_same_ids",
    "crm_migration_new_dates",
    "crm_migration_new_ids",
    "call_tracking",
    "ropo_offline_store",
    "eshop_repeat_customers",
    "late_uploader",
    "timezone_mistake",
    "advanced_matching",
}


def test_every_required_scenario_exists():
    assert {path.stem for path in SCENARIOS} >= REQUIRED


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_meets_its_expectations(path, tmp_path):
    scenario = load_scenario(path)
    assert scenario.expectations, "a scenario without expectations pins nothing"
    run = run_scenario(scenario, out=tmp_path)
    assert run.misses == []
    written = json.loads((tmp_path / "scorecard.json").read_text())
    assert written["expectations"]["misses"] == []
    for picture in ("sources.png", "loss_waterfall.png", "match_rate_by_delay.png"):
        assert (tmp_path / picture).stat().st_size > 10_000


def test_overwriting_create_dates_breaks_the_migration_scenario():
    """Were creation dates overwritable, the new CRM's orders would re-link to other visits."""
    scenario = load_scenario(ROOT / "scenarios" / "crm_migration_new_dates.toml")
    run = run_scenario(scenario.with_rules(create_date_conflict=CreateDateConflict.OVERWRITE))
    assert any(miss.startswith("linkage.precision") for miss in run.misses)


def test_a_30_day_link_window_breaks_the_late_uploader_scenario():
    scenario = load_scenario(ROOT / "scenarios" / "late_uploader.toml")
    run = run_scenario(scenario.with_rules(order_age_limit_days=30, visit_age_limit_days=30))
    assert any(miss.startswith("linkage.recall") for miss in run.misses)
    assert any(miss.startswith("lost.NOT_LINKED_ORDER_TOO_OLD") for miss in run.misses)


def test_advanced_matching_off_breaks_the_advanced_matching_scenario():
    scenario = load_scenario(ROOT / "scenarios" / "advanced_matching.toml")
    run = run_scenario(scenario.with_rules(advanced_matching=False))
    assert run.scorecard["linkage"]["recall"] == 0
    assert any(miss.startswith("linkage.recall") for miss in run.misses)


TINY = """
[scenario]
name = "tiny"
[simulation]
days = 3
[simulation.traffic]
visitors_per_day = 60.0
[expectations]
"orders.crm" = { min = 1 }
"""


def test_check_exits_1_and_names_the_miss(tmp_path, capsys):
    fine = tmp_path / "fine.toml"
    fine.write_text(TINY, encoding="utf-8")
    impossible = tmp_path / "impossible.toml"
    impossible.write_text(TINY + '"linkage.recall" = { max = -1 }\n', encoding="utf-8")
    assert main(["run", str(fine), "--check", "--out", str(tmp_path / "ok")]) == 0
    assert "Expectations: all hold" in capsys.readouterr().out
    assert main(["run", str(impossible), "--check", "--out", str(tmp_path / "out")]) == 1
    assert "MISS linkage.recall <= -1" in capsys.readouterr().out
    assert (tmp_path / "out" / "scorecard.json").exists()


def test_scenario_files_are_strict(tmp_path):
    with pytest.raises(ScenarioError, match="unknown table"):
        scenario_from_mapping({"expectation": {}})
    with pytest.raises(ScenarioError, match="min/max/equals"):
        scenario_from_mapping({"expectations": {"linkage.recall": 0.5}})
    with pytest.raises(ScenarioError, match="unknown rule"):
        scenario_from_mapping({"rules": {"link_window": 30}})
    with pytest.raises(ScenarioError, match="trafic"):
        scenario_from_mapping({"simulation": {"trafic": {}}})
    tiny = tomllib.loads(TINY)
    tiny["expectations"] = {"no.such.path": {"min": 1}, "lost.NOT_LINKED_ORDER_TO_OLD": {"max": 0}}
    with pytest.raises(ScenarioError) as refused:  # at load time, before any run
        scenario_from_mapping(tiny)
    assert "'no.such.path' is not a scorecard field" in str(refused.value)
    assert "did you mean 'lost.NOT_LINKED_ORDER_TOO_OLD'" in str(refused.value)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def live_server(tmp_path):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--db", ":memory:"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/_emulator/clock", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("crmemu serve did not start")
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_via_http_gives_the_same_scorecard_as_in_process(live_server):
    scenario = load_scenario(ROOT / "scenarios" / "good_lead.toml")
    over_http = run_scenario(scenario, via="http", base_url=live_server, token="scenario-token")
    in_process = run_scenario(scenario)
    for card in (over_http.scorecard, in_process.scorecard):
        card["run"].pop("via")
    assert over_http.scorecard == in_process.scorecard
    assert over_http.misses == []


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_full_size_scenario_meets_its_expectations(path):
    """Five times the traffic and other seeds: the expectations are rates and floors, so they
    must hold at any size, not only at the suite's small one."""
    scenario = load_scenario(path).scaled(5.0)
    for seed in (11, 12):
        run = run_scenario(scenario, seed=seed)
        assert run.misses == [], (seed, run.misses)
