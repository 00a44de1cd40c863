"""``GET /stat/v1/data``: the Reporting API's table report over the engine's reports.

https://yandex.ru/dev/metrika/en/stat/ — the engine computes the groups and metrics
(:meth:`emulator.Emulator.report`); this module reads the query string and writes the real JSON
shape: ``query``, ``data[{dimensions:[{name, id?}], metrics:[...]}]``, ``totals``, ``min``,
``max``, ``total_rows`` and the sampling fields clients read (``sampled``, ``sample_share``).
Metric values are numbers (``null`` when undefined, e.g. a rate over no visits), as the real
API sends them. One counter per query; ``filters`` and ``preset`` are refused rather than
silently ignored, since they would change the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from emulator.api.common import REPORT, text_query
from emulator.api.guard import Caller, context
from emulator.engine.reports import Attribution, Dimension, Report
from emulator.errors import ApiError

router = APIRouter(prefix="/stat/v1", tags=["Reporting"])

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
UNSUPPORTED = ("filters", "preset")
MAX_LIMIT = 100_000


def source_name(source: str | None) -> str:
    """A ``TrafficSource`` id in words (``organic`` → ``Search engine traffic``)."""
    if source is None:
        return "Not determined"
    return TRAFFIC_SOURCE_NAMES.get(source, source)


def _names(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _dimension_value(dimension: Dimension, value: str | None) -> dict[str, Any]:
    if dimension.name == "TrafficSource" and value is not None:
        return {"name": TRAFFIC_SOURCE_NAMES.get(value, value), "id": value}
    return {"name": value}


def _number(value: int | float | None) -> float | None:
    return None if value is None else float(value)


def _sort_key(position: int, index: int, descending: bool, filler: Any) -> Any:
    """Rows by one column (``row[position][index]``), undefined values last either way."""

    def key(row: Any) -> Any:
        value = row[position][index]
        return (value is None) != descending, filler if value is None else value

    return key


def _sorted(report: Report, sort: list[str], dimensions: list[str], metrics: list[str]):
    rows = list(report.rows)
    for item in reversed(sort):
        name = item.removeprefix("-")
        descending = item.startswith("-")
        if name in metrics:
            key = _sort_key(1, metrics.index(name), descending, 0)
        elif name in dimensions:
            key = _sort_key(0, dimensions.index(name), descending, "")
        else:
            raise ApiError(
                "invalid_parameter", f"sort {name!r} is not among the metrics or dimensions", "sort"
            )
        rows.sort(key=key, reverse=descending)
    return rows


@router.get("/data")
def data(
    request: Request,
    caller: Caller = REPORT,
    ids: str = Query(..., description="The counter id", examples=["2215573"]),
    metrics: str = Query(..., description="Comma-separated", examples=["ym:s:visits"]),
    dimensions: str | None = text_query("Comma-separated", ["ym:s:<attribution>TrafficSource"]),
    date1: str | None = text_query("YYYY-MM-DD, today, yesterday, NdaysAgo", ["6daysAgo"]),
    date2: str | None = text_query("YYYY-MM-DD, today, yesterday, NdaysAgo", ["today"]),
    attribution: str | None = text_query("lastsign (default), last, first, …", ["lastsign"]),
    sort: str | None = text_query("Comma-separated; '-' for descending", ["-ym:s:visits"]),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(1, ge=1),
    filters: str | None = text_query("Not emulated: refused when given"),
    preset: str | None = text_query("Not emulated: refused when given"),
) -> dict[str, Any]:
    """The table report (ym:s:visits, ym:s:cdpOrders*, ym:s:goal<ID>reaches|revenue)."""
    for name, value in (("filters", filters), ("preset", preset)):
        if value:
            raise ApiError("invalid_parameter", f"{name} is not supported by the emulator", name)
    if len(caller.counter_ids) != 1:
        raise ApiError("invalid_parameter", "the emulator answers one counter per query", "ids")
    counter_id = caller.counter_ids[0]
    metric_names, dimension_names = _names(metrics), _names(dimensions)
    model = (attribution or Attribution.LAST_SIGNIFICANT.value).lower()
    report = context(request).emulator.report(
        counter_id, metric_names, dimension_names, model, date1, date2
    )
    rows = _sorted(report, _names(sort) or ["-" + metric_names[0]], dimension_names, metric_names)
    page = rows[offset - 1 : offset - 1 + limit]
    columns = list(zip(*(values for _, values in rows), strict=True)) if rows else []
    known = [[v for v in column if v is not None] for column in columns]
    return {
        "query": {
            "ids": [counter_id],
            "dimensions": dimension_names,
            "metrics": metric_names,
            "sort": _names(sort) or ["-" + metric_names[0]],
            "date1": report.date1.isoformat(),
            "date2": report.date2.isoformat(),
            "limit": limit,
            "offset": offset,
            "group": "Week",
            "auto_group_size": "1",
            "quantile": "50",
            "offline_window": "21",
            "attribution": ATTRIBUTION_NAMES[Attribution(model)],
            "currency": "RUB",
        },
        "data": [
            {
                "dimensions": [
                    _dimension_value(d, v) for d, v in zip(report.dimensions, key, strict=True)
                ],
                "metrics": [_number(v) for v in values],
            }
            for key, values in page
        ],
        "total_rows": len(rows),
        "total_rows_rounded": False,
        "sampled": False,
        "contains_sensitive_data": False,
        "sample_share": 1.0,
        "sample_size": report.visits,
        "sample_space": report.visits,
        "data_lag": 0,
        "totals": [_number(v) for v in report.totals],
        "min": [_number(min(v)) if v else None for v in known] or [None] * len(metric_names),
        "max": [_number(max(v)) if v else None for v in known] or [None] * len(metric_names),
    }
