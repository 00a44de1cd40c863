"""The scorecard: what the emulator decided, measured against the simulator's ground truth.

Pure functions over plain data (truth rows, the emulator's order summaries, goal reaches and
report rows), so the same scorecard comes out whether the emulator ran in-process or behind
HTTP. Definitions:

- an order is *linked correctly* when the emulator linked it to the visit the lead really came
  from (the truth's ``visit_id``);
- **precision** = correct links / orders the emulator linked (only orders that map to a CRM deal);
- **recall** = correct links / CRM deals;
- an order is *lost* when it is not linked correctly; the reason is the emulator's last
  ``NOT_LINKED_*`` decision, ``NOT_UPLOADED`` when no upload ever carried it, or
  ``LINKED_TO_OTHER_VISIT``;
- *duplicates* are emulator orders beyond the first for one CRM deal (a re-upload under new ids,
  or simple orders sent without ``id``);
- *upload delay* is the time between a deal's creation and the first upload that carried it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from emulator.api.stat import source_name
from emulator.domain import StatusType

MINUTE_IN_DAYS = 1 / 1440
DELAY_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("< 15 min", 0, 15 * MINUTE_IN_DAYS),
    ("15 min - 1 h", 15 * MINUTE_IN_DAYS, 60 * MINUTE_IN_DAYS),
    ("1-6 h", 60 * MINUTE_IN_DAYS, 0.25),
    ("6-24 h", 0.25, 1),
    ("1-3 days", 1, 3),
    ("3-7 days", 3, 7),
    ("7-14 days", 7, 14),
    ("14-21 days", 14, 21),
    ("21-30 days", 21, 30),
    (">= 30 days", 30, float("inf")),
)
NOT_UPLOADED = "NOT_UPLOADED"
WRONG_VISIT = "LINKED_TO_OTHER_VISIT"


def identifier_class(truth: Mapping[str, Any]) -> str:
    """What the CRM knew about the visitor: the basis a pipeline could match on."""
    kind = truth.get("client_id_kind")
    if kind == "true":
        return "ClientID"
    if kind == "foreign":
        return "foreign ClientID"
    if truth.get("phone_as_typed") or truth.get("email_as_typed"):
        return "phone/e-mail only"
    return "nothing"


def linked_by_class(linked_by: str | None) -> str:
    if not linked_by:
        return "not linked"
    return linked_by.split(" ")[0]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _bucket(days: float | None) -> str:
    if days is None:
        return "never sent"
    for name, low, high in DELAY_BUCKETS:
        if low <= days < high:
            return name
    return DELAY_BUCKETS[0][0]  # a negative delay (sent before creation) counts as immediate


def scorecard(
    truth: Sequence[Mapping[str, Any]],
    orders: Sequence[Mapping[str, Any]],
    deal_of: Callable[[str], str | None],
    first_sent: Mapping[str, datetime],
    goals_fired: Mapping[str, int],
    goals_expected: Mapping[str, int],
    goals_checked: Mapping[str, int] | None,
    sources: Sequence[Mapping[str, Any]],
    offline: Mapping[str, Any] | None = None,
    currency: str = "RUB",
    attribution: str = "lastsign",
) -> dict[str, Any]:
    """Everything the scenario run measured, as plain JSON-friendly values; ``sources`` are
    the report's rows under ``attribution``, amounts are in ``currency``."""
    by_deal: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    unmatched = 0
    for order in orders:
        deal = deal_of(order["order_id"])
        if deal is None:
            unmatched += 1
        else:
            by_deal[deal].append(order)
    linked_orders = [
        o for group in by_deal.values() for o in group if o["linked_visit_id"] is not None
    ]
    outcome: dict[str, str] = {}
    correct_by: Counter[str] = Counter()
    for row in truth:
        deal = row["order_id"]
        mine = by_deal.get(deal, [])
        hit = next((o for o in mine if o["linked_visit_id"] == row["visit_id"]), None)
        if hit is not None:
            outcome[deal] = "LINKED"
            correct_by[linked_by_class(hit["linked_by"])] += 1
        elif not mine:
            outcome[deal] = NOT_UPLOADED
        elif any(o["linked_visit_id"] is not None for o in mine):
            outcome[deal] = WRONG_VISIT
        else:
            codes = [c for c in mine[0]["decisions"] if c.startswith("NOT_LINKED")]
            outcome[deal] = codes[-1] if codes else "NOT_LINKED"
    correct = sum(1 for v in outcome.values() if v == "LINKED")
    deals = len(truth)
    lost = Counter(v for v in outcome.values() if v != "LINKED")
    card: dict[str, Any] = {
        "orders": {
            "crm": deals,
            "in_emulator": len(orders),
            "linked": len(linked_orders),
            "linked_correctly": correct,
            "not_from_crm": unmatched,
        },
        "linkage": {
            "precision": _rate(correct, len(linked_orders)),
            "recall": _rate(correct, deals),
            "by_identifier": _breakdown(truth, outcome, identifier_class),
            "by_channel": _breakdown(truth, outcome, lambda r: r["lead_channel"]),
            "correct_links_by_key": dict(sorted(correct_by.items())),
        },
        "lost": dict(sorted(lost.items())),
        "lost_share": {reason: _rate(n, deals) for reason, n in sorted(lost.items())},
        "duplicates": sum(max(len(group) - 1, 0) for group in by_deal.values()) + unmatched,
        "create_date_conflicts": sum(1 for o in orders if "CREATE_DATE_CONFLICT" in o["decisions"]),
        "goals": _goals(goals_fired, goals_expected, goals_checked),
        "revenue": {**_revenue(truth, sources), "currency": currency},
        "attribution": attribution,
        "match_rate_by_upload_delay": _by_delay(truth, outcome, first_sent),
        "sources": _sources(truth, sources),
        "offline": dict(offline or {}),
    }
    return card


