"""Applying offline conversions and calls (project spec §7), a column batch at a time.

Sources: https://yandex.ru/dev/metrika/en/management/offline-conv and
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

from datetime import datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.decisions import DecisionCode
from emulator.engine.arrays import combined, numbers, present, take
from emulator.engine.config import Goal
from emulator.engine.keys import text_keys
from emulator.engine.ledger import OFFLINE_ROW
from emulator.engine.link import link_direct, link_through_visitor
from emulator.engine.visits import IndexKind
from emulator.engine.work import Work
from emulator.rules import OfflineWindow

IDENTIFIER_FIELDS: tuple[tuple[str, str, IndexKind], ...] = (
    ("client_id", "CLIENT_ID", IndexKind.CLIENT_ID),
    ("user_id", "USER_ID", IndexKind.USER_ID),
    ("yclid", "YCLID", IndexKind.YCLID),
    ("purchase_id", "PURCHASE_ID", IndexKind.PURCHASE_ID),
)
"""Identifier columns in the order they are preferred when a row carries several."""

OFFLINE_ROWS_EXTRA = pa.schema(
    [
        pa.field("visit_id", pa.int64()),
        pa.field("code", pa.string()),
        pa.field("n1", pa.int64()),
        pa.field("n2", pa.int64()),
        pa.field("s1", pa.string()),
        pa.field("s2", pa.string()),
    ]
)
"""What an offline row keeps beside its fields: its visit and its first decision."""


LEGACY_WINDOW_SECONDS = 16 * 3600
"""The old API's default: conversions join a visit for 16 hours after it (approximated from
the visit's start; enablecallsextendedthreshold)."""


def threshold_key(counter_id: int, calls: bool) -> str:
    """Where the legacy extended-threshold switch of a counter is kept (when it went on)."""
    return f"extended_threshold.{'calls' if calls else 'offline'}.{counter_id}"


def visit_bound(work: Work, calls: bool) -> int:
    """The earliest visit start a conversion processed now may link to (rule
    ``offline_window``)."""
    rules = work.rules
    window = work.now - rules.offline_visit_age_limit_days * 86_400
    if rules.offline_window is OfflineWindow.CURRENT:
        return window
    since = work.session.counters.setting(threshold_key(work.counter_id, calls))
    if since is None:
        return work.now - LEGACY_WINDOW_SECONDS
    return max(window, int(datetime.fromisoformat(since).timestamp()))


def identifiers(batch: pa.Table) -> tuple[np.ndarray, pa.Array]:
    """Per row the identifier used (an index into :data:`IDENTIFIER_FIELDS`) and its text."""
    which = np.full(len(batch), -1, np.int64)
    value = pa.nulls(len(batch), pa.string())
    for i, (name, _, _) in reversed(list(enumerate(IDENTIFIER_FIELDS))):
        if name not in batch.column_names:
            continue
        column = combined(batch.column(name))
        sent = present(column)
        which[sent] = i
        value = pc.if_else(pa.array(sent), column.cast(pa.string()), value)
    return which, value


class _Rows:
    """The per-row outcome of one offline batch, filled step by step."""

    def __init__(self, batch: pa.Table, uploading_id: str) -> None:
        n = len(batch)
        lines = np.asarray(batch.column("line"))
        self.keys = pa.array([f"{uploading_id}:{line}" for line in lines.tolist()], pa.string())
        self.visit = np.full(n, -1, np.int64)
        self.code: list[str] = [""] * n
        self.n1: list[int | None] = [None] * n
        self.n2: list[int | None] = [None] * n
        self.s1: list[str | None] = [None] * n
        self.s2: list[str | None] = [None] * n

    def set(self, rows: np.ndarray, code: DecisionCode, **params: list) -> None:
        for place, row in enumerate(rows.tolist()):
            self.code[row] = code.value
            for name, values in params.items():
                getattr(self, name)[row] = values[place]


