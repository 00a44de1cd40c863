"""The control routes under ``/_emulator`` (issue 4): state, clock, counters, visits, faults.

JSON in and out, no token needed (they are the emulator's own back door, like moto's), and
never subject to quotas or injected faults. Failures answer in the same error envelope as the
real routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from emulator import CounterConfig, Emulator
from emulator.api.bodies import json_document, media_type, read_json, spooled_body
from emulator.api.common import CounterId, json_body, off_loop
from emulator.api.config import counter_config
from emulator.api.counter_merge import merged_config
from emulator.api.faults import Fault
from emulator.api.guard import context
from emulator.api.protect import CSV
from emulator.api.settings import QuotaSettings
from emulator.api.views import control_counter, order_view
from emulator.errors import ApiError

router = APIRouter(prefix="/_emulator", tags=["Emulator control"])

OBJECT = {"type": "object"}


@router.post("/reset")
def reset(request: Request) -> dict[str, Any]:
    """Forget all state, quota counts, quota changes and pending faults; then set up again
    the counters the server started with (the configured ones, or the default counter and
    token), so the same tokens keep working after a reset."""
    api = context(request)
    api.emulator.reset()
    for config in request.app.state.baseline_counters:
        api.emulator.put_counter(config)
    api.forget()
    return {"ok": True}


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    return {"now": context(request).emulator.now().isoformat()}


CLOCK_BODY = json_body(
    {
        "type": "object",
        "properties": {
            "now": {"type": "string", "format": "date-time"},
            "advance_seconds": {"type": "number", "minimum": 0},
        },
    }
)


@router.post("/clock", openapi_extra=CLOCK_BODY)
async def set_clock(request: Request) -> dict[str, Any]:
    """``{"now": "<ISO-8601 with offset>"}`` or ``{"advance_seconds": N}``; due uploads run."""
    api = context(request)
    body = await read_json(request, api.settings)
    if not isinstance(body, dict) or len(set(body) & {"now", "advance_seconds"}) != 1:
        raise ApiError("invalid_parameter", 'send exactly one of "now" or "advance_seconds"')
    if set(body) - {"now", "advance_seconds"}:
        raise ApiError("invalid_parameter", 'only "now" or "advance_seconds" may be sent')
    if "now" in body:
        try:
            moment = datetime.fromisoformat(body["now"])
            if moment.tzinfo is None:
                raise ValueError("it has no UTC offset")
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_parameter", f"now {body['now']!r}: {exc}", "now") from None
        now = await off_loop(api.emulator.set_clock, moment)
    else:
        seconds = body["advance_seconds"]
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise ApiError(
                "invalid_parameter", "advance_seconds must be a number", "advance_seconds"
            )
        now = await off_loop(api.emulator.advance, seconds)
    return {"now": now.isoformat()}


@router.put("/counters/{counter_id}", openapi_extra=json_body(OBJECT))
async def put_counter(
    request: Request,
    counter_id: CounterId,
    replace: Annotated[
        bool, Query(description="true: the body is the whole setup (default: merge into it)")
    ] = False,
) -> dict[str, Any]:
    """Create a counter or merge into its setup (see :mod:`emulator.api.counter_merge`);
    ``?replace=true`` replaces the setup whole. Its data and CRM goals are kept either way."""
    api = context(request)
    body = await read_json(request, api.settings)
    existing = None if replace else await off_loop(_existing_counter, api.emulator, counter_id)
    config = counter_config(counter_id, body) if existing is None else merged_config(existing, body)
    return control_counter(await off_loop(api.emulator.put_counter, config))


def _existing_counter(emulator: Emulator, counter_id: int) -> CounterConfig | None:
    try:
        return emulator.counter(counter_id)
    except ApiError as error:
        if error.error_type == "not_found":
            return None
        raise


@router.get("/counters/{counter_id}")
def get_counter(request: Request, counter_id: CounterId) -> dict[str, Any]:
    return control_counter(context(request).emulator.counter(counter_id))


VISITS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["visits"],
                    "properties": {"visits": {"type": "array", "items": OBJECT}},
                }
            },
        },
    }
}


@router.post("/counters/{counter_id}/visits", openapi_extra=VISITS_BODY)
async def load_visits(request: Request, counter_id: CounterId) -> dict[str, Any]:
    """Visits as CSV (``text/csv``) or JSON ``{"visits": [...]}`` (``application/json``)."""
    api = context(request)
    csv = media_type(request) == CSV
    body_of, load = (
        (spooled_body, api.emulator.load_visits_csv)
        if csv
        else (json_document, api.emulator.load_visits_json)
    )
    async with body_of(request, api.settings) as body:
        return {"loaded": await off_loop(load, counter_id, body)}


@router.get("/counters/{counter_id}/orders")
def list_orders(request: Request, counter_id: CounterId) -> dict[str, Any]:
    """Every order of the counter: status, amounts, linked visit and its decision codes."""
    return {"orders": context(request).emulator.orders_summary(counter_id)}


@router.get("/counters/{counter_id}/orders/{order_id}")
def get_order(request: Request, counter_id: CounterId, order_id: str) -> dict[str, Any]:
    """The order's current fields, link, decisions and goal reaches (404 when unknown)."""
    return order_view(context(request).emulator.order(counter_id, order_id))


@router.get("/counters/{counter_id}/goal_reaches")
def goal_reaches(request: Request, counter_id: CounterId) -> dict[str, Any]:
    """Every goal reach of the counter, in the order it happened."""
    return {"goal_reaches": context(request).emulator.goal_reaches(counter_id)}


@router.get("/counters/{counter_id}/offline_conversions/{uploading_id}/rows")
def offline_rows(request: Request, counter_id: CounterId, uploading_id: int) -> dict[str, Any]:
    """Each row of an offline or calls uploading with its linked visit or the reason."""
    return {"rows": context(request).emulator.offline_rows(counter_id, uploading_id)}


FAULT_BODY = json_body(
    {
        "type": "object",
        "required": ["path"],
        "properties": {
            "path": {"type": "string"},
            "method": {"type": "string"},
            "count": {"type": "integer", "minimum": 1},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "delay_seconds": {"type": "number", "minimum": 0},
            "error_type": {"type": "string"},
            "message": {"type": "string"},
        },
    }
)


@router.post("/faults", openapi_extra=FAULT_BODY)
async def add_fault(request: Request) -> dict[str, Any]:
    """The next ``count`` requests matching ``path`` (and ``method``) fail or wait."""
    api = context(request)
    api.faults.add(Fault.from_body(await read_json(request, api.settings)))
    return {"faults": api.faults.pending()}


@router.get("/faults")
def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": context(request).faults.pending()}


@router.delete("/faults")
def clear_faults(request: Request) -> dict[str, Any]:
    context(request).faults.clear()
    return {"faults": []}


@router.get("/quotas")
def get_quotas(request: Request) -> dict[str, Any]:
    return context(request).quotas.settings.to_mapping()


@router.put("/quotas", openapi_extra=json_body(OBJECT))
async def set_quotas(request: Request) -> dict[str, Any]:
    """Change quotas (``{"enabled": false}`` switches them off); counts start afresh.

    The change is kept in the state file: it holds across restarts until a reset."""
    api = context(request)
    body = await read_json(request, api.settings)
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "the body must be a JSON object")
    try:
        quotas = QuotaSettings.from_mapping(body, api.quotas.settings)
    except ValueError as exc:
        raise ApiError("invalid_parameter", str(exc)) from None
    await off_loop(api.set_quotas, quotas)
    return quotas.to_mapping()
