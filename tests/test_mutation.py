"""Rule mutation (issue 10): a rule broken in the engine alone must fail the suite.

The full harness (every mutant, the killing suite and the scenario matrix in copies of the
project) is slow; the default suite keeps the list of mutants valid and proves once, in
process, that a goal rule changed in the engine without touching the pack's table fails a
scenario check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.domain import StatusType
from emulator.engine import fire
from emulator.goals import CrmGoal
from emulator.scenario import load_scenario, run_scenario
from emulator.scenario.expected import TABLES, table_of
from mutation.harness import check_mutants, run
from mutation.mutants import MUTANTS

ROOT = Path(__file__).resolve().parent.parent


def test_every_mutant_still_points_at_its_rule():
    """Each patch's snippet occurs exactly once where it says; a refactoring that moves a
    rule fails here, not silently in the slow harness."""
    check_mutants(MUTANTS)
    assert len(MUTANTS) >= 25
    assert sum(m.goal for m in MUTANTS) >= 10


def test_a_goal_rule_changed_in_the_engine_alone_fails_a_scenario(monkeypatch):
    """Issue 10, "prove once": CANCELLED made to reach "Order created" (the ES help text's
    list) inside the engine, while the docs-current table that scores the scenario still says
    "CRM: Order canceled" (https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about):
    the scenario's ``goals.mismatch_total = 0`` expectation misses."""
    scenario = load_scenario(ROOT / "scenarios" / "advanced_matching.toml").scaled(0.3)
    assert table_of(scenario.rules) is TABLES["docs-current"]
    assert run_scenario(scenario).misses == []
    real = fire.fixation_crm_goals

    def cancelled_creates(status, rules, reached):
        if status.type is StatusType.CANCELLED:
            return [CrmGoal.ORDER_CREATED]
        return real(status, rules, reached)

    monkeypatch.setattr(fire, "fixation_crm_goals", cancelled_creates)
    changed = run_scenario(scenario)
    mismatch = changed.scorecard["goals"]["mismatch"]
    assert mismatch["CRM: Order canceled"] < 0 < mismatch["CRM: Order created"]
    assert [m for m in changed.misses if m.startswith("goals.mismatch_total = 0")]


@pytest.mark.slow
def test_every_mutant_is_killed_and_every_scenario_kills_a_goal_rule_mutant():
    """``python -m mutation --jobs 2``: the harness kills all and every scenario's
    expectations kill at least one goal-rule mutant."""
    report = run(list(MUTANTS), jobs=2, say=lambda line: None)
    assert report.survivors() == []
    assert {s: by for s, by in report.scenario_kills().items() if not by} == {}
    assert report.passed
