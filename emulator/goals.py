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
from emulator.rules import CancelledGoal, CrmGoalType, GoalNames, Repeat, RuleSet, WhenCreated


class CrmGoal(StrEnum):
    """The goals Metrica creates on a counter after its first successful CRM upload."""

    ORDER_CREATED = "created"
    ORDER_PAID = "paid"
    ORDER_CANCELLED = "cancelled"
    ORDER_SPAM = "spam"


CRM_GOAL_NAMES: Mapping[GoalNames, Mapping[CrmGoal, str]] = {
    GoalNames.EN: {
        CrmGoal.ORDER_CREATED: "CRM: Order created",
        CrmGoal.ORDER_PAID: "CRM: Order paid",
        CrmGoal.ORDER_CANCELLED: "CRM: Order canceled",
        CrmGoal.ORDER_SPAM: "CRM: Spam order",
    },
    GoalNames.RU: {
        CrmGoal.ORDER_CREATED: "CRM: Заказ создан",
        CrmGoal.ORDER_PAID: "CRM: Заказ оплачен",
        CrmGoal.ORDER_CANCELLED: "CRM: Заказ отменен",
        CrmGoal.ORDER_SPAM: "CRM: Спам заказ",
    },
    GoalNames.ES: {
        CrmGoal.ORDER_CREATED: "CRM: Pedido creado",
        CrmGoal.ORDER_PAID: "CRM: Pedido pagado",
        CrmGoal.ORDER_CANCELLED: "CRM: Pedido cancelado",
        CrmGoal.ORDER_SPAM: "CRM: Pedido spam",
    },
    GoalNames.EMULATOR_01: {
        CrmGoal.ORDER_CREATED: "CRM: Order created",
        CrmGoal.ORDER_PAID: "CRM: Order paid",
        CrmGoal.ORDER_CANCELLED: "CRM: Order cancelled",
        CrmGoal.ORDER_SPAM: "CRM: Order spam",
    },
}
"""Names as each source writes them: the RU and EN maporderstatuses-about pages (EN spells
"canceled"), the ES help text ("Pedido cancelado" is a translation: the ES list has no such
goal), and this emulator's 0.1 names."""

CDP_GOAL_TYPES: Mapping[CrmGoal, str] = {
    CrmGoal.ORDER_CREATED: "cdp_order_in_progress",
    CrmGoal.ORDER_PAID: "cdp_order_paid",
    CrmGoal.ORDER_CANCELLED: "cdp_order_cancelled",
    CrmGoal.ORDER_SPAM: "cdp_order_spam",
}


def crm_goal_name(goal: CrmGoal, rules: RuleSet) -> str:
    return CRM_GOAL_NAMES[rules.goal_names][goal]


def crm_goal_type(goal: CrmGoal, rules: RuleSet) -> str:
    if rules.crm_goal_type is CrmGoalType.CDP:
        return CDP_GOAL_TYPES[goal]
    return rules.crm_goal_type.value


def is_crm_goal_type(goal_type: str) -> bool:
    return goal_type == CrmGoalType.EMULATOR_01.value or goal_type in CDP_GOAL_TYPES.values()


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
    """A status id with its type, the JS goals each fixation into it fires, and whether it
    comes from the counter's status mapping."""

    status_id: str
    type: StatusType
    js_goals: tuple[str, ...] = ()
    mapped: bool = False


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
        return ResolvedStatus(status_id, mapped.type, own_goal + extra, mapped=True)
    standard = STANDARD_STATUS_IDS.get(status_id)
    if standard is not None:
        return ResolvedStatus(status_id, standard, own_goal)
    if own_goal:
        return ResolvedStatus(status_id, StatusType.OTHER, own_goal)
    return None


def _creates(status: ResolvedStatus, rules: RuleSet, reached: bool) -> bool:
    """Whether a fixation into ``status`` reaches "CRM: Order created"."""
    kind = status.type
    if kind is StatusType.IN_PROGRESS:
        when = WhenCreated.ALWAYS
    elif kind is StatusType.PAID:
        when = rules.paid_fires_order_created
    elif kind is StatusType.OTHER:
        when = rules.other_fires_order_created
    elif kind is StatusType.CANCELLED and rules.cancelled_goal is CancelledGoal.ORDER_CREATED:
        when = WhenCreated.ALWAYS
    else:
        return False
    if when is WhenCreated.NEVER or (when is WhenCreated.UNMAPPED_ONLY and status.mapped):
        return False
    if when is WhenCreated.IF_NOT_REACHED or rules.order_created_repeat is Repeat.ONCE_PER_ORDER:
        return not reached
    return True


def fixation_crm_goals(status: ResolvedStatus, rules: RuleSet, reached: bool) -> list[CrmGoal]:
    """CRM goals one fixation into ``status`` reaches (``reached``: the order has reached
    "CRM: Order created" before), in the order they are reached.

    Sources and the options behind each choice: :mod:`emulator.rules`, :mod:`emulator.packs`.
    "CRM: Order paid" is reached at every fixation into PAID.
    """
    goals = [CrmGoal.ORDER_CREATED] if _creates(status, rules, reached) else []
    if status.type is StatusType.PAID:
        goals.append(CrmGoal.ORDER_PAID)
    if status.type is StatusType.SPAM and rules.spam_goal:
        goals.append(CrmGoal.ORDER_SPAM)
    cancelled = rules.cancelled_goal is CancelledGoal.ORDER_CANCELLED
    if status.type is StatusType.CANCELLED and cancelled:
        goals.append(CrmGoal.ORDER_CANCELLED)
    return goals


def crm_goals_of(rules: RuleSet) -> list[CrmGoal]:
    """The CRM goals a counter gets under ``rules`` (created by the first CRM upload)."""
    goals = [CrmGoal.ORDER_CREATED, CrmGoal.ORDER_PAID]
    if rules.spam_goal or rules.goal_names is GoalNames.EMULATOR_01:
        goals.append(CrmGoal.ORDER_SPAM)
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
