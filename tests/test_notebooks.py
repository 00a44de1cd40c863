"""The notebooks in ``notebooks/`` run, draw their plots, and keep their two halves in step.

Each notebook is a jupytext pair: the ``.py`` in percent format (what people edit and review)
and the ``.ipynb`` (what Jupyter opens), committed without outputs. The pair test fails when
someone edits one half and forgets the other; the execution test runs every notebook in a
fresh ``python3`` kernel (this interpreter's ipykernel, headless inline matplotlib) from the
notebooks folder, as ``pytest --nbmake notebooks`` would, so a change to the public API that
breaks a notebook breaks the suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("*.py"))
PAIRING = "ipynb,py:percent"
CELL_TIMEOUT = 300
"""Seconds per cell: generous, since CI machines are slow; a hung kernel still fails."""


def cells_of(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def pair_differences(script: Path) -> list[str]:
    """Where the ``.ipynb`` next to ``script`` does not hold the script's cells, in words."""
    paired = script.with_suffix(".ipynb")
    if not paired.is_file():
        return [f"{paired.name} is missing (run: jupytext --sync {script.name})"]
    text = cells_of(jupytext.read(script))
    ipynb = cells_of(nbformat.read(paired, as_version=4))
    problems = [
        f"cell {i + 1}: {script.name} has {a[0]} {a[1][:60]!r}, {paired.name} has "
        f"{b[0]} {b[1][:60]!r}"
        for i, (a, b) in enumerate(zip(text, ipynb, strict=False))
        if a != b
    ]
    if len(text) != len(ipynb):
        problems.append(f"{script.name} has {len(text)} cells, {paired.name} has {len(ipynb)}")
    return problems


def test_there_are_at_least_two_notebook_pairs():
    assert {p.stem for p in PAIRS} >= {"windows", "crm_migration"}


@pytest.mark.parametrize("script", PAIRS, ids=lambda p: p.stem)
def test_both_halves_of_a_pair_hold_the_same_cells(script):
    assert pair_differences(script) == []


@pytest.mark.parametrize("script", PAIRS, ids=lambda p: p.stem)
def test_the_committed_notebook_is_paired_and_has_no_outputs(script):
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    assert notebook.metadata["jupytext"]["formats"] == PAIRING
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook without code draws nothing"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_a_cell_edited_in_one_half_only_is_caught(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(
        "# %% [markdown]\n# Title\n\n# %%\nx = 1\n\n# %%\nprint(x)\n", encoding="utf-8"
    )
    jupytext.write(jupytext.read(script), script.with_suffix(".ipynb"))
    assert pair_differences(script) == []
    script.write_text(script.read_text(encoding="utf-8").replace("x = 1", "x = 2"), "utf-8")
    assert pair_differences(script) == [
        "cell 2: example.py has code 'x = 2', example.ipynb has code 'x = 1'"
    ]
    script.write_text(script.read_text(encoding="utf-8") + "\n# %%\nx += 1\n", "utf-8")
    assert pair_differences(script)[-1] == "example.py has 4 cells, example.ipynb has 3"


def _listing(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


@pytest.mark.parametrize("script", PAIRS, ids=lambda p: p.stem)
def test_notebook_runs_and_draws(script, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    kernel_env = {
        **os.environ,
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    kernel_env.pop("DISPLAY", None)
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    before = _listing(NOTEBOOKS)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=kernel_env)  # raises CellExecutionError, naming the cell, on any error
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    assert figures, f"{script.stem} drew no figure"
    assert _listing(NOTEBOOKS) == before, "the notebook wrote into notebooks/"
