"""The rough edges a new user hit on the command line (issue 12), each gone for good.

``--version``; one-line errors for an unreachable server and missing files; progress for
``crmemu run``; expectation typos refused before the run; ``check`` warning about orders dated
after ``--now``; one config tree (a scenario wherever a settings file goes, bases by reference).
"""

from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path

import pytest

from emulator import __version__
from emulator.cli import main
from emulator.scenario import ScenarioError, load_scenario, run_scenario
from emulator.scenario.fields import REGENERATE, markdown, paths
from emulator.scenario.spec import scenario_from_mapping
from emulator.sim import SettingsError, load_settings_file
from emulator.sim.config import to_plain
from tests.test_scenarios import TINY

ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"crmemu {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "missing.toml"],
        ["simulate", "missing.toml", "--out", "x"],
        ["check", "missing.csv", "--kind", "orders"],
        ["serve", "--config", "missing.toml", "--port", "0"],
    ],
    ids=["run", "simulate", "check", "serve"],
)
def test_a_missing_file_is_one_line(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing." in err and "No such file" in err


def test_an_unreachable_server_is_one_line_and_nothing_is_simulated(capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    assert main(["run", "scenarios/good_lead.toml", "--via", "http", "--base-url", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"crmemu run: cannot reach {url}: [Errno 111] Connection refused"


def test_run_reports_progress_phase_by_phase(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 0
    phases = [line[:5] for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert phases == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]


def test_an_expectation_typo_stops_the_run_before_it_starts(tmp_path, capsys):
    scenario = tmp_path / "typo.toml"
    scenario.write_text(TINY + '"linkage.recal" = { min = 0.5 }\n', encoding="utf-8")
    assert main(["run", str(scenario), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert "did you mean 'linkage.recall'" in captured.err
    assert "[1/5]" not in captured.err  # nothing was simulated
    assert not (tmp_path / "out").exists()


def test_goal_expectations_know_the_pipelines_goals():
    good_lead = load_scenario(ROOT / "scenarios/good_lead.toml")
    assert "goals.fired.Хорошие лиды" in paths(good_lead.settings)
    data = tomllib.loads((ROOT / "scenarios/dental_clinic.toml").read_text(encoding="utf-8"))
    data["expectations"] = {"goals.fired.Хорошие лиды": {"min": 1}}
    with pytest.raises(ScenarioError, match="not a scorecard field"):
        scenario_from_mapping(data, ROOT / "scenarios/dental_clinic.toml")


def test_check_warns_about_orders_dated_after_now(tmp_path, capsys):
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "id,create_date_time,client_ids\n1,2024-03-25 10:00:00,5\n2,2024-03-19 10:00:00,5\n",
        encoding="utf-8",
    )
    argv = ["check", str(orders), "--kind", "simple_orders", "--now", "2024-03-20T12:00+03:00"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{orders}:2: warning [order_in_future]" in out
    assert ":3:" not in out


def test_simulate_takes_a_scenario_file(tmp_path, capsys):
    out = tmp_path / "D"
    argv = ["simulate", "scenarios/dental_clinic.toml", "--out", str(out), "--days", "1"]
    assert main([*argv, "--visitors-per-day", "60"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 1  # the scenario's seed
    assert manifest["settings"]["simulation"]["crm"]["pipeline"] == "dental_clinic"


def test_a_scenario_is_its_base_world_plus_what_it_changes():
    scenario = load_scenario(ROOT / "scenarios/dental_clinic.toml").settings
    world = load_settings_file(ROOT / "scenarios/sim/dental_clinic.toml")
    assert world.simulation.days == 30 and scenario.simulation.days == 21
    assert scenario.simulation.traffic.visitors_per_day == 400.0
    assert to_plain(scenario.export) == to_plain(world.export)
    assert to_plain(scenario.simulation.crm) == to_plain(world.simulation.crm)


def test_bases_that_are_missing_or_loop_are_named(tmp_path):
    (tmp_path / "a.toml").write_text('[simulation]\nbase = "b.toml"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('[simulation]\nbase = "a.toml"\n', encoding="utf-8")
    (tmp_path / "c.toml").write_text('[simulation]\nbase = "none.toml"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="loop"):
        load_settings_file(tmp_path / "a.toml")
    with pytest.raises(ScenarioError, match=r"cannot read 'none\.toml'"):
        load_scenario(tmp_path / "c.toml")


def test_scorecard_doc_is_generated_from_the_catalogue():
    committed = (ROOT / "docs/SCORECARD.md").read_text(encoding="utf-8")
    assert committed == markdown(), f"regenerate it: {REGENERATE}"


def test_every_scorecard_value_is_documented(tmp_path):
    run = run_scenario(scenario_from_mapping(tomllib.loads(TINY)), out=tmp_path)
    written = json.loads((tmp_path / "scorecard.json").read_text(encoding="utf-8"))
    known = paths(run.scenario.settings)

    def leaves(value: object, prefix: str) -> list[str]:
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in leaves(v, f"{prefix}{k}.")]
        return [prefix.rstrip(".")]

    lists = {"sources", "match_rate_by_upload_delay", "expectations"}
    undocumented = [
        path
        for key, value in written.items()
        if key not in lists
        for path in leaves(value, f"{key}.")
        if path not in known
    ]
    assert undocumented == []
    doc = markdown()
    for key in ("sources", "match_rate_by_upload_delay"):
        for field in written[key][0]:
            assert f"`{key}[].{field}`" in doc
