"""Checks of the parameters the real routes take, with the service's error types (spec §2.4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from emulator.domain import MergeMode
from emulator.engine.attribution import Attribution
from emulator.engine.reports import resolve_date
from emulator.errors import ApiError

ENTITY_TYPES = ("CONTACT", "COMPANY", "ORDER", "SIMPLE_ORDER")
OFFLINE_TYPES = ("BASIC", "CALLS", "CHATS")
MAX_COMMENT = 255


def merge_mode(value: str | MergeMode | None) -> MergeMode:
    """``merge_mode`` is required on every data upload (spec §4.1-4.5)."""
    if value is None or value == "":
        raise ApiError(
            "missing_parameter", "merge_mode is required: SAVE, UPDATE or APPEND", "merge_mode"
        )
    try:
        return MergeMode(str(value).upper() if isinstance(value, str) else value)
    except ValueError:
        raise ApiError(
            "invalid_parameter",
            f"merge_mode {value!r} is not one of SAVE, UPDATE, APPEND",
            "merge_mode",
        ) from None


def entity_type(value: str | None) -> str:
    """Ambiguity A5: the OpenAPI pages use upper case, the RU prose lower case; both accepted."""
    if not value:
        raise ApiError(
            "missing_parameter",
            "entity_type is required: " + ", ".join(ENTITY_TYPES),
            "entity_type",
        )
    entity = value.upper()
    if entity not in ENTITY_TYPES:
        raise ApiError(
            "invalid_parameter",
            f"entity_type {value!r} is not one of {', '.join(ENTITY_TYPES)}",
            "entity_type",
        )
    return entity


def offline_type(value: str | None) -> str:
    upload_type = (value or "BASIC").upper()
    if upload_type not in OFFLINE_TYPES:
        raise ApiError(
            "invalid_parameter", f"type {value!r} is not one of {', '.join(OFFLINE_TYPES)}", "type"
        )
    return upload_type


def comment(value: str | None) -> None:
    if value is not None and len(value) > MAX_COMMENT:
        raise ApiError(
            "invalid_parameter", f"comment is longer than {MAX_COMMENT} characters", "comment"
        )


def list_of_objects(
    body: Any, key: str, required: bool = True, maximum: int | None = None
) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "the body must be a JSON object")
    value = body.get(key)
    if value is None:
        if required:
            raise ApiError("invalid_parameter", f"{key!r} is required", key)
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ApiError("invalid_parameter", f"{key!r} must be a list of objects", key)
    if maximum is not None and len(value) > maximum:
        raise ApiError("invalid_parameter", f"{key!r} holds more than {maximum} entries", key)
    return value


def attribution(value: str | Attribution) -> Attribution:
    try:
        return Attribution(value)
    except ValueError:
        allowed = ", ".join(a.value for a in Attribution)
        raise ApiError(
            "invalid_parameter", f"attribution {value!r} is not one of {allowed}", "attribution"
        ) from None


def report_date(name: str, value: str | date, today: date) -> date:
    if isinstance(value, date):
        return value
    try:
        return resolve_date(value, today)
    except (ValueError, OverflowError):
        raise ApiError("invalid_parameter", f"{name} {value!r} is not a date", name) from None
