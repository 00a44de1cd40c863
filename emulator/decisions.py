"""The decision log's vocabulary: every code the engine can write, and one decision.

Each order, contact and offline-conversion row gets an ordered list of decisions, so that a
user can ask "why was order 704 not linked?" and get the rule that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class DecisionCode(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    LINKED = "LINKED"
    NOT_LINKED_NO_IDENTITY = "NOT_LINKED_NO_IDENTITY"
    NOT_LINKED_NO_VISIT = "NOT_LINKED_NO_VISIT"
    NOT_LINKED_ORDER_TOO_OLD = "NOT_LINKED_ORDER_TOO_OLD"
    NOT_LINKED_UNKNOWN_STATUS = "NOT_LINKED_UNKNOWN_STATUS"
    NOT_LINKED_STATIC_CALL = "NOT_LINKED_STATIC_CALL"
    NOT_LINKED_BEFORE_CONTACTS = "NOT_LINKED_BEFORE_CONTACTS"
    CREATE_DATE_CONFLICT = "CREATE_DATE_CONFLICT"
    UPDATE_WINDOW_EXPIRED = "UPDATE_WINDOW_EXPIRED"
    DUPLICATE_ID_IN_UPLOAD = "DUPLICATE_ID_IN_UPLOAD"
    CUSTOMER_ORDER_LIMIT = "CUSTOMER_ORDER_LIMIT"
    STATUS_CHANGED = "STATUS_CHANGED"
    GOAL_FIRED = "GOAL_FIRED"
    GOAL_NOT_FOUND = "GOAL_NOT_FOUND"
    REVENUE_OVERWRITTEN = "REVENUE_OVERWRITTEN"


NOT_LINKED_CODES = frozenset(c for c in DecisionCode if c.value.startswith("NOT_LINKED"))


@dataclass(frozen=True, slots=True)
class Decision:
    """One step of a subject's history: when, which rule, what it concerned, and why."""

    at: datetime
    code: DecisionCode
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)
    uploading_id: str | None = None
