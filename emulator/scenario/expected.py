"""The goals each rule pack expects, stated as a table: the scorer's own reading of the packs.

This module does not call the engine's goal rules (:mod:`emulator.goals`): it restates, as
data, what every pack of :mod:`emulator.packs` says a fixation reaches, so that a bug in the
engine's rules shows up as a difference between the goals fired and the goals expected
instead of being copied into the expectations.

A *fixation* is an order registered in a status on its linked visit: the upload that links
it, and every later upload that leaves it in another status. Two expectations are computed:

- :func:`expected_from_fixations`: from the fixations the engine itself logged (its decisions:
  created, status changes, link), what the pack says was reached; a scenario requires the
  goals fired to equal these exactly;
- :func:`expected_perfect`: from the CRM's true status histories, what a perfect pipeline
  (every order linked, every change sent in time) would reach.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.domain import OrderStatus
from emulator.rules import RuleSet

EACH, FIRST, NEVER = "each", "first", "never"
"""When a fixation reaches "Order created": at each one, only at the order's first, or not."""
TYPES = {"IN_PROGRESS", "PAID", "CANCELLED", "CANCELED", "SPAM"}


@dataclass(frozen=True)
class Row:
    """What a fixation into one status type reaches under a pack."""

    created: str
    goals: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackTable:
    in_progress: Row
    paid: Row
    other_unmapped: Row
    other_mapped: Row
    cancelled: Row
    spam: Row
    names: Mapping[str, str]
    """Goal kind → the name the counter's goal carries."""

    def row(self, status_type: str, mapped: bool) -> Row:
        if status_type == "OTHER":
            return self.other_mapped if mapped else self.other_unmapped
        return {
            "IN_PROGRESS": self.in_progress,
            "PAID": self.paid,
            "CANCELLED": self.cancelled,
            "SPAM": self.spam,
        }[status_type]


EN = {
    "created": "CRM: Order created",
    "paid": "CRM: Order paid",
    "cancelled": "CRM: Order canceled",
    "spam": "CRM: Spam order",
}
TABLES: dict[str, PackTable] = {
    "docs-current": PackTable(
        in_progress=Row(EACH),
        paid=Row(FIRST, ("paid",)),
        other_unmapped=Row(EACH),
        other_mapped=Row(NEVER),
        cancelled=Row(NEVER, ("cancelled",)),
        spam=Row(NEVER, ("spam",)),
        names=EN,
    ),
    "docs-2024": PackTable(
        in_progress=Row(EACH),
        paid=Row(FIRST, ("paid",)),
        other_unmapped=Row(EACH),
        other_mapped=Row(NEVER),
        cancelled=Row(NEVER),
        spam=Row(NEVER),
        names=EN,
    ),
    "help-es": PackTable(
        in_progress=Row(EACH),
        paid=Row(NEVER, ("paid",)),
        other_unmapped=Row(EACH),
        other_mapped=Row(EACH),
        cancelled=Row(EACH),
        spam=Row(NEVER, ("spam",)),
        names={
            "created": "CRM: Pedido creado",
            "paid": "CRM: Pedido pagado",
            "cancelled": "CRM: Pedido cancelado",
            "spam": "CRM: Pedido spam",
        },
    ),
    "emulator-0.1": PackTable(
        in_progress=Row(FIRST),
        paid=Row(FIRST, ("paid",)),
        other_unmapped=Row(FIRST),
        other_mapped=Row(FIRST),
        cancelled=Row(FIRST),
        spam=Row(NEVER, ("spam",)),
        names={
            "created": "CRM: Order created",
            "paid": "CRM: Order paid",
            "cancelled": "CRM: Order cancelled",
            "spam": "CRM: Order spam",
        },
    ),
}


def table_of(rules: RuleSet) -> PackTable | None:
    """The table of the rules' pack; ``None`` when goal rules were overridden (no statement)."""
    from emulator.packs import pack_rules

    table = TABLES.get(rules.pack)
    if table is None:
        return None
    pack = pack_rules(rules.pack)
    goal_rules = (
        "cancelled_goal",
        "spam_goal",
        "order_created_repeat",
        "paid_fires_order_created",
        "other_fires_order_created",
        "goal_names",
    )
    same = all(getattr(pack, name) == getattr(rules, name) for name in goal_rules)
    return table if same else None


