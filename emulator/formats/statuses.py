"""The order-status mapping body of ``schema/order_statuses`` (spec §4.6).

``{"order_statuses": [{"id", "type", "humanized"?, "goal_action_ids"?}, ...]}``:

- ``id``: 1..255 characters of ``^[\\w-:]+$``; an id twice in one body is an error (what
  the service does then is not documented);
- ``type``: ``IN_PROGRESS``, ``PAID``, ``CANCELLED``, ``SPAM`` or ``OTHER``; the old
  spelling ``CANCELED`` is accepted and read as ``CANCELLED`` (ambiguity A3);
- ``humanized``: up to 4096 characters;
- ``goal_action_ids``: up to 10 unique JS goal ids, as a list or, as in the docs' sample,
  a single string (ambiguity A10).

Mapping bodies are small, so this is plain Python over the same limits as the files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.domain import OrderStatus, RowError, StatusType
from emulator.formats.cells import json_type
from emulator.formats.jsonread import elements, load_json
from emulator.formats.limits import (
    ID_CHARS,
    ID_PATTERN_HELP,
    MAX_GOAL_ACTION_IDS,
    MAX_HUMANIZED,
    MAX_ID_LENGTH,
    MAX_STATUS_ID,
)

KEY = "order_statuses"
_ID = re.compile(ID_CHARS)
_TYPES = {t.value: t for t in StatusType} | {"CANCELED": StatusType.CANCELLED}


class _Invalid(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _text(item: Mapping[str, Any], key: str, maximum: int, required: bool) -> str | None:
    value = item.get(key)
    if value is None:
        if required:
            raise _Invalid(key, f"{key} is required")
        return None
    if not isinstance(value, str):
        raise _Invalid(key, f"{key} must be a string, not {json_type(value)}")
    if required and not value:
        raise _Invalid(key, f"{key} is empty")
    if len(value) > maximum:
        raise _Invalid(key, f"{key} is longer than {maximum} characters")
    return value


def _goal_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise _Invalid(
            "goal_action_ids", "goal_action_ids must be a list of goal ids (or one id as a string)"
        )
    if len(ids) > MAX_GOAL_ACTION_IDS:
        raise _Invalid(
            "goal_action_ids",
            f"goal_action_ids has {len(ids)} ids; at most {MAX_GOAL_ACTION_IDS} are allowed",
        )
    if len(set(ids)) != len(ids):
        raise _Invalid("goal_action_ids", "goal_action_ids lists a goal twice")
    if any(len(i) > MAX_ID_LENGTH for i in ids):
        raise _Invalid("goal_action_ids", f"a goal id is longer than {MAX_ID_LENGTH} characters")
    return tuple(ids)


def _status(item: Any) -> OrderStatus:
    if not isinstance(item, Mapping):
        raise _Invalid("", f"each status must be an object, not {json_type(item)}")
    status_id = _text(item, "id", MAX_STATUS_ID, required=True)
    assert status_id is not None
    if not _ID.fullmatch(status_id):
        raise _Invalid("id", f"id {status_id!r} may hold only {ID_PATTERN_HELP}")
    kind = item.get("type")
    if kind not in _TYPES:
        names = ", ".join(t.value for t in StatusType)
        raise _Invalid("type", f"type {kind!r} is not one of {names}")
    humanized = _text(item, "humanized", MAX_HUMANIZED, required=False)
    return OrderStatus(status_id, _TYPES[kind], humanized, _goal_ids(item.get("goal_action_ids")))


def parse_status_mapping(
    body: bytes | str | Mapping[str, Any],
) -> tuple[list[OrderStatus], list[RowError]]:
    """The valid statuses of a mapping body and an error per invalid element (line = index).

    The list may also hold warnings (``severity`` warning), e.g. for an unexpected top key.
    """
    document, error = load_json(body)
    if error:
        return [], [error]
    items, errors = elements(document, KEY, "status")
    statuses: list[OrderStatus] = []
    seen: dict[str, int] = {}
    for line, item in enumerate(items, start=1):
        try:
            status = _status(item)
        except _Invalid as exc:
            errors.append(RowError(line, exc.key or None, str(exc)))
            continue
        if status.id in seen:
            errors.append(
                RowError(
                    line,
                    "id",
                    f"status id {status.id!r} is already defined on element {seen[status.id]}",
                    "duplicate_value",
                )
            )
            continue
        seen[status.id] = line
        statuses.append(status)
    return statuses, errors


def status_mapping_to_json(statuses: list[OrderStatus]) -> dict[str, Any]:
    """The body for ``POST schema/order_statuses`` (and of the GET answer)."""
    out = []
    for status in statuses:
        item: dict[str, Any] = {"id": status.id, "type": status.type.value}
        if status.humanized is not None:
            item["humanized"] = status.humanized
        item["goal_action_ids"] = list(status.goal_action_ids)
        out.append(item)
    return {KEY: out}
