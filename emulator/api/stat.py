"""The Reporting API over the engine's reports: ``/stat/v1/data`` (table), ``/data/bytime``,
``/data/drilldown`` and ``/data/comparison``.

https://yandex.ru/dev/metrika/ru/stat/openapi/data and its siblings: the engine computes the
groups and metrics (:meth:`emulator.Emulator.report` and the ``report_*`` methods); this module
reads the query string and writes the real JSON (:mod:`.statview`). One counter per query.
``preset`` expands to its dimensions and metrics (``orders_sources``; explicit ``dimensions``
or ``metrics`` win); ``filters`` segment the data before grouping.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from emulator.api.common import REPORT, text_query
from emulator.api.guard import Caller, context
from emulator.api.statview import (
    MODEL_NAMES,
    dimension_value,
    echo,
    extremes,
    names,
    numbers,
    sampling,
    sorted_rows,
    source_name,
)
from emulator.engine import params
from emulator.engine.reportnames import PRESETS
from emulator.errors import ApiError

router = APIRouter(prefix="/stat/v1", tags=["Reporting"])

MAX_LIMIT = 100_000
MAX_TOP_KEYS = 30
DATE = "YYYY-MM-DD, today, yesterday, NdaysAgo"
FILTER_EXAMPLE = "ym:s:lastsignTrafficSource=.('organic','ad') AND ym:s:date>='2024-03-01'"


class Common:
    """What every report route reads: the counter, metrics, dimensions, model, segment."""

    def __init__(
        self,
        request: Request,
        caller: Caller = REPORT,
        ids: str = Query(..., description="The counter id", examples=["2215573"]),
        metrics: str | None = text_query("Comma-separated; from the preset if absent"),
        dimensions: str | None = text_query("Comma-separated", ["ym:s:<attribution>TrafficSource"]),
        attribution: str | None = text_query("lastsign (default), last, first, …", ["lastsign"]),
        filters: str | None = text_query("Segmentation filter", [FILTER_EXAMPLE]),
        preset: str | None = text_query("orders_sources", ["orders_sources"]),
        currency: str | None = text_query("For <currency> in metric names; RUB default", ["RUB"]),
        group: str | None = text_query("day, week (default), month … (bytime, datePeriod<group>)"),
    ) -> None:
        if len(caller.counter_ids) != 1:
            raise ApiError("invalid_parameter", "the emulator answers one counter per query", "ids")
        self.counter_id = caller.counter_ids[0]
        self.emulator = context(request).emulator
        if preset and preset not in PRESETS:
            known = ", ".join(PRESETS)
            raise ApiError(
                "invalid_parameter", f"preset {preset!r} is not emulated (known: {known})", "preset"
            )
        preset_dimensions, preset_metrics = PRESETS.get(preset or "", ((), ()))
        self.metrics = names(metrics) or list(preset_metrics)
        self.dimensions = names(dimensions) or list(preset_dimensions)
        if not self.metrics:
            raise ApiError("missing_parameter", "metrics is required", "metrics")
        self.model = params.attribution((attribution or "lastsign").lower())
        self.filters = filters or None
        self.preset = preset or None
        self.currency = currency or None
        self.group = group or "week"

    def options(self) -> dict[str, Any]:
        return {"attribution": self.model, "filters": self.filters, "currency": self.currency}

    def echo(self, report: Any, **extra: Any) -> dict[str, Any]:
        return echo(
            self.counter_id,
            report,
            self.dimensions,
            self.metrics,
            self.model,
            preset=self.preset,
            filters=self.filters,
            **extra,
        )


class Paging:
    def __init__(
        self,
        sort: str | None = text_query("Comma-separated; '-' for descending", ["-ym:s:visits"]),
        limit: int = Query(100, ge=1, le=MAX_LIMIT),
        offset: int = Query(1, ge=1),
    ) -> None:
        self.sort = names(sort)
        self.limit = limit
        self.offset = offset

    def order(self, common: Common) -> list[str]:
        return self.sort or ["-" + common.metrics[0]]

    def page(self, rows: list[Any]) -> list[Any]:
        return rows[self.offset - 1 : self.offset - 1 + self.limit]


class Dates:
    def __init__(
        self,
        date1: str | None = text_query(DATE + "; default 6daysAgo", ["6daysAgo"]),
        date2: str | None = text_query(DATE + "; default today", ["today"]),
    ) -> None:
        self.date1 = date1
        self.date2 = date2


Shared = Annotated[Common, Depends()]
Pages = Annotated[Paging, Depends()]
Period = Annotated[Dates, Depends()]


def _key_values(row: Any) -> tuple[Any, Any]:
    return row[0], row[1]


@router.get("/data")
def data(common: Shared, dates: Period, paging: Pages) -> dict[str, Any]:
    """The table report (ym:s:visits, ym:s:cdpOrders*, ym:s:goal<ID>reaches|revenue)."""
    report = common.emulator.report(
        common.counter_id,
        common.metrics,
        common.dimensions,
        date1=dates.date1,
        date2=dates.date2,
        group=common.group,
        **common.options(),
    )
    order = paging.order(common)
    rows = sorted_rows(report.rows, order, common.dimensions, common.metrics, _key_values)
    return {
        "query": common.echo(report, sort=order, limit=paging.limit, offset=paging.offset),
        "data": [
            {
                "dimensions": [
                    dimension_value(d, v) for d, v in zip(report.dimensions, key, strict=True)
                ],
                "metrics": numbers(values),
            }
            for key, values in paging.page(rows)
        ],
        "total_rows": len(rows),
        **sampling(report),
        "totals": numbers(report.totals),
        **extremes([values for _, values in rows], len(common.metrics)),
    }


def _json_keys(raw: str, name: str) -> list[Any]:
    """A JSON list parameter (``row_ids``, ``parent_id``) of ids, ``null`` for undefined."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise ApiError("invalid_parameter", f"{name} must be a JSON list", name)
    return value


