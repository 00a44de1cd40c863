"""Checking a scorecard against a scenario's expectations; each miss is named in plain words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from emulator.scenario.spec import Expectation

MISSING = object()
COUNT_TABLES = (
    "lost.",
    "lost_share.",
    "goals.expected.",
    "goals.fired.",
    "linkage.correct_links_by_key.",
)
"""Tables that list only what happened: an absent key there is a count of 0."""


def lookup(card: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``linkage.by_channel.call.recall``), or ``MISSING``.

    A path into a count table that has no such key (``lost.NOT_UPLOADED`` when nothing was
    lost that way) reads as 0, so "at most N" expectations hold when nothing happened.
    """
    value: Any = card
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif i == len(parts) - 1 and path.startswith(COUNT_TABLES):
            return 0
        else:
            return MISSING
    return value


def evaluate(expectations: Iterable[Expectation], card: Mapping[str, Any]) -> list[str]:
    """A message per expectation that does not hold (empty when all hold)."""
    misses = []
    for expectation in expectations:
        value = lookup(card, expectation.path)
        if value is MISSING:
            misses.append(f"{expectation.path}: not in the scorecard")
            continue
        if expectation.equals is not None and value != expectation.equals:
            misses.append(f"{expectation.describe()}: got {value}")
            continue
        if value is None and (expectation.min is not None or expectation.max is not None):
            misses.append(f"{expectation.describe()}: got no value")
            continue
        too_low = expectation.min is not None and value < expectation.min
        too_high = expectation.max is not None and value > expectation.max
        if too_low or too_high:
            misses.append(f"{expectation.describe()}: got {value}")
    return misses
