"""docs/FIDELITY.md's rule-pack table is the code's (``crmemu rules table``), so the document
cannot drift from what the packs do."""

from __future__ import annotations

from pathlib import Path

from emulator.cli import main
from emulator.packs import PACKS, markdown_table

FIDELITY = Path(__file__).resolve().parent.parent / "docs" / "FIDELITY.md"


def test_fidelity_holds_the_generated_pack_table():
    text = FIDELITY.read_text(encoding="utf-8")
    inside = text.split("<!-- packs:begin -->\n", 1)[1].split("<!-- packs:end -->", 1)[0]
    assert inside == markdown_table(), "regenerate with: crmemu rules table"


def test_every_pack_has_a_column_and_every_departure_a_source(capsys):
    assert main(["rules", "table"]) == 0
    printed = capsys.readouterr().out
    header = printed.splitlines()[0]
    assert all(f"`{name}`" in header for name in PACKS)
    departures = [line for line in printed.splitlines() if line.startswith("- `")]
    assert departures and all(line.rstrip().endswith(")") for line in departures)
    assert any("`help-es`: `cancelled_goal` = order_created" in line for line in departures)