def _is_key(value: Any) -> bool:
    return isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)


@router.get("/data/bytime")
def bytime(
    common: Shared,
    dates: Period,
    top_keys: int = Query(7, ge=0, le=MAX_TOP_KEYS, description="Rows when row_ids is absent"),
    row_ids: str | None = text_query("JSON list of key lists", ['[["organic"],["ad"]]']),
    keys_sort: str | None = text_query("Comma-separated; '-' for descending"),
) -> dict[str, Any]:
    """Metrics per time interval (https://yandex.ru/dev/metrika/ru/stat/openapi/bytime)."""
    order = names(keys_sort) or ["-" + common.metrics[0]]
    wanted = _json_keys(row_ids, "row_ids") if row_ids else None
    if wanted is not None and not all(
        _is_key(k) and 0 < len(k) <= len(common.dimensions) for k in wanted
    ):
        raise ApiError(
            "invalid_parameter", "row_ids must list keys of at most one id per dimension", "row_ids"
        )

    def pick(table: Any) -> list[tuple]:
        if wanted is not None:
            return [tuple(k) for k in wanted]
        rows = sorted_rows(
            table.rows, order, common.dimensions, common.metrics, _key_values, "keys_sort"
        )
        return [key for key, _ in rows[:top_keys]]

    result = common.emulator.report_bytime(
        common.counter_id,
        common.metrics,
        common.dimensions,
        group=common.group,
        pick=pick,
        date1=dates.date1,
        date2=dates.date2,
        **common.options(),
    )
    table = result.report
    return {
        "query": common.echo(table, group=common.group, auto_group_type=result.group),
        "data": [
            {
                "dimensions": [
                    dimension_value(d, v) for d, v in zip(table.dimensions, key, strict=False)
                ],
                "metrics": [numbers(series) for series in values],
            }
            for key, values in result.rows
        ],
        "total_rows": len(table.rows),
        **sampling(table),
        "totals": [numbers(series) for series in result.totals],
        "time_intervals": [[a.isoformat(), b.isoformat()] for a, b in result.intervals],
    }


