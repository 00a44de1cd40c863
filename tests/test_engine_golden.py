"""Every scenario's outcomes under the 0.1 rules (pack ``emulator-0.1``), pinned: the engine
must keep deciding so.

The golden files were written when Engine v2 replaced the 0.1 engine, from runs that both
engines answered identically (the differential test of that change); they keep that
behaviour pinned now that the old engine is gone. ``GOLDEN_WRITE=1`` rewrites them (review
the diff: every change in them is a change in what the engine decides).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.scenario import load_scenario
from emulator.sim import simulate
from tests.golden_support import outcomes

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def _line(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def dumps(found: dict) -> str:
    """JSON with one line per order, reach, uploading or report row (diffs stay readable)."""
    parts = []
    for name in sorted(found):
        value = found[name]
        if isinstance(value, dict):
            body = ",\n".join(f"{_line(k)}: {_line(v)}" for k, v in sorted(value.items()))
            parts.append(f"{_line(name)}: {{\n{body}\n}}")
        else:
            body = ",\n".join(_line(item) for item in value)
            parts.append(f"{_line(name)}: [\n{body}\n]")
    return "{\n" + ",\n".join(parts) + "\n}\n"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_outcomes_are_pinned(path):
    scenario = load_scenario(path).with_rules(pack="emulator-0.1")
    result = simulate(scenario.settings, scenario.seed)
    found = json.loads(json.dumps(outcomes(Emulator(), result, scenario)))
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("GOLDEN_WRITE"):
        golden.write_text(dumps(found))
    pinned = json.loads(golden.read_text())
    for part in ("orders", "decisions", "reaches", "offline", "report"):
        assert found[part] == pinned[part], part
