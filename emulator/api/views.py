"""Engine values → the JSON bodies of the real API and of the control routes.

Shapes and formats:
- ``UploadingMetaExternal`` (spec §4.12): ``datetime`` as ``yyyy-MM-dd HH:mm:ss`` in the
  counter's zone (spec §0 item 9 and the field observations of §8; ambiguity A11 — the same
  form ``last_uploadings`` takes back as ``datetime_offset``);
- ``OfflineConversionUploading`` (spec §7.3): ``create_time`` as ISO-8601 UTC with ``Z``; the
  legacy ``linked_quantity`` is kept, the calls quantities appear on calls uploadings only;
- management counter and goals: the fields the engine knows, named as the management API.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from emulator import CounterConfig, OfflineUploading, OrderView, Uploading
from emulator.engine.config import JS_GOAL, Goal
from emulator.engine.facade_manage import DELETED_GOAL
from emulator.serialize import to_jsonable

UPLOAD_TIME = "%Y-%m-%d %H:%M:%S"


def local_time(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime(UPLOAD_TIME)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def uploading(meta: Uploading, tz: ZoneInfo) -> dict[str, Any]:
    body = to_jsonable(meta)
    body["datetime"] = local_time(meta.datetime, tz)
    return body


def offline_uploading(meta: OfflineUploading) -> dict[str, Any]:
    body = to_jsonable(meta)
    body["create_time"] = iso_utc(meta.create_time)
    for name in ("static_calls_quantity", "dynamic_calls_quantity"):
        if body[name] is None:
            del body[name]
    return body


def counter(
    config: CounterConfig, now: datetime, scopes: tuple[str, ...], extended: tuple[bool, bool]
) -> dict[str, Any]:
    """A management ``counter`` object with the fields the emulator knows.

    ``extended`` are the legacy extended-period switches of offline conversions and calls
    (``offline_conversions/[calls_]extended_threshold``), shown as the counter's
    ``offline_options``.
    """
    offset = now.astimezone(config.tz).utcoffset()
    return {
        "id": config.counter_id,
        "status": "Active",
        "name": f"Emulated counter {config.counter_id}",
        "type": "simple",
        "permission": "edit" if {"metrika:write", "metrika:offline_data"} & set(scopes) else "view",
        "time_zone_name": config.time_zone,
        "time_zone_offset": int(offset.total_seconds() // 60) if offset else 0,
        "offline_options": {
            "offline_conversion_extend_post_click_period": extended[0],
            "offline_calls_extend_post_click_period": extended[1],
        },
    }


def masked(token: str) -> str:
    """A token as control reads show it: enough to tell tokens apart, not to use one.

    The first 4 characters of a token of 12 or more, then ``…`` and 6 hex digits of its
    SHA-256 (so tokens that start alike still show apart).
    """
    digest = hashlib.sha256(token.encode()).hexdigest()[:6]
    return f"{token[:4] if len(token) >= 12 else ''}…{digest}"


def goal_view(goal: Goal) -> dict[str, Any]:
    """A management Goal object (https://yandex.ru/dev/metrika/ru/management/openapi/goal/goal):
    goals the service creates (CRM, calls) have ``goal_source`` ``auto``, as live counters show."""
    return goal.to_json() | {
        "default_price": 0.0,
        "goal_source": "user" if goal.type == JS_GOAL else "auto",
        "is_favorite": False,
        "status": "Active",
    }


def control_counter(config: CounterConfig) -> dict[str, Any]:
    """What ``PUT``/``GET /_emulator/counters/{id}`` answer: the counter's whole setup, with
    its tokens :func:`masked` (whoever set them knows them; a page that reads them must not)."""
    return {
        "counter_id": config.counter_id,
        "time_zone": config.time_zone,
        "tokens": {masked(token): list(scopes) for token, scopes in config.tokens.items()},
        "goals": [goal.to_json() for goal in config.goals if goal.type != DELETED_GOAL],
        "rules": config.rules.to_mapping(),
    }


def order_view(view: OrderView) -> dict[str, Any]:
    return {
        "order": view.order,
        "status_type": view.status_type,
        "linked_visit_id": view.linked_visit_id,
        "linked_by": view.linked_by,
        "decisions": view.decisions,
        "goal_reaches": view.goal_reaches,
    }
