"""Goal reaches of linked orders: one per fixation of a status, and the ``goals`` cells.

A *fixation* is the moment an order is registered in a status on its linked visit: its first
link, or a status id different from the one last fixed. Which CRM goals a fixation fires is
:func:`emulator.goals.fixation_crm_goals` (the rules and their sources); a status that is a JS
goal, or maps to ``goal_action_ids``, fires those goals too; each ``goals`` cell entry fires its
JS goal once per order. Goals are only ever added (spec §2.8).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.decisions import DecisionCode
from emulator.engine.arrays import combined, indices, present, scatter, take
from emulator.engine.ledger import ORDER
from emulator.engine.statuses import StatusBook
from emulator.engine.work import Work
from emulator.goals import CrmGoal, crm_goal_name, crm_goal_type, fixation_crm_goals
from emulator.rules import Repeat
from emulator.store.tables import ORDER_ROW


def profits(revenue: pa.Array, cost: pa.Array) -> pa.Array:
    """What a status goal carries: revenue − cost, else the revenue, else nothing (spec §2.8).

    Whole amounts are subtracted as integers a column at a time; other amounts as exact
    decimals, one by one.
    """
    revenue, cost = combined(revenue), combined(cost)
    both = present(revenue) & present(cost)
    if not both.any():
        return revenue
    whole = np.asarray(
        pc.and_(
            pc.fill_null(pc.match_substring_regex(revenue, r"^[0-9]{1,15}$"), False),
            pc.fill_null(pc.match_substring_regex(cost, r"^[0-9]{1,15}$"), False),
        )
    )
    result = revenue
    at = np.flatnonzero(both & whole)
    if len(at):
        left = take(revenue, at).cast(pa.int64())
        right = take(cost, at).cast(pa.int64())
        result = scatter(result, at, pc.subtract(left, right).cast(pa.string()))
    at = np.flatnonzero(both & ~whole)
    if len(at):
        pairs = zip(take(revenue, at).to_pylist(), take(cost, at).to_pylist(), strict=True)
        exact = [str(Decimal(r) - Decimal(c)) for r, c in pairs]
        result = scatter(result, at, pa.array(exact, pa.string()))
    return result


class _Reaches:
    """Goal reaches of one batch of linked orders, logged with their decisions."""

    def __init__(self, work: Work, orders: pa.Table, rows: np.ndarray, positions: np.ndarray):
        self.work = work
        self.keys = take(orders.column("order_key"), rows)
        self.visits = np.asarray(take(orders.column("linked_visit_id"), rows))
        self.positions = positions[rows]
        self.currency = pc.fill_null(
            take(orders.column("currency"), rows), work.rules.default_currency
        )

    def fire(self, members: np.ndarray, goal_id: int, name: str, revenue: pa.Array) -> None:
        """Reach goal ``goal_id`` for the orders at ``members`` (of this batch)."""
        if not len(members):
            return
        work = self.work
        keys, visits = take(self.keys, members), self.visits[members]
        currency = take(self.currency, members)
        work.log.reach(
            self.positions[members],
            reach_id=work.reach_ids(len(members)),
            goal_id=np.full(len(members), goal_id),
            visit_id=visits,
            subject_type=ORDER,
            subject_key=keys,
            revenue=revenue,
            currency=currency,
        )
        work.log.decide(
            ORDER,
            keys,
            self.positions[members],
            DecisionCode.GOAL_FIRED,
            n1=goal_id,
            n2=visits,
            s1=name,
            s2=revenue,
            s3=currency,
        )

    def js(self, members: np.ndarray, identifiers: list[str], revenue: pa.Array) -> None:
        """JS goals by identifier; an unknown one is logged ``GOAL_NOT_FOUND``."""
        counter = self.work.counter
        by_goal: dict[str, list[int]] = {}
        for i, identifier in enumerate(identifiers):
            by_goal.setdefault(identifier, []).append(i)
        missing: list[int] = []
        for identifier, places in by_goal.items():
            goal = counter.goal_by_identifier(identifier)
            at = np.array(places, np.int64)
            if goal is None:
                missing += places
            else:
                self.fire(members[at], goal.id, goal.name, take(revenue, at))
        if missing:
            lost = np.array(sorted(missing), np.int64)
            self.work.log.decide(
                ORDER,
                take(self.keys, members[lost]),
                self.positions[members[lost]],
                DecisionCode.GOAL_NOT_FOUND,
                s1=[identifiers[i] for i in lost.tolist()],
            )


def fire(work: Work, orders: pa.Table, statuses: StatusBook, positions: np.ndarray) -> pa.Table:
    """Fire the goals of every new fixation and cell goal of the linked ``orders``."""
    rows = np.flatnonzero(present(orders.column("linked_visit_id")))
    if not len(rows):
        return orders
    reaches = _Reaches(work, orders, rows, positions)
    profit = profits(take(orders.column("revenue"), rows), take(orders.column("cost"), rows))
    status = take(orders.column("status_id"), rows)
    fixed = take(orders.column("fixed_status_id"), rows)
    codes, resolved = statuses.resolved(status)
    known = np.array([r is not None for r in resolved], bool)[codes] if len(codes) else codes > 0
    new = np.asarray(pc.fill_null(pc.not_equal(status, fixed), True)) & known
    created = np.asarray(pc.fill_null(take(orders.column("created_goal_fired"), rows), False))
    fixing = np.flatnonzero(new)
    # CRM goals, by (status, "Order created" already fired) combination.
    combo = codes[fixing] * 2 + created[fixing]
    plans = {
        int(c): fixation_crm_goals(resolved[c // 2], work.rules, bool(c % 2))  # type: ignore[arg-type]
        for c in np.unique(combo).tolist()
    }
    for place in range(max((len(p) for p in plans.values()), default=0)):
        by_goal: dict[CrmGoal, list[int]] = {}
        for c, plan in plans.items():
            if place < len(plan):
                by_goal.setdefault(plan[place], []).append(c)
        for crm_goal, combos in by_goal.items():
            at = fixing[np.isin(combo, combos)]
            goal = work.counter.goal_by_name(
                crm_goal_name(crm_goal, work.rules), crm_goal_type(crm_goal, work.rules)
            )
            if goal is not None:
                reaches.fire(at, goal.id, goal.name, take(profit, at))
            if crm_goal is CrmGoal.ORDER_CREATED:
                created[at] = True
    # JS goals of the status (its own identifier, then the mapping's goal_action_ids).
    js_goals = [r.js_goals if r is not None else () for r in resolved]
    lengths = np.array([len(g) for g in js_goals], np.int64)[codes[fixing]]
    for place in range(int(lengths.max(initial=0))):
        at = fixing[lengths > place]
        names = pa.array([g[place] if len(g) > place else None for g in js_goals], pa.string())
        reaches.js(at, names.take(indices(codes[at])).to_pylist(), take(profit, at))
    again = (
        new if work.rules.cell_goals_repeat is Repeat.PER_FIXATION else np.zeros(len(rows), bool)
    )
    fired = _cell_goals(reaches, orders, rows, profit, again)
    for name, values in (
        ("fixed_status_id", pc.if_else(pa.array(new), status, fixed)),
        ("created_goal_fired", pa.array(created)),
        ("fired_cell_goals", fired),
    ):
        at = ORDER_ROW.get_field_index(name)
        orders = orders.set_column(at, name, scatter(combined(orders.column(name)), rows, values))
    return orders


def _cell_goals(
    reaches: _Reaches, orders: pa.Table, rows: np.ndarray, profit: pa.Array, again: np.ndarray
) -> pa.Array:
    """Fire each ``goals`` entry not fired for its order yet, and every entry of the orders
    ``again`` marks (a new fixation when the cell goals repeat per fixation); returns the
    lists of identifiers fired so far.

    An entry's own ``:price`` wins; without it the goal inherits the order's profit.
    """
    goals_column = take(orders.column("goals"), rows)
    if not goals_column.null_count < len(goals_column):
        return take(orders.column("fired_cell_goals"), rows)
    cells = goals_column.to_pylist()
    fired = take(orders.column("fired_cell_goals"), rows).to_pylist()
    profits_ = profit.to_pylist()
    by_place: dict[int, tuple[list[int], list[str], list[str | None]]] = {}
    for i, (goals, done) in enumerate(zip(cells, fired, strict=True)):
        if not goals:
            continue
        seen = list(done or [])
        now: list[str] = []
        place = 0
        for goal in goals:
            identifier = goal["goal_action_id"]
            if identifier in now or (identifier in seen and not again[i]):
                continue
            now.append(identifier)
            if identifier not in seen:
                seen.append(identifier)
            members, names, revenues = by_place.setdefault(place, ([], [], []))
            members.append(i)
            names.append(identifier)
            revenues.append(goal["price"] if goal["price"] is not None else profits_[i])
            place += 1
        fired[i] = seen
    for place in sorted(by_place):
        members, names, revenues = by_place[place]
        reaches.js(np.array(members, np.int64), names, pa.array(revenues, pa.string()))
    return pa.array(fired, pa.list_(pa.string()))
