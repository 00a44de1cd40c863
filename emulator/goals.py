"""Order statuses → goals: the pure part of the status rules (project spec §2.8).

Sources:
- https://yandex.ru/dev/metrika/en/data-import/maporderstatuses-about (the five types, the
  mapping and ``goal_action_ids``);
- the ES seed metrica-crm-upload-es.txt (good_lead and dental-clinic lifecycles, SPAM and
  CANCELLED goals);
- https://yandex.ru/dev/metrika/en/data-import/simple-orders-data (goal revenue = revenue − cost,
  a goal's own ``:price`` wins, no revenue → no value).

A *fixation* is the moment an order is registered in a status on its linked visit: the first
link, or a change of status id afterwards. Re-sending the same status is not a fixation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from emulator.domain import OrderGoal, OrderStatus, StatusType
from emulator.rules import CancelledGoal, RuleSet


class CrmGoal(StrEnum):
    """The goals Metrica creates on a counter after its first successful CRM upload."""

    ORDER_CREATED = "CRM: Order created"
    ORDER_PAID = "CRM: Order paid"
    ORDER_SPAM = "CRM: Order spam"
    ORDER_CANCELLED = "CRM: Order cancelled"


STANDARD_STATUS_IDS: Mapping[str, StatusType] = {
    "IN_PROGRESS": StatusType.IN_PROGRESS,
    "PAID": StatusType.PAID,
    "CANCELLED": StatusType.CANCELLED,
    # Ambiguity A3: the mapping table of maporderstatuses-about and the old getorderstatuses
    # page spell it CANCELED; the OpenAPI enum says CANCELLED. Both are read as CANCELLED.
    "CANCELED": StatusType.CANCELLED,
    "SPAM": StatusType.SPAM,
}

DEFAULT_STATUS_ID = "PAID"
"""A simple order without ``order_status`` is PAID (simple-orders-data)."""


@dataclass(frozen=True, slots=True)
class ResolvedStatus:
    """A status id with its type and the JS goals each fixation into it fires."""

    status_id: str
    type: StatusType
    js_goals: tuple[str, ...] = ()


def resolve_status(
    status_id: str, mapping: Mapping[str, OrderStatus], js_goal_identifiers: Iterable[str]
) -> ResolvedStatus | None:
    """The type and JS goals of ``status_id``, or ``None`` when the counter does not know it.

    A mapped id wins; then the standard type names; then a JS goal identifier of the counter
    (type OTHER). A status id that is also a JS goal identifier fires that goal too.
    """
    identifiers = set(js_goal_identifiers)
    own_goal = (status_id,) if status_id in identifiers else ()
    mapped = mapping.get(status_id)
    if mapped is not None:
        extra = tuple(g for g in mapped.goal_action_ids if g not in own_goal)
        return ResolvedStatus(status_id, mapped.type, own_goal + extra)
    standard = STANDARD_STATUS_IDS.get(status_id)
    if standard is not None:
        return ResolvedStatus(status_id, standard, own_goal)
    if own_goal:
        return ResolvedStatus(status_id, StatusType.OTHER, own_goal)
    return None


def fixation_crm_goals(
    status_type: StatusType, rules: RuleSet, order_created_fired: bool
) -> list[CrmGoal]:
    """CRM goals fired by one fixation into a status of ``status_type``.

    "CRM: Order created" fires once per order, at its first fixation of a type that creates it;
    "CRM: Order paid" at every fixation into PAID; spam and cancelled per the rule options.
    """
    goals: list[CrmGoal] = []
    creates = {StatusType.IN_PROGRESS, StatusType.PAID}
    if rules.cancelled_goal is CancelledGoal.ORDER_CREATED:
        creates.add(StatusType.CANCELLED)
    if rules.other_fires_order_created:
        creates.add(StatusType.OTHER)
    if status_type in creates and not order_created_fired:
        goals.append(CrmGoal.ORDER_CREATED)
    if status_type is StatusType.PAID:
        goals.append(CrmGoal.ORDER_PAID)
    if status_type is StatusType.SPAM and rules.spam_goal:
        goals.append(CrmGoal.ORDER_SPAM)
    cancelled_goal = rules.cancelled_goal is CancelledGoal.ORDER_CANCELLED
    if status_type is StatusType.CANCELLED and cancelled_goal:
        goals.append(CrmGoal.ORDER_CANCELLED)
    return goals


def crm_goals_of(rules: RuleSet) -> list[CrmGoal]:
    """The CRM goals a counter gets under ``rules`` (created by the first CRM upload)."""
    goals = [CrmGoal.ORDER_CREATED, CrmGoal.ORDER_PAID, CrmGoal.ORDER_SPAM]
    if rules.cancelled_goal is CancelledGoal.ORDER_CANCELLED:
        goals.append(CrmGoal.ORDER_CANCELLED)
    return goals


def order_goal_revenue(revenue: Decimal | None, cost: Decimal | None) -> Decimal | None:
    """What a status goal carries: the order's profit (revenue − cost), else its revenue."""
    if revenue is None:
        return None
    return revenue - cost if cost is not None else revenue


def cell_goal_revenue(
    goal: OrderGoal, revenue: Decimal | None, cost: Decimal | None
) -> Decimal | None:
    """A ``goals`` entry's own ``:price`` wins; without it the goal inherits the order profit."""
    return goal.price if goal.price is not None else order_goal_revenue(revenue, cost)
