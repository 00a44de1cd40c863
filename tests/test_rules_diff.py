"""``crmemu rules diff``: one simulated history under two packs, compared goal by goal.

The CANCELLED reading is the point of the command: the current maporderstatuses-about page
(https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about) gives CANCELLED its own
goal, "CRM: Order canceled"; the ES help text's list sends it to "Order created".
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from emulator.cli import main
from emulator.packs import pack_rules
from emulator.rules import CancelledGoal, RuleSet
from emulator.scenario import load_scenario
from emulator.scenario.packdiff import diff_packs, goal_label, pack_with_overrides

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_dental_clinic_diff_reports_the_cancelled_goal(tmp_path, capsys):
    code = main(
        [
            "rules",
            "diff",
            str(SCENARIOS / "dental_clinic.toml"),
            "--packs",
            "docs-current",
            "help-es",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "CRM: Order canceled:" in printed, printed
    data = json.loads((tmp_path / "rules_diff.json").read_text())
    goals = {g["goal"]: g for g in data["goals"]}
    cancelled = goals["CRM: Order canceled"]
    assert cancelled["differs"]
    assert cancelled["docs-current"]["reaches"] > 0
    assert cancelled["help-es"]["reaches"] == 0
    # The orders behind it are cancelled orders: each reached the goal once under
    # docs-current and never under help-es, where the same fixation reaches "Order created".
    behind = cancelled["orders_behind"]
    assert behind and all(a >= 1 and b == 0 for _, a, b in behind)
    created = goals["CRM: Order created"]
    assert created["help-es"]["reaches"] > created["docs-current"]["reaches"]
    assert (
        sum(cancelled["docs-current"]["by_source"].values())
        == (cancelled["docs-current"]["reaches"])
    )
    with Image.open(tmp_path / "rules_diff.png") as picture:
        assert picture.size[0] > 800


def test_a_pack_against_itself_differs_nowhere():
    scenario = load_scenario(SCENARIOS / "good_lead.toml").scaled(0.3)
    diff = diff_packs(scenario, ["docs-current", "docs-current"])
    assert diff.goals and not diff.differing
    assert "same goals" in diff.render()


def test_the_diff_keeps_the_scenarios_own_overrides_and_swaps_only_the_pack():
    rules = RuleSet.from_mapping({"pack": "docs-current", "processing_delay": "2h"})
    swapped = pack_with_overrides(rules, "help-es")
    assert swapped.pack == "help-es"
    assert swapped.processing_delay_seconds == 7200
    assert swapped.cancelled_goal is pack_rules("help-es").cancelled_goal
    assert pack_rules("docs-current").cancelled_goal is CancelledGoal.ORDER_CANCELLED


def test_goals_are_matched_across_packs_by_kind_not_by_spelling():
    assert goal_label("CRM: Pedido creado", None) == "CRM: Order created"
    assert goal_label("CRM: Order cancelled", None) == "CRM: Order canceled"
    assert goal_label("CRM: Заказ отменен", None) == "CRM: Order canceled"
    assert goal_label("Записи", "vse_zapisi") == "JS goal vse_zapisi"
