"""Applying offline conversions and calls (project spec §7).

Source: https://yandex.ru/dev/metrika/en/management/offline-conv and
https://yandex.ru/dev/metrika/ru/management/calls:
- ClientId / UserId: the visitor's latest visit before ``DateTime``, provided at most 21 days
  lie between that visit and processing (the docs' example: visits on 1, 5 and 11 March, a
  purchase on 10 March uploaded on 20 March → the 5 March visit);
- Yclid: the visit of that ad click; PurchaseId: the visit with that e-commerce purchase;
- the same identifier + Target + DateTime sent again with another Price overwrites the revenue
  (FAQ https://yandex.ru/dev/metrika/ru/faq);
- static calls (``StaticCall=1``) are never linked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from emulator._old.counter import Goal, Processing
from emulator._old.linking import IndexKind, Queries, link_direct, link_through_visitor, text_key
from emulator.decisions import DecisionCode
from emulator.domain import Call, OfflineConversion
from emulator.serialize import to_jsonable

OFFLINE_ROW = "offline_row"

IDENTIFIER_FIELDS: tuple[tuple[str, str, IndexKind], ...] = (
    ("client_id", "CLIENT_ID", IndexKind.CLIENT_ID),
    ("user_id", "USER_ID", IndexKind.USER_ID),
    ("yclid", "YCLID", IndexKind.YCLID),
    ("purchase_id", "PURCHASE_ID", IndexKind.PURCHASE_ID),
)
"""Identifier columns in the order they are preferred when a row carries several."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """One row ready to link: which identifier it uses and what it is worth."""

    line: int
    record: OfflineConversion | Call
    id_type: str
    index: IndexKind
    id_value: str
    target: str
    static: bool

    @property
    def time(self) -> int:
        return int(self.record.date_time.timestamp())

    @property
    def key(self) -> int:
        if self.index in (IndexKind.USER_ID, IndexKind.PURCHASE_ID):
            return text_key(self.id_value)
        return int(self.id_value)

    @property
    def conversion_key(self) -> str:
        return f"{self.id_type}:{self.id_value}:{self.target}:{self.time}"


def row_key(p: Processing, conversion: Conversion) -> str:
    """Decisions of offline rows are keyed ``<uploading id>:<line>``."""
    return f"{p.uploading_id}:{conversion.line}"


def to_conversion(line: int, record: OfflineConversion | Call, target: str) -> Conversion:
    for field_name, id_type, index in IDENTIFIER_FIELDS:
        value = getattr(record, field_name, None)
        if value is not None:
            static = bool(getattr(record, "static_call", False))
            return Conversion(line, record, id_type, index, str(value), target, static)
    raise ValueError(f"line {line} has no identifier")  # formats guarantee at least one


def client_id_type(conversions: Sequence[Conversion]) -> str:
    """The identifier type the uploading reports: the one most rows use (A14)."""
    counts: dict[str, int] = {}
    for conversion in conversions:
        counts[conversion.id_type] = counts.get(conversion.id_type, 0) + 1
    if not counts:
        return "CLIENT_ID"
    preference = [id_type for _, id_type, _ in IDENTIFIER_FIELDS]
    return max(counts, key=lambda t: (counts[t], -preference.index(t)))


def apply_conversions(
    p: Processing, conversions: Sequence[Conversion], goals: dict[str, Goal | None]
) -> int:
    """Link and count every row; returns how many rows are linked to a visit."""
    not_before = p.now_ts - p.rules.offline_visit_age_limit_days * 86_400
    by_kind: dict[IndexKind, list[tuple[int, int, int, int]]] = {}
    pending: list[int] = []
    results: dict[int, tuple[int | None, DecisionCode, str]] = {}
    for i, conversion in enumerate(conversions):
        goal = goals.get(conversion.target)
        if conversion.static:
            results[i] = (
                None,
                DecisionCode.NOT_LINKED_STATIC_CALL,
                "static calls are never linked to visits (they still count in call reports)",
            )
        elif goal is None:
            results[i] = (
                None,
                DecisionCode.GOAL_NOT_FOUND,
                f"Target {conversion.target!r} is not a JS goal identifier of counter "
                f"{p.counter.counter_id}; create the goal first",
            )
        else:
            pending.append(i)
            by_kind.setdefault(conversion.index, []).append(
                (i, conversion.key, conversion.time, not_before)
            )
    found: dict[int, tuple[int, int]] = {}
    for kind, rows in by_kind.items():
        link = link_through_visitor if kind is IndexKind.USER_ID else link_direct
        found.update(link(p.visits, kind, Queries.build(rows)))
    for i in pending:
        conversion = conversions[i]
        if i in found:
            visit = found[i][0]
            results[i] = (
                visit,
                DecisionCode.LINKED,
                f"linked to visit {visit} through {conversion.id_type} {conversion.id_value}",
            )
        else:
            results[i] = (
                None,
                DecisionCode.NOT_LINKED_NO_VISIT,
                f"no visit of {conversion.id_type} {conversion.id_value} started before "
                f"{conversion.record.date_time.isoformat()} and within "
                f"{p.rules.offline_visit_age_limit_days} days before processing",
            )
    linked = 0
    for i, conversion in enumerate(conversions):
        visit, code, reason = results[i]
        detail = {"visit_id": visit, "identifier": f"{conversion.id_type} {conversion.id_value}"}
        p.decide(OFFLINE_ROW, row_key(p, conversion), code, reason, **detail)
        if visit is not None:
            linked += 1
            goal = goals[conversion.target]
            assert goal is not None
            _count(p, conversion, goal, visit)
        p.conn.execute(
            "INSERT INTO offline_rows (counter_id, uploading_id, line, record_json, visit_id, "
            "code, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                p.counter.counter_id,
                p.uploading_id,
                conversion.line,
                json.dumps(to_jsonable(conversion.record)),
                visit,
                code.value,
                reason,
            ),
        )
    return linked


def _count(p: Processing, conversion: Conversion, goal: Goal, visit: int) -> None:
    """A new conversion fires its goal; a re-sent one only overwrites the revenue."""
    price: Decimal | None = conversion.record.price
    currency = conversion.record.currency or p.rules.default_currency
    row = p.conn.execute(
        "SELECT r.seq, r.revenue FROM offline_conversions c JOIN goal_reaches r "
        "ON r.seq = c.reach_seq WHERE c.counter_id = ? AND c.conversion_key = ?",
        (p.counter.counter_id, conversion.conversion_key),
    ).fetchone()
    if row is None:
        seq = p.fire(goal, visit, OFFLINE_ROW, row_key(p, conversion), price, currency)
        p.conn.execute(
            "INSERT INTO offline_conversions (counter_id, conversion_key, reach_seq) "
            "VALUES (?, ?, ?)",
            (p.counter.counter_id, conversion.conversion_key, seq),
        )
        return
    before = None if row["revenue"] is None else Decimal(row["revenue"])
    if before == price:
        p.decide(
            OFFLINE_ROW,
            row_key(p, conversion),
            DecisionCode.UNCHANGED,
            "the same conversion was already counted with the same price",
        )
        return
    p.conn.execute(
        "UPDATE goal_reaches SET revenue = ?, currency = ? WHERE seq = ?",
        (None if price is None else str(price), currency, row["seq"]),
    )
    p.decide(
        OFFLINE_ROW,
        row_key(p, conversion),
        DecisionCode.REVENUE_OVERWRITTEN,
        f"the same conversion was sent again: revenue {before} → {price}",
        before=None if before is None else str(before),
        after=None if price is None else str(price),
    )