@router.get("/data/drilldown")
def drilldown(
    common: Shared,
    dates: Period,
    paging: Pages,
    parent_id: str | None = text_query("JSON list of the ids of the row to expand", ['["ad"]']),
) -> dict[str, Any]:
    """One level of the tree of ``dimensions`` below ``parent_id``
    (https://yandex.ru/dev/metrika/ru/stat/openapi/drilldown)."""
    parent = _json_keys(parent_id, "parent_id") if parent_id else []
    if not _is_key(parent) or len(parent) >= len(common.dimensions):
        raise ApiError(
            "invalid_parameter",
            "parent_id holds one id per level and there must be a dimension below it",
            "parent_id",
        )
    level = len(parent)
    shown = common.dimensions[: level + 1]
    report = common.emulator.report(
        common.counter_id,
        common.metrics,
        shown,
        date1=dates.date1,
        date2=dates.date2,
        group=common.group,
        **common.options(),
    )
    below = [(key, values) for key, values in report.rows if list(key[:level]) == parent]
    order = paging.order(common)
    rows = sorted_rows(below, order, shown, common.metrics, _key_values)
    return {
        "query": common.echo(report, sort=order, limit=paging.limit, offset=paging.offset),
        "data": [
            {
                "dimension": dimension_value(report.dimensions[level], key[level]),
                "metrics": numbers(values),
                "expand": level + 1 < len(common.dimensions),
            }
            for key, values in paging.page(rows)
        ],
        "total_rows": len(rows),
        **sampling(report),
        "totals": numbers(report.totals),
        **extremes([values for _, values in rows], len(common.metrics)),
    }


@router.get("/data/comparison")
def comparison(
    common: Shared,
    paging: Pages,
    date1_a: str | None = text_query(DATE + "; default 6daysAgo"),
    date2_a: str | None = text_query(DATE + "; default today"),
    date1_b: str | None = text_query(DATE + "; default 6daysAgo"),
    date2_b: str | None = text_query(DATE + "; default today"),
    filters_a: str | None = text_query("Segment A's filter (with filters)"),
    filters_b: str | None = text_query("Segment B's filter (with filters)"),
) -> dict[str, Any]:
    """Two segments side by side (https://yandex.ru/dev/metrika/ru/stat/openapi/comparison);
    rows are sorted by segment A's values."""
    result = common.emulator.report_comparison(
        common.counter_id,
        common.metrics,
        common.dimensions,
        a={"date1": date1_a, "date2": date2_a, "filters": filters_a},
        b={"date1": date1_b, "date2": date2_b, "filters": filters_b},
        group=common.group,
        **common.options(),
    )
    order = paging.order(common)
    rows = sorted_rows(result.rows, order, common.dimensions, common.metrics, _key_values)
    query = common.echo(result.a, sort=order, limit=paging.limit, offset=paging.offset)
    del query["date1"], query["date2"]
    for name, report, filters in (("a", result.a, filters_a), ("b", result.b, filters_b)):
        query[f"date1_{name}"] = report.date1.isoformat()
        query[f"date2_{name}"] = report.date2.isoformat()
        if filters:
            query[f"filters_{name}"] = filters
    visits = result.a.visits + result.b.visits
    return {
        "query": query,
        "data": [
            {
                "dimensions": [
                    dimension_value(d, v) for d, v in zip(result.a.dimensions, key, strict=True)
                ],
                "metrics": {"a": numbers(a), "b": numbers(b)},
            }
            for key, a, b in paging.page(rows)
        ],
        "total_rows": len(rows),
        **sampling(result.a),
        "sample_size": visits,
        "sample_space": visits,
        "totals": {"a": numbers(result.a.totals), "b": numbers(result.b.totals)},
    }


__all__ = ["MODEL_NAMES", "router", "source_name"]