class _Resolver:
    """Status id → (type, mapped, JS goal names): the mapping, the standard ids, JS goals."""

    def __init__(self, statuses: Sequence[OrderStatus], js_goal_names: Mapping[str, str]):
        self.mapping = {s.id: s for s in statuses}
        self.js = js_goal_names

    def __call__(self, status_id: str) -> tuple[str, bool, list[str]] | None:
        own = [self.js[status_id]] if status_id in self.js else []
        if status_id in self.mapping:
            entry = self.mapping[status_id]
            extra = [self.js[g] for g in entry.goal_action_ids if g in self.js and g != status_id]
            return entry.type.value, True, own + extra
        if status_id in TYPES:
            return ("CANCELLED" if status_id == "CANCELED" else status_id), False, own
        if own:
            return "OTHER", False, own
        return None


def _reach(table: PackTable, kind: str, mapped: bool, reached: bool, counts: Counter[str]) -> bool:
    row = table.row(kind, mapped)
    if row.created == EACH or (row.created == FIRST and not reached):
        counts[table.names["created"]] += 1
        reached = True
    for goal in row.goals:
        counts[table.names[goal]] += 1
    return reached


def _walk(
    table: PackTable, resolve: _Resolver, fixations: Iterable[str], counts: Counter[str]
) -> None:
    reached = False
    for status_id in fixations:
        resolved = resolve(status_id)
        if resolved is None:
            continue
        kind, mapped, js = resolved
        reached = _reach(table, kind, mapped, reached, counts)
        for name in js:
            counts[name] += 1


def fixations_of(decisions: Sequence[Mapping[str, Any]]) -> list[str]:
    """The statuses an order was fixed in, from its decisions (one per upload at most)."""
    status: str | None = None
    linked = False
    fixed: str | None = None
    out: list[str] = []
    upload: str | None = None

    def close() -> None:
        nonlocal fixed
        if linked and status is not None and status != fixed:
            out.append(status)
            fixed = status

    for decision in decisions:
        if decision["uploading_id"] != upload:
            close()
            upload = decision["uploading_id"]
        code, data = decision["code"], decision["data"]
        if code == "CREATED" and "status" in data:
            status = data["status"]
        elif code == "STATUS_CHANGED":
            status = data["after"]
        elif code == "LINKED":
            linked = True
    close()
    return out


def expected_from_fixations(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    statuses: Sequence[OrderStatus],
    js_goal_names: Mapping[str, str],
    rules: RuleSet,
) -> dict[str, int] | None:
    """CRM goals the pack says the logged fixations reach (orders' decisions by order id).

    Only the CRM goals: JS goals may also come from ``goals`` cells, which decisions do not
    show; the CRM goals are where the packs differ.
    """
    table = table_of(rules)
    if table is None:
        return None
    counts: Counter[str] = Counter()
    resolve = _Resolver(statuses, js_goal_names)
    for decisions in histories.values():
        _walk(table, resolve, fixations_of(decisions), counts)
    crm = set(table.names.values())
    return {name: n for name, n in counts.items() if name in crm}


def crm_goal_names(rules: RuleSet) -> set[str]:
    table = table_of(rules)
    return set(table.names.values()) if table else set()


def expected_perfect(
    truth: Iterable[Mapping[str, Any]],
    statuses: Sequence[OrderStatus],
    js_goal_names: Mapping[str, str],
    rules: RuleSet,
) -> dict[str, int]:
    """Goals a perfect pipeline would reach: every status change of every true order fixed."""
    table = table_of(rules) or TABLES["docs-current"]
    counts: Counter[str] = Counter()
    resolve = _Resolver(statuses, js_goal_names)
    for row in truth:
        history = [status for status, _ in row["status_history"]]
        changes = [s for i, s in enumerate(history) if i == 0 or s != history[i - 1]]
        _walk(table, resolve, changes, counts)
    return dict(counts)
