"""A Reporting API query checked against the emulator's names, with the service's errors.

Every report route (``/stat/v1/data``, ``/bytime``, ``/drilldown``, ``/comparison``) reads the
same parameters (https://yandex.ru/dev/metrika/ru/stat/openapi/data): ``metrics`` (at most 20),
``dimensions`` (at most 10), ``date1``/``date2`` (``YYYY-MM-DD``, ``today``, ``yesterday``,
``NdaysAgo``; by default the last seven days in the counter's zone), ``attribution``,
``filters`` and ``currency``. A wrong one is a 400 ``invalid_parameter`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from emulator.engine import params
from emulator.engine.attribution import Attribution
from emulator.engine.filters import FilterError
from emulator.engine.reportnames import (
    MAX_DIMENSIONS,
    MAX_METRICS,
    Dimension,
    currency_code,
    metric,
    parse_dimension,
)
from emulator.engine.segments import Segment, combined, segment
from emulator.errors import ApiError

Filters = str | Mapping[str, str | None] | None
"""A filter, or filters by the parameter that sent them (all must hold)."""


@dataclass(frozen=True)
class Query:
    metrics: tuple[str, ...]
    dimensions: tuple[Dimension, ...]
    date1: date
    date2: date
    segment: Segment | None
    currency: str


def query(
    today: date,
    default_currency: str,
    metrics: Sequence[str],
    dimensions: Sequence[str],
    attribution: str | Attribution = Attribution.LAST_SIGNIFICANT,
    date1: str | date | None = None,
    date2: str | date | None = None,
    filters: Filters = None,
    currency: str | None = None,
    group: str = "week",
) -> Query:
    """The checked query; ``today`` is the counter's local date, ``group`` fills
    ``ym:s:datePeriod<group>``; a bad filter is reported at the parameter that sent it."""
    model = params.attribution(attribution)
    if not metrics:
        raise ApiError("missing_parameter", "metrics is required", "metrics")
    for name, values, most in (
        ("metrics", metrics, MAX_METRICS),
        ("dimensions", dimensions, MAX_DIMENSIONS),
    ):
        if len(values) > most:
            raise ApiError("invalid_parameter", f"at most {most} {name} per query", name)
    try:
        code = currency_code(currency or default_currency)
    except ValueError as exc:
        raise ApiError("invalid_parameter", str(exc), "currency") from None
    try:
        parsed = tuple(parse_dimension(name, model, group) for name in dimensions)
    except ValueError as exc:
        raise ApiError("invalid_parameter", str(exc), "dimensions") from None
    try:
        for name in metrics:
            metric(name, code)
    except ValueError as exc:
        raise ApiError("invalid_parameter", str(exc), "metrics") from None
    first = params.report_date("date1", date1 or "6daysAgo", today)
    last = params.report_date("date2", date2 or "today", today)
    if first > last:
        raise ApiError("invalid_parameter", "date1 is after date2", "date1")
    return Query(tuple(metrics), parsed, first, last, _segment(filters, model, group), code)


def _segment(filters: Filters, model: Attribution, group: str) -> Segment | None:
    texts = {"filters": filters} if isinstance(filters, str) else dict(filters or {})
    parts = []
    for location, text in texts.items():
        if not text:
            continue
        try:
            parts.append(segment(text, lambda name: parse_dimension(name, model, group)))
        except FilterError as exc:
            raise ApiError("invalid_parameter", f"{location}: {exc}", location) from None
    return combined(parts)