def apply_offline(
    work: Work, batch: pa.Table, targets: pa.Array, goals: dict[str, Goal | None]
) -> int:
    """Link and count every row; returns how many rows are linked to a visit."""
    rules, log = work.rules, work.log
    n = len(batch)
    out = _Rows(batch, work.uploading_id)
    which, value = identifiers(batch)
    labels = [
        f"{IDENTIFIER_FIELDS[w][1]} {v}"
        for w, v in zip(which.tolist(), value.to_pylist(), strict=True)
    ]
    static = (
        np.asarray(pc.fill_null(batch.column("static_call"), False))
        if "static_call" in batch.column_names
        else np.zeros(n, bool)
    )
    target_list = targets.to_pylist()
    missing = np.array([goals.get(t) is None for t in target_list], bool) & ~static
    times = numbers(batch.column("date_time"))
    positions = np.arange(n)
    out.set(
        np.flatnonzero(static),
        DecisionCode.NOT_LINKED_STATIC_CALL,
        s1=[labels[i] for i in np.flatnonzero(static)],
    )
    lost = np.flatnonzero(missing)
    out.set(
        lost,
        DecisionCode.GOAL_NOT_FOUND,
        s1=[target_list[i] for i in lost],
        s2=[labels[i] for i in lost],
    )
    pending = np.flatnonzero(~static & ~missing)
    not_before = visit_bound(work, "static_call" in batch.column_names)
    for i, (name, _, kind) in enumerate(IDENTIFIER_FIELDS):
        rows = pending[which[pending] == i]
        if not len(rows):
            continue
        column = take(batch.column(name), rows)
        keys = (
            text_keys(column)
            if kind in (IndexKind.USER_ID, IndexKind.PURCHASE_ID)
            else numbers(column).astype(np.uint64)
        )
        link = link_through_visitor if kind is IndexKind.USER_ID else link_direct
        groups, visits, _ = link(
            work.visits, kind, rows, keys, times[rows], np.full(len(rows), not_before)
        )
        out.visit[groups] = visits
    linked = pending[out.visit[pending] >= 0]
    missed = pending[out.visit[pending] < 0]
    out.set(
        linked, DecisionCode.LINKED, n1=out.visit[linked].tolist(), s1=[labels[i] for i in linked]
    )
    out.set(
        missed,
        DecisionCode.NOT_LINKED_NO_VISIT,
        n1=[rules.offline_visit_age_limit_days] * len(missed),
        n2=times[missed].tolist(),
        s1=[labels[i] for i in missed],
    )
    for code in {c for c in out.code}:
        rows = np.array([i for i, c in enumerate(out.code) if c == code], np.int64)
        log.decide(
            OFFLINE_ROW,
            take(out.keys, rows),
            positions[rows],
            DecisionCode(code),
            n1=[out.n1[i] for i in rows.tolist()],
            n2=[out.n2[i] for i in rows.tolist()],
            s1=[out.s1[i] for i in rows.tolist()],
            s2=[out.s2[i] for i in rows.tolist()],
        )
    _count(work, batch, out, linked, which, value, target_list, goals, times)
    work.offline_rows.append(_offline_rows(batch, out))
    return len(linked)


def _count(
    work: Work,
    batch: pa.Table,
    out: _Rows,
    linked: np.ndarray,
    which: np.ndarray,
    value: pa.Array,
    targets: list[str],
    goals: dict[str, Goal | None],
    times: np.ndarray,
) -> None:
    """A new conversion fires its goal; a re-sent one only overwrites the revenue."""
    if not len(linked):
        return
    rules, log = work.rules, work.log
    prices = take(batch.column("price"), linked).to_pylist()
    currencies = pc.fill_null(
        take(batch.column("currency"), linked), rules.default_currency
    ).to_pylist()
    values = take(value, linked).to_pylist()
    keys = [
        f"{IDENTIFIER_FIELDS[which[row]][1]}:{v}:{targets[row]}:{times[row]}"
        for row, v in zip(linked.tolist(), values, strict=True)
    ]
    stored = work.session.conversions.find(work.counter_id, keys)
    known: dict[str, list] = {
        k: [reach, revenue, None, False] for k, (reach, revenue) in stored.items()
    }
    fresh: list[int] = []
    for place, (row, key, price) in enumerate(zip(linked.tolist(), keys, prices, strict=True)):
        entry = known.get(key)
        if entry is None:
            known[key] = [None, price, currencies[place], True]
            fresh.append(place)
            continue
        before = entry[1]
        same = (before is None and price is None) or (
            before is not None and price is not None and Decimal(before) == Decimal(price)
        )
        subject = take(out.keys, np.array([row]))
        if same:
            log.decide(OFFLINE_ROW, subject, np.array([row]), DecisionCode.UNCHANGED)
            continue
        entry[1:] = [price, currencies[place], True]
        log.decide(
            OFFLINE_ROW,
            subject,
            np.array([row]),
            DecisionCode.REVENUE_OVERWRITTEN,
            s1=[before],
            s2=[price],
        )
    ids = work.reach_ids(len(fresh))
    for reach_id, place in zip(ids.tolist(), fresh, strict=True):
        known[keys[place]][0] = reach_id
    for target in sorted({targets[linked[p]] for p in fresh}):
        members = np.array([p for p in fresh if targets[linked[p]] == target], np.int64)
        goal = goals[target]
        assert goal is not None
        rows = linked[members]
        revenue = pa.array([prices[p] for p in members.tolist()], pa.string())
        currency = pa.array([currencies[p] for p in members.tolist()], pa.string())
        work.log.reach(
            rows,
            reach_id=ids[np.searchsorted(fresh, members)],
            goal_id=np.full(len(rows), goal.id),
            visit_id=out.visit[rows],
            subject_type=OFFLINE_ROW,
            subject_key=take(out.keys, rows),
            revenue=revenue,
            currency=currency,
        )
        log.decide(
            OFFLINE_ROW,
            take(out.keys, rows),
            rows,
            DecisionCode.GOAL_FIRED,
            n1=goal.id,
            n2=out.visit[rows],
            s1=goal.name,
            s2=revenue,
            s3=currency,
        )
    work.session.conversions.put(
        work.counter_id,
        [(key, e[0], e[1], e[2]) for key, e in known.items() if e[3]],
    )


def _offline_rows(batch: pa.Table, out: _Rows) -> pa.Table:
    extra = [
        pa.array(np.where(out.visit >= 0, out.visit, 0), pa.int64(), mask=out.visit < 0),
        pa.array(out.code, pa.string()),
        pa.array(out.n1, pa.int64()),
        pa.array(out.n2, pa.int64()),
        pa.array(out.s1, pa.string()),
        pa.array(out.s2, pa.string()),
    ]
    columns = [batch.column(name) for name in batch.column_names]
    return pa.table(columns + extra, names=batch.column_names + OFFLINE_ROWS_EXTRA.names)
