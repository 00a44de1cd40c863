"""The Reporting API's JSON, written from the engine's reports: dimension values, sorting,
the ``query`` echo and the fields every answer carries.

Shapes: https://yandex.ru/dev/metrika/ru/stat/openapi/data (and ``bytime``, ``drilldown``,
``comparison`` beside it). A dimension value is ``{"name", "id"?}``: ``TrafficSource`` and
``SourceEngine`` values carry their id and an English name (the ``lang=en`` answer), the others
their value as ``name``. Metric values are numbers, ``null`` where undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.engine.engines import engine_name
from emulator.engine.reports import Attribution, Dimension, Report
from emulator.errors import ApiError

TRAFFIC_SOURCE_NAMES = {
    "ad": "Ad traffic",
    "direct": "Direct traffic",
    "email": "Mailing traffic",
    "internal": "Internal traffic",
    "messenger": "Messenger traffic",
    "organic": "Search engine traffic",
    "qrcode": "QR code traffic",
    "recommend": "Recommendation system traffic",
    "referral": "Link traffic",
    "saved": "Cached page traffic",
    "social": "Social network traffic",
    "undefined": "Not determined",
}
"""The Reporting API's English names of ``TrafficSource`` ids (its ``lang=en`` answer)."""

ATTRIBUTION_NAMES = {
    Attribution.LAST_SIGNIFICANT: "LastSign",
    Attribution.LAST: "Last",
    Attribution.FIRST: "First",
    Attribution.LAST_YANDEX_DIRECT_CLICK: "LastYandexDirectClick",
}
MODEL_NAMES = {
    Attribution.LAST_SIGNIFICANT: "Last significant source",
    Attribution.LAST: "Last source",
    Attribution.FIRST: "First source",
    Attribution.LAST_YANDEX_DIRECT_CLICK: "Last Yandex Direct click",
}
"""The attribution models as the Metrica interface names them (report titles, the inspector)."""
SAMPLING = {
    "total_rows_rounded": False,
    "sampled": False,
    "contains_sensitive_data": False,
    "sample_share": 1.0,
    "data_lag": 0,
}
"""What every answer says about sampling: the emulator reads all of its data."""


def source_name(source: str | None) -> str:
    """A ``TrafficSource`` id in words (``organic`` → ``Search engine traffic``)."""
    if source is None:
        return "Not determined"
    return TRAFFIC_SOURCE_NAMES.get(source, source)


def names(raw: str | None) -> list[str]:
    """A comma-separated list parameter."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def dimension_value(dimension: Dimension, value: str | None) -> dict[str, Any]:
    if value is not None and dimension.name == "TrafficSource":
        return {"name": TRAFFIC_SOURCE_NAMES.get(value, value), "id": value}
    if value is not None and dimension.name == "SourceEngine":
        return {"name": engine_name(value), "id": value}
    return {"name": value}


def number(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def numbers(values: Sequence[int | float | None]) -> list[float | None]:
    return [number(v) for v in values]


def sorted_rows(
    rows: Sequence[Any],
    sort: list[str],
    dimensions: list[str],
    metrics: list[str],
    values: Callable[[Any], tuple[Sequence[Any], Sequence[Any]]],
    location: str = "sort",
) -> list[Any]:
    """``rows`` by the ``sort`` names (``-`` for descending), undefined values last either way;
    ``values`` gives a row's (dimension values, metric values)."""
    rows = list(rows)
    for item in reversed(sort):
        name = item.removeprefix("-")
        descending = item.startswith("-")
        if name in metrics:
            side, index, filler = 1, metrics.index(name), 0
        elif name in dimensions:
            side, index, filler = 0, dimensions.index(name), ""
        else:
            raise ApiError(
                "invalid_parameter",
                f"{location} {name!r} is not among the metrics or dimensions",
                location,
            )
        rows.sort(key=_column(values, side, index, descending, filler), reverse=descending)
    return rows


def _column(
    values: Callable[[Any], tuple[Sequence[Any], Sequence[Any]]],
    side: int,
    index: int,
    descending: bool,
    filler: Any,
) -> Callable[[Any], Any]:
    """Sort key of one column; undefined values go last whichever the direction."""

    def key(row: Any) -> Any:
        value = values(row)[side][index]
        return (value is None) != descending, filler if value is None else value

    return key


def extremes(rows: Sequence[Sequence[int | float | None]], width: int) -> dict[str, list]:
    """``min`` and ``max`` of each metric over ``rows`` (``null`` where nothing is defined)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * width
    known = [[v for v in column if v is not None] for column in columns]
    return {
        "min": [number(min(v)) if v else None for v in known],
        "max": [number(max(v)) if v else None for v in known],
    }


def echo(
    counter_id: int,
    report: Report,
    dimensions: list[str],
    metrics: list[str],
    attribution: Attribution,
    **extra: Any,
) -> dict[str, Any]:
    """The ``query`` object: the request as the service understood it."""
    query: dict[str, Any] = {
        "ids": [counter_id],
        "dimensions": dimensions,
        "metrics": metrics,
        "date1": report.date1.isoformat(),
        "date2": report.date2.isoformat(),
    }
    query |= {k: v for k, v in extra.items() if v is not None}
    return query | {
        "group": query.get("group", "Week"),
        "auto_group_size": "1",
        "quantile": "50",
        "offline_window": "21",
        "attribution": ATTRIBUTION_NAMES[attribution],
        "currency": report.currency,
    }


def sampling(report: Report) -> dict[str, Any]:
    return SAMPLING | {"sample_size": report.visits, "sample_space": report.visits}