def _breakdown(
    truth: Iterable[Mapping[str, Any]], outcome: Mapping[str, str], key: Callable[[Any], str]
) -> dict[str, dict[str, Any]]:
    totals: Counter[str] = Counter()
    linked: Counter[str] = Counter()
    for row in truth:
        group = key(row)
        totals[group] += 1
        linked[group] += outcome[row["order_id"]] == "LINKED"
    return {
        group: {
            "orders": totals[group],
            "linked": linked[group],
            "recall": _rate(linked[group], totals[group]),
        }
        for group in sorted(totals)
    }


def _by_delay(
    truth: Iterable[Mapping[str, Any]],
    outcome: Mapping[str, str],
    first_sent: Mapping[str, datetime],
) -> list[dict[str, Any]]:
    totals: Counter[str] = Counter()
    linked: Counter[str] = Counter()
    for row in truth:
        sent = first_sent.get(row["order_id"])
        created = datetime.fromisoformat(row["created_at"])
        days = None if sent is None else (sent - created).total_seconds() / 86_400
        bucket = _bucket(days)
        totals[bucket] += 1
        linked[bucket] += outcome[row["order_id"]] == "LINKED"
    order = [name for name, _, _ in DELAY_BUCKETS] + ["never sent"]
    return [
        {
            "delay": name,
            "orders": totals[name],
            "linked": linked[name],
            "match_rate": _rate(linked[name], totals[name]),
        }
        for name in order
        if totals[name]
    ]


def _paid(row: Mapping[str, Any]) -> bool:
    return row["status_type"] == StatusType.PAID.value


def _revenue(
    truth: Sequence[Mapping[str, Any]], sources: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    crm = sum((Decimal(r["revenue"]) for r in truth if _paid(r)), Decimal(0))
    reported = sum((Decimal(str(s["revenue"])) for s in sources), Decimal(0))
    return {
        "crm_paid": float(crm),
        "reported": float(reported),
        "reported_share": float(reported / crm) if crm else None,
    }


def _sources(
    truth: Sequence[Mapping[str, Any]], sources: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Orders and profit by traffic source: what the CRM knows vs what the report shows."""
    true_orders: Counter[str] = Counter()
    true_profit: dict[str, Decimal] = defaultdict(Decimal)
    for row in truth:
        if row["status_type"] == StatusType.SPAM.value:
            continue
        source = row["traffic_source"]
        true_orders[source] += 1
        if _paid(row):
            true_profit[source] += Decimal(row["revenue"]) - Decimal(row["cost"])
    reported = {s["source"]: s for s in sources}
    names = sorted(set(true_orders) | set(reported))
    return [
        {
            "source": name,
            "name": source_name(name),
            "true_orders": true_orders[name],
            "reported_orders": int(reported[name]["orders"]) if name in reported else 0,
            "true_profit": float(true_profit[name]),
            "reported_profit": float(reported[name]["profit"]) if name in reported else 0.0,
        }
        for name in names
    ]


def _goals(
    fired: Mapping[str, int], expected: Mapping[str, int], checked: Mapping[str, int] | None
) -> dict[str, Any]:
    goals: dict[str, Any] = {
        "expected": dict(sorted(expected.items())),
        "fired": dict(sorted(fired.items())),
    }
    if checked is not None:
        mismatch = {
            name: fired.get(name, 0) - checked.get(name, 0)
            for name in sorted(set(checked) | (set(fired) & set(expected)))
            if name in checked or name.startswith("CRM: ")
        }
        goals["from_fixations"] = dict(sorted(checked.items()))
        goals["mismatch"] = mismatch
        goals["mismatch_total"] = sum(abs(n) for n in mismatch.values())
    return goals
