"""``crmemu simulate --parquet`` and ``crmemu batch`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from emulator.batch import layout
from emulator.cli import main

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "scenarios" / "sim" / "default.toml"


def _world(tmp_path: Path) -> Path:
    world = tmp_path / "world"
    args = ["simulate", str(SETTINGS), "--seed", "3", "--out", str(world), "--parquet"]
    assert main([*args, "--partitions", "3", "--days", "8", "--visitors-per-day", "300"]) == 0
    return world


def test_simulate_then_batch(tmp_path, capsys):
    world = _world(tmp_path)
    manifest = layout.read_manifest(world)
    assert manifest["parts"] == 3 and manifest["counts"]["visits"] > 1000
    assert sorted(p.name for p in (world / "visits").iterdir()) == [
        f"part-{p:05d}.parquet" for p in range(3)
    ]
    out = tmp_path / "out"
    assert main(["batch", str(world), "--out", str(out), "--engine", "local"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "batch.json").read_text())
    orders = sum(len(pq.read_table(p)) for p in (out / "orders").glob("*.parquet"))
    assert summary["counts"]["orders"] == orders > 0
    assert f"{orders} orders ({summary['counts']['linked_orders']} linked)" in printed
    assert "MB shuffled, peak RSS per worker" in printed


def test_a_rule_changed_on_the_command_line(tmp_path, capsys):
    world = _world(tmp_path)
    out = tmp_path / "out"
    main(["batch", str(world), "--out", str(out)])
    normal = json.loads((out / "batch.json").read_text())["counts"]["linked_orders"]
    strict = ["--rule", "visit_age_limit_days=0", "--rule", "advanced_matching=false"]
    assert main(["batch", str(world), "--out", str(out), *strict]) == 0
    assert json.loads((out / "batch.json").read_text())["counts"]["linked_orders"] < normal
    assert main(["batch", str(world), "--out", str(out), "--rule", "no_such_rule=1"]) == 2
    assert "unknown rule option(s): no_such_rule" in capsys.readouterr().err


def test_not_a_world(tmp_path, capsys):
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "is not a Parquet world" in capsys.readouterr().err


def test_results_never_go_into_the_world(tmp_path, capsys):
    """The world has an ``orders/`` dataset too: writing results over it would destroy it."""
    world = _world(tmp_path)
    before = sorted(p.name for p in (world / "orders").iterdir())
    assert main(["batch", str(world), "--out", str(world)]) == 2
    assert "holds a world" in capsys.readouterr().err
    assert sorted(p.name for p in (world / "orders").iterdir()) == before


def test_dask_missing_says_how_to_install_it(tmp_path):
    """The dask engine is an optional extra: without it the command says what to install."""
    world = _world(tmp_path)
    code = (
        "import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "from emulator.cli import main\n"
        f"sys.exit(main(['batch', {str(world)!r}, '--out', {str(tmp_path / 'o')!r},"
        " '--engine', 'dask']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "pip install 'crm-metrica-emulator[dask]'" in done.stderr


def test_the_readme_commands_are_the_real_options():
    """Every ``crmemu simulate|batch`` line of the README's batch section parses."""
    from emulator.cli import build_parser

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Worlds larger than one process", 1)[1].split("\n## ", 1)[0]
    lines = [line.split("#")[0].split() for line in section.splitlines()]
    commands = [words[1:] for words in lines if words[:1] == ["crmemu"]]
    assert {words[0] for words in commands} == {"simulate", "batch"}
    for words in commands:
        build_parser(words[0]).parse_args(words)
