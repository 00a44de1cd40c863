"""A pytest plugin the harness loads in every mutated copy (``-p mutation.guard``).

The project is installed in editable mode, so an ``import emulator`` could reach the
unmutated tree and every mutant would "survive" for the wrong reason. This refuses to run
unless ``emulator`` comes from the copy named by ``MUTATION_ROOT``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def check_root() -> Path:
    """The copy's root; raises ``RuntimeError`` when ``emulator`` is imported from elsewhere."""
    import emulator

    root = Path(os.environ["MUTATION_ROOT"]).resolve()
    where = Path(emulator.__file__).resolve()
    if not where.is_relative_to(root):
        raise RuntimeError(f"emulator imported from {where}, not from the mutated copy {root}")
    return root


def pytest_configure(config: pytest.Config) -> None:
    try:
        check_root()
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from None
