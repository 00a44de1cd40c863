"""What a marketer reads: words instead of codes, rates, currency, the model, raw Cyrillic."""

from __future__ import annotations

import json

from emulator.scenario import run_scenario
from emulator.scenario.plots import thousands
from emulator.scenario.spec import scenario_from_mapping
from emulator.scenario.tables import render

GOOD_LEAD_DUMP = {
    "simulation": {
        "days": 26,
        "traffic": {"visitors_per_day": 30.0},
        "crm": {"pipeline": "good_lead"},
    },
    "export": {"exporters": {"once": {"format": "simple_orders", "schedule": "dump"}}},
}


def test_tables_plots_and_json_read_without_the_source_code(tmp_path):
    run = run_scenario(scenario_from_mapping(GOOD_LEAD_DUMP), out=tmp_path)
    card = run.scorecard
    assert card["attribution"] == "lastsign" and card["revenue"]["currency"] == "RUB"
    text = render(card)
    assert "uploaded too late  NOT_LINKED_ORDER_TOO_OLD" in text  # the label, then the code
    assert "(Last significant source, RUB)" in text
    assert "Search engine traffic" in text or "Ad traffic" in text
    assert "%" in text.split("Linkage by what the CRM knew")[1].splitlines()[3]
    written = (tmp_path / "scorecard.json").read_text(encoding="utf-8")
    assert "Хорошие лиды" in written and "\\u04" not in written
    assert json.loads(written)["goals"]["expected"]["Хорошие лиды"] >= 1
    for name in ("sources.png", "loss_waterfall.png", "match_rate_by_delay.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_thousands_are_separated():
    assert thousands(1234567.4) == "1\u2009234\u2009567"
