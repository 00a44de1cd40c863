"""A report's ``filters`` over the items of a breakdown, as boolean arrays.

Dimension filters apply to the raw data before grouping
(https://yandex.ru/dev/metrika/ru/stat/segmentation): each item (visit, linked order, goal
reach) is kept or not by the values of the visit its attribution credits, and by its day. A
condition is decided once per distinct value (a table over the dimension's codes), then looked
up for every item. Each dimension admits the operators its page lists:

- ``ym:s:date`` (and ``datePeriod<group>``): ``== != < <= > >= =. !.``
  (https://yandex.com/dev/metrika/en/stat/attributes/visitsbehavior_/date_time.md), values
  ``YYYY-MM-DD``;
- ``TrafficSource``, ``SourceEngine``: ``== != =. !.``
  (https://yandex.ru/dev/metrika/ru/stat/attributes/visits/source);
- the UTM dimensions: every operator
  (https://yandex.com/dev/metrika/ru/stat/attributes/visitssource_/labels.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from emulator.engine.filters import Both, Condition, FilterError, Negated, Node, holds, parse
from emulator.engine.filters import conditions as all_conditions
from emulator.engine.reportkeys import Coded, coded
from emulator.engine.reportnames import DATE, PERIOD, Dimension
from emulator.engine.visits import VisitTable

DATE_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">=", "=.", "!."})
SOURCE_OPERATORS = frozenset({"==", "!=", "=.", "!."})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Segment:
    """A parsed filter whose attributes are known dimensions."""

    text: str
    node: Node
    dimensions: dict[str, Dimension]

    def mask(self, visits: VisitTable, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Which items pass: ``rows`` are the visits they sit on, ``days`` their local days."""
        cache: dict[str, Coded] = {}

        def leaf(condition: Condition) -> np.ndarray:
            name = condition.attribute
            if name not in cache:
                cache[name] = coded(visits, self.dimensions[name])
            return _lookup(cache[name], condition, rows, days)

        return _fold(self.node, leaf)


def segment(text: str, dimension: Callable[[str], Dimension]) -> Segment:
    """Parse ``text`` and check each condition's attribute and operator (:class:`FilterError`)."""
    node = parse(text)
    dimensions: dict[str, Dimension] = {}
    for condition in all_conditions(node):
        try:
            found = dimension(condition.attribute)
        except ValueError as exc:
            message = f"{exc}; filters on metrics are not emulated"
            raise FilterError(message, condition.position) from None
        _check(condition, found)
        dimensions[condition.attribute] = found
    return Segment(text, node, dimensions)


def combined(parts: Sequence[Segment]) -> Segment | None:
    """Segments that must all hold (the comparison report's ``filters`` with ``filters_a``)."""
    if len(parts) <= 1:
        return parts[0] if parts else None
    dimensions = {name: d for part in parts for name, d in part.dimensions.items()}
    text = " AND ".join(f"({part.text})" for part in parts)
    return Segment(text, Both(tuple(part.node for part in parts)), dimensions)


def _check(condition: Condition, dimension: Dimension) -> None:
    if dimension.name in (DATE, PERIOD):
        allowed = DATE_OPERATORS
        for value in condition.values:
            if not _ISO_DATE.fullmatch(value) or not _is_date(value):
                raise FilterError(
                    f"{condition.attribute} takes dates as YYYY-MM-DD, not {value!r}",
                    condition.position,
                )
    elif dimension.name in ("TrafficSource", "SourceEngine"):
        allowed = SOURCE_OPERATORS
    else:
        return
    if condition.operator not in allowed:
        raise FilterError(
            f"{condition.attribute} admits only {' '.join(sorted(allowed))}, "
            f"not {condition.operator}",
            condition.position,
        )


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _lookup(coded: Coded, condition: Condition, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    parts = coded.part(rows, days)
    if not len(parts):
        return np.zeros(0, bool)
    low, high = int(parts.min()), int(parts.max())
    table = np.array([holds(condition, coded.value(p)) for p in range(low, high + 1)], bool)
    return table[parts - low]


def _fold(node: Node, leaf: Callable[[Condition], np.ndarray]) -> np.ndarray:
    if isinstance(node, Condition):
        return leaf(node)
    if isinstance(node, Negated):
        return ~_fold(node.part, leaf)
    combine = np.logical_and if isinstance(node, Both) else np.logical_or
    return combine.reduce([_fold(part, leaf) for part in node.parts])
