"""Decision codes and parameters → the sentence and the data a reader sees.

The ledger stores a code and a few parameters per decision (:mod:`.ledger`); this module is
the one place that turns them into words, when a decision is read. Each template names the
parameters it uses; the ``data`` keys are the API's (``visit_id``, ``identifier``, ``line``…).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from emulator.dates import from_ts
from emulator.decisions import DecisionCode as C
from emulator.domain import UploadKind
from emulator.engine.columns import FIELD_NAMES
from emulator.engine.ledger import CONTACT, OFFLINE_ROW

NO_IDENTITY = (
    "contact {customer!r} has not been uploaded",
    "no ClientID (advanced matching is off)",
    "no ClientID and no phone or e-mail",
)
"""Why an order has nothing to link by (``n1`` of ``NOT_LINKED_NO_IDENTITY``)."""


@dataclass(frozen=True)
class Params:
    subject_type: str
    key: str
    line: int | None
    n1: int | None
    n2: int | None
    s1: str | None
    s2: str | None
    s3: str | None


@dataclass(frozen=True)
class Context:
    counter_id: int
    tz: ZoneInfo

    def iso(self, ts: int | None) -> str | None:
        return None if ts is None else from_ts(ts, self.tz).isoformat()


Render = Callable[[Params, Context], tuple[str, dict[str, Any]]]


def _duplicate(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    lines = json.loads(p.s1 or "[]")
    return (
        f"id {p.key!r} appears on lines {lines}; line {p.line} applied {p.n1} of "
        f"{len(lines)} ({p.s2})",
        {"line": p.line, "applied_position": p.n1, "lines": lines},
    )


def _created(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    if p.subject_type == CONTACT:
        return f"contact created (line {p.line})", {"line": p.line}
    status = f" ({p.s2})" if p.s2 else " (unknown)"
    return (
        f"order created from line {p.line}, created {c.iso(p.n1)}, status {p.s1}{status}",
        {"line": p.line, "status": p.s1},
    )


def _date_conflict(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    """``n1`` the first date, ``n2`` the sent one, ``s1`` "overwrite" when the rule option
    replaced the first date."""
    first, sent = c.iso(p.n1), c.iso(p.n2)
    if p.subject_type == CONTACT:
        return (
            f"line {p.line} sends create_date_time {sent}; the contact keeps its first one, "
            f"{first}",
            {"line": p.line, "kept": first, "sent": sent},
        )
    overwrite = p.s1 == "overwrite"
    tail = (
        "the new date replaces it and the order is linked afresh (rule option)"
        if overwrite
        else "creation dates never change, so the row is applied as an update of the "
        "existing order and keeps the first date"
    )
    return (
        f"line {p.line} sends create_date_time {sent} for an order created {first}; {tail}",
        {"line": p.line, "kept": None if overwrite else first, "sent": sent},
    )


def _window(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    anchor = "linked visit's start" if p.s1 == "visit_start" else "order's creation"
    return (
        f"line {p.line} ignored: linked orders can be updated for {p.n1} days after the {anchor}",
        {"line": p.line},
    )


def _updated(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    names = FIELD_NAMES[UploadKind(p.s1 or "orders")]
    fields = [name for bit, name in enumerate(names) if (p.n1 or 0) >> bit & 1]
    return (
        f"line {p.line} updates {', '.join(fields)} ({p.s2})",
        {"line": p.line, "fields": fields},
    )


def _status(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    kind = f" ({p.s3})" if p.s3 else " (unknown)"
    return f"status {p.s1} → {p.s2}{kind}", {"line": p.line, "before": p.s1, "after": p.s2}


def _linked(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    if p.subject_type == OFFLINE_ROW:
        return (
            f"linked to visit {p.n1} through {p.s1}",
            {"visit_id": p.n1, "identifier": p.s1},
        )
    return (
        f"linked to visit {p.n1} (started {c.iso(p.n2)}) through {p.s1}: the visitor's latest "
        "visit before the order within the window",
        {"visit_id": p.n1, "identifier": p.s1},
    )


def _no_visit(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    if p.subject_type == OFFLINE_ROW:
        return (
            f"no visit of {p.s1} started before {from_ts(p.n2 or 0).isoformat()} and within "
            f"{p.n1} days before "
            "processing",
            {"visit_id": None, "identifier": p.s1},
        )
    return (
        "no visit of this customer started at or before the order's creation and within "
        f"{p.n1} days before processing",
        {},
    )


def _goal_fired(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    revenue = "" if p.s2 is None else f" with revenue {p.s2} {p.s3 or ''}".rstrip()
    return (
        f"goal {p.s1!r} reached on visit {p.n2}{revenue}",
        {"goal_id": p.n1, "goal": p.s1, "visit_id": p.n2, "revenue": p.s2},
    )


def _goal_not_found(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    if p.subject_type == OFFLINE_ROW:
        return (
            f"Target {p.s1!r} is not a JS goal identifier of counter {c.counter_id}; create "
            "the goal first",
            {"visit_id": None, "identifier": p.s2},
        )
    return (
        f"goal {p.s1!r} is not a JS goal of counter {c.counter_id}; nothing is counted for it "
        "(create the goal first)",
        {"goal": p.s1},
    )


def _unchanged(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    if p.subject_type == OFFLINE_ROW:
        return "the same conversion was already counted with the same price", {}
    return f"line {p.line} changes nothing", {"line": p.line}


def _too_old(p: Params, c: Context) -> tuple[str, dict[str, Any]]:
    age = p.n1 or 0
    return (
        f"processed {age / 86400:.2f} days after the order's creation; orders link only "
        f"within {p.n2} days",
        {"age_seconds": age},
    )


TEMPLATES: dict[C, Render] = {
    C.DUPLICATE_ID_IN_UPLOAD: _duplicate,
    C.CUSTOMER_ORDER_LIMIT: lambda p, c: (
        f"line {p.line} refused: customer {p.s1!r} already has {p.n1} orders",
        {"line": p.line, "customer": p.s1},
    ),
    C.CREATED: _created,
    C.CREATE_DATE_CONFLICT: _date_conflict,
    C.UPDATE_WINDOW_EXPIRED: _window,
    C.UNCHANGED: _unchanged,
    C.UPDATED: _updated,
    C.STATUS_CHANGED: _status,
    C.NOT_LINKED_UNKNOWN_STATUS: lambda p, c: (
        f"status {p.s1!r} is neither a standard type, a mapped status nor a JS goal of the "
        "counter; the order is kept for users and customers only",
        {},
    ),
    C.NOT_LINKED_ORDER_TOO_OLD: _too_old,
    C.NOT_LINKED_NO_IDENTITY: lambda p, c: (NO_IDENTITY[p.n1 or 0].format(customer=p.s1), {}),
    C.LINKED: _linked,
    C.NOT_LINKED_NO_VISIT: _no_visit,
    C.NOT_LINKED_STATIC_CALL: lambda p, c: (
        "static calls are never linked to visits (they still count in call reports)",
        {"visit_id": None, "identifier": p.s1},
    ),
    C.NOT_LINKED_BEFORE_CONTACTS: lambda p, c: (
        "the customer's visits within the window all started before the first contacts upload "
        f"({c.iso(p.n1)}); orders link only to visits made after it (contacts-first rule, "
        "https://yandex.ru/dev/metrika/ru/data-import/data)",
        {"contacts_first": c.iso(p.n1)},
    ),
    C.GOAL_FIRED: _goal_fired,
    C.GOAL_NOT_FOUND: _goal_not_found,
    C.REVENUE_OVERWRITTEN: lambda p, c: (
        f"the same conversion was sent again: revenue {p.s1} → {p.s2}",
        {"before": p.s1, "after": p.s2},
    ),
}


def render(code: str, params: Params, context: Context) -> tuple[str, dict[str, Any]]:
    """The sentence and data of one stored decision."""
    return TEMPLATES[C(code)](params, context)
