"""The reference engine's public, in-process API: one method per operation of the real service.

:class:`Emulator` is what the HTTP adapter calls, what scenarios drive, and what users script
against without HTTP. It validates an upload completely before anything is stored (a bad file
is an :class:`~emulator.errors.ApiError` and leaves no trace), records it as an uploading, and
processes it when the virtual clock reaches its processing time — each upload in one
transaction.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from emulator import formats, reports, schema
from emulator.apply_offline import Conversion, apply_conversions, client_id_type, to_conversion
from emulator.apply_orders import (
    ORDER,
    Row,
    apply_contacts,
    apply_orders,
    unknown_statuses,
)
from emulator.clock import Clock, VirtualClock
from emulator.counter import (
    CALL_GOAL,
    CRM_GOAL,
    FIRST_GOAL_ID,
    JS_GOAL,
    CounterConfig,
    Goal,
    Processing,
    from_ts,
    to_ts,
)
from emulator.domain import (
    Call,
    Contact,
    MergeMode,
    OfflineConversion,
    OfflineUploading,
    OfflineUploadingStatus,
    Order,
    OrderStatus,
    RowError,
    SimpleOrder,
    Uploading,
    UploadKind,
    Visit,
)
from emulator.errors import ApiError
from emulator.goals import crm_goals_of
from emulator.linking import VisitTable
from emulator.repository import SIMPLE_ORDERS, load_mapping, save_mapping
from emulator.rules import RuleSet, ValidationFailure
from emulator.serialize import from_jsonable, to_jsonable
from emulator.store import Store

CRM = "crm"
OFFLINE = "offline"
CALLS = "calls"
OFFLINE_TYPES = ("BASIC", "CALLS", "CHATS")
ENTITY_TYPES = ("CONTACT", "COMPANY", "ORDER", "SIMPLE_ORDER")
PREDEFINED_TYPES = ("numeric", "date", "datetime", "email", "text")
"""Custom attribute ``type_name`` values of the PREDEFINED group (spec §4.7)."""
MAX_COMMENT = 255
DEFAULT_CALL_GOAL = "Calls"
RECORD_TYPE_BY_KIND: dict[UploadKind, type] = {
    UploadKind.SIMPLE_ORDERS: SimpleOrder,
    UploadKind.ORDERS: Order,
    UploadKind.CONTACTS: Contact,
    UploadKind.OFFLINE_CONVERSIONS: OfflineConversion,
    UploadKind.CALLS: Call,
}
Source = str | Path | bytes | BinaryIO


@dataclass(frozen=True)
class OrderView:
    """Everything the engine knows about one order (the control API's answer)."""

    order: dict[str, Any]
    status_type: str | None
    linked_visit_id: int | None
    linked_by: str | None
    decisions: list[dict[str, Any]]
    goal_reaches: list[dict[str, Any]]


def parse_merge_mode(value: str | MergeMode | None) -> MergeMode:
    """``merge_mode`` is required on every data upload (spec §4.1-4.5)."""
    if value is None or value == "":
        raise ApiError(
            "missing_parameter", "merge_mode is required: SAVE, UPDATE or APPEND", "merge_mode"
        )
    try:
        return MergeMode(str(value).upper() if isinstance(value, str) else value)
    except ValueError:
        raise ApiError(
            "invalid_parameter",
            f"merge_mode {value!r} is not one of SAVE, UPDATE, APPEND",
            "merge_mode",
        ) from None


class Emulator:
    """The reference engine over a :class:`~emulator.store.Store` and a clock."""

    def __init__(self, db: str | Path = ":memory:", clock: Clock | None = None) -> None:
        self.store = Store(db)
        saved = self.store.get_setting("clock")
        self.clock = clock or VirtualClock(datetime.fromisoformat(saved) if saved else None)
        self._visits: dict[int, VisitTable] = {}
        self._lock = threading.RLock()

    # -- clock ------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def set_clock(self, value: datetime) -> datetime:
        """Move the virtual clock to ``value`` and process every upload that became due."""
        if not isinstance(self.clock, VirtualClock):
            raise ApiError("invalid_parameter", "the clock is the wall clock and cannot be set")
        with self._lock:
            try:
                now = self.clock.set(value)
            except (OverflowError, ValueError) as exc:
                raise ApiError("invalid_parameter", f"clock time {value}: {exc}", "now") from None
            self.store.set_setting("clock", now.isoformat())
            self.process_due()
            return now

    def advance(self, seconds: float) -> datetime:
        try:
            if not seconds >= 0:
                raise ValueError(seconds)
            target = self.now() + timedelta(seconds=seconds)
        except (OverflowError, ValueError):
            raise ApiError(
                "invalid_parameter",
                f"advance_seconds must be a number of seconds >= 0 within the calendar: {seconds}",
                "advance_seconds",
            ) from None
        return self.set_clock(target)

    # -- counters ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every counter, upload and decision (and return the clock to its start)."""
        with self._lock:
            self.store.reset()
            self._visits.clear()
            if isinstance(self.clock, VirtualClock):
                self.clock.set(VirtualClock().now())

    def put_counter(self, config: CounterConfig) -> CounterConfig:
        """Create or replace a counter's setup; its data and its CRM goals are kept."""
        with self._lock, self.store.transaction() as conn:
            existing = conn.execute(
                "SELECT 1 FROM counters WHERE counter_id = ?", (config.counter_id,)
            ).fetchone()
            crm_goals = [
                g for g in self._goals(conn, config.counter_id) if g.type in (CRM_GOAL, CALL_GOAL)
            ]
            kept = [g for g in crm_goals if all(g.id != own.id for own in config.goals)]
            conn.execute("DELETE FROM goals WHERE counter_id = ?", (config.counter_id,))
            conn.execute("DELETE FROM tokens WHERE counter_id = ?", (config.counter_id,))
            if existing:
                conn.execute(
                    "UPDATE counters SET time_zone = ?, rules_json = ? WHERE counter_id = ?",
                    (config.time_zone, json.dumps(config.rules.to_mapping()), config.counter_id),
                )
            else:
                conn.execute(
                    "INSERT INTO counters (counter_id, time_zone, rules_json) VALUES (?, ?, ?)",
                    (config.counter_id, config.time_zone, json.dumps(config.rules.to_mapping())),
                )
            self._insert_goals(conn, config.counter_id, [*config.goals, *kept])
            conn.executemany(
                "INSERT INTO tokens (counter_id, token, scopes_json) VALUES (?, ?, ?)",
                [
                    (config.counter_id, token, json.dumps(list(scopes)))
                    for token, scopes in config.tokens.items()
                ],
            )
        return self.counter(config.counter_id)

    def delete_counter(self, counter_id: int) -> None:
        with self._lock:
            self.counter(counter_id)
            self.store.delete_counter(counter_id)
            self._visits.pop(counter_id, None)
            for calls in (False, True):
                self.store.set_setting(_threshold_key(counter_id, calls), None)

    def counter(self, counter_id: int) -> CounterConfig:
        row = self.store.query_one("SELECT * FROM counters WHERE counter_id = ?", (counter_id,))
        if row is None:
            raise ApiError("not_found", f"counter {counter_id} does not exist", "counterId")
        tokens = {
            r["token"]: tuple(json.loads(r["scopes_json"]))
            for r in self.store.query(
                "SELECT token, scopes_json FROM tokens WHERE counter_id = ? ORDER BY token",
                (counter_id,),
            )
        }
        return CounterConfig(
            counter_id=counter_id,
            time_zone=row["time_zone"],
            rules=RuleSet.from_mapping(json.loads(row["rules_json"])),
            goals=tuple(self._goals(self.store.conn, counter_id)),
            tokens=tokens,
        )

    def counters(self) -> list[CounterConfig]:
        ids = [r[0] for r in self.store.query("SELECT counter_id FROM counters ORDER BY 1")]
        return [self.counter(i) for i in ids]

    def token_scopes(self, token: str) -> dict[int, tuple[str, ...]]:
        """The counters ``token`` opens, with its scopes on each (empty when it is unknown)."""
        return {
            r["counter_id"]: tuple(json.loads(r["scopes_json"]))
            for r in self.store.query(
                "SELECT counter_id, scopes_json FROM tokens WHERE token = ? ORDER BY 1", (token,)
            )
        }

    def _goals(self, conn: Any, counter_id: int) -> list[Goal]:
        with self.store._lock:
            rows = conn.execute(
                "SELECT goal_id, name, identifier, goal_type FROM goals WHERE counter_id = ? "
                "ORDER BY goal_id",
                (counter_id,),
            ).fetchall()
        return [Goal(r[0], r[1], r[2], r[3]) for r in rows]

    def _insert_goals(self, conn: Any, counter_id: int, goals: Iterable[Goal]) -> None:
        conn.executemany(
            "INSERT INTO goals (counter_id, goal_id, name, identifier, goal_type) "
            "VALUES (?, ?, ?, ?, ?)",
            [(counter_id, g.id, g.name, g.identifier, g.type) for g in goals],
        )

    def _new_goal(
        self, conn: Any, counter: CounterConfig, name: str, identifier: str | None, goal_type: str
    ) -> Goal:
        used = [g.id for g in self._goals(conn, counter.counter_id)]
        goal = Goal(max([FIRST_GOAL_ID - 1, *used]) + 1, name, identifier, goal_type)
        self._insert_goals(conn, counter.counter_id, [goal])
        return goal

    def add_goal(self, counter_id: int, name: str, identifier: str) -> Goal:
        """``POST /management/v1/counter/{id}/goals``: a JS-event goal matching ``identifier``
        exactly, the goal offline ``Target`` values and statuses refer to (spec §7.1)."""
        counter = self.counter(counter_id)
        if not name or not identifier:
            raise ApiError("invalid_parameter", "a goal needs a name and an identifier", "goal")
        with self._lock, self.store.transaction() as conn:
            return self._new_goal(conn, counter, name, identifier, JS_GOAL)

    def goals(self, counter_id: int) -> list[Goal]:
        self.counter(counter_id)
        return self._goals(self.store.conn, counter_id)

    # -- visits -----------------------------------------------------------------------------
    def visit_table(self, counter_id: int) -> VisitTable:
        table = self._visits.get(counter_id)
        if table is None:
            rows = self.store.query(
                "SELECT record_json FROM visits WHERE counter_id = ? ORDER BY visit_id",
                (counter_id,),
            )
            visits = [from_jsonable(Visit, json.loads(r[0])) for r in rows]
            table = VisitTable().with_visits(visits)
            self._visits[counter_id] = table
        return table

    def load_visits(self, counter_id: int, visits: Sequence[Visit]) -> int:
        """Add visits in bulk; re-loading an identical visit is a no-op, a different one a 409."""
        with self._lock:
            self.counter(counter_id)
            seen: dict[int, Visit] = {}
            for visit in visits:
                if visit.visit_id in seen and seen[visit.visit_id] != visit:
                    raise ApiError(
                        "conflict", f"visit {visit.visit_id} appears twice with different data"
                    )
                seen[visit.visit_id] = visit
            table = self.visit_table(counter_id)
            ids = list(seen)
            known = {int(v) for v, present in zip(ids, table.has(ids), strict=True) if present}
            if known:
                stored = self.visits(counter_id, sorted(known))
                for visit in stored:
                    if to_jsonable(seen[visit.visit_id]) != to_jsonable(visit):
                        raise ApiError(
                            "conflict",
                            f"visit {visit.visit_id} is already loaded with different data",
                        )
            fresh = [v for v in seen.values() if v.visit_id not in known]
            with self.store.transaction() as conn:
                conn.executemany(
                    "INSERT INTO visits (counter_id, visit_id, client_id, start_time, "
                    "traffic_source, source_detail, utm_source, utm_medium, utm_campaign, "
                    "utm_term, utm_content, yclid, record_json) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            counter_id,
                            v.visit_id,
                            str(v.client_id),
                            to_ts(v.start_time),
                            v.traffic_source,
                            v.source_detail,
                            v.utm_source,
                            v.utm_medium,
                            v.utm_campaign,
                            v.utm_term,
                            v.utm_content,
                            None if v.yclid is None else str(v.yclid),
                            json.dumps(to_jsonable(v)),
                        )
                        for v in fresh
                    ],
                )
            self._visits[counter_id] = table.with_visits(fresh)
            return len(fresh)

    def visits(self, counter_id: int, visit_ids: Iterable[int] | None = None) -> list[Visit]:
        if visit_ids is None:
            rows = self.store.query(
                "SELECT record_json FROM visits WHERE counter_id = ? ORDER BY visit_id",
                (counter_id,),
            )
        else:
            wanted = sorted(set(visit_ids))
            rows = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += self.store.query(
                    f"SELECT record_json FROM visits WHERE counter_id = ? "
                    f"AND visit_id IN ({marks}) ORDER BY visit_id",
                    (counter_id, *chunk),
                )
        return [from_jsonable(Visit, json.loads(r[0])) for r in rows]

    def visits_of_client(self, counter_id: int, client_id: int) -> list[Visit]:
        """Every visit of one ClientID, oldest first (what the inspector shows for a visitor)."""
        self.counter(counter_id)
        rows = self.store.query(
            "SELECT record_json FROM visits WHERE counter_id = ? AND client_id = ? "
            "ORDER BY start_time, visit_id",
            (counter_id, str(client_id)),
        )
        return [from_jsonable(Visit, json.loads(r[0])) for r in rows]

    # -- CRM uploads ------------------------------------------------------------------------
    def _options(self, counter: CounterConfig, **extra: Any) -> formats.FormatOptions:
        return formats.FormatOptions(
            time_zone=counter.time_zone,
            end_of_day=counter.rules.end_of_day,
            now=self.now(),
            **extra,
        )

    def _csv_options(
        self,
        counter: CounterConfig,
        delimiter_type: str | None,
        columns_mapping: str | Mapping[str, str] | None = None,
    ) -> formats.FormatOptions:
        try:
            delimiter = formats.delimiter_from_type(delimiter_type or "COMMA")
        except ValueError as exc:
            raise ApiError("invalid_parameter", str(exc), "delimiter_type") from None
        mapping: Mapping[str, str] | None
        if isinstance(columns_mapping, str) and columns_mapping:
            try:
                mapping = formats.parse_columns_mapping(columns_mapping)
            except ValueError as exc:
                raise ApiError("invalid_parameter", str(exc), "columns_mapping") from None
        else:
            mapping = columns_mapping or None  # type: ignore[assignment]
        return self._options(
            counter, delimiter=delimiter, columns_mapping=dict(mapping) if mapping else None
        )

    def upload_simple_orders(
        self,
        counter_id: int,
        source: Source,
        merge_mode: str | MergeMode | None,
        delimiter_type: str | None = None,
    ) -> Uploading:
        """``POST data/simple_orders`` (spec §4.1)."""
        return self._upload(
            counter_id,
            UploadKind.SIMPLE_ORDERS,
            "CSV",
            merge_mode,
            lambda counter: formats.parse_csv(
                UploadKind.SIMPLE_ORDERS,
                _readable(source),
                self._csv_options(counter, delimiter_type),
            ),
        )

    def upload_orders_csv(
        self,
        counter_id: int,
        source: Source,
        merge_mode: str | MergeMode | None,
        columns_mapping: str | Mapping[str, str] | None = None,
        delimiter_type: str | None = None,
    ) -> Uploading:
        """``POST data/orders/csv`` (spec §4.2)."""
        return self._upload_csv(
            counter_id, UploadKind.ORDERS, source, merge_mode, columns_mapping, delimiter_type
        )

    def upload_orders_json(
        self, counter_id: int, body: Any, merge_mode: str | MergeMode | None
    ) -> Uploading:
        """``POST data/orders/json`` (spec §4.3)."""
        return self._upload_json(counter_id, UploadKind.ORDERS, body, merge_mode)

    def upload_contacts_csv(
        self,
        counter_id: int,
        source: Source,
        merge_mode: str | MergeMode | None,
        columns_mapping: str | Mapping[str, str] | None = None,
        delimiter_type: str | None = None,
    ) -> Uploading:
        """``POST data/contacts/csv`` (spec §4.4)."""
        return self._upload_csv(
            counter_id, UploadKind.CONTACTS, source, merge_mode, columns_mapping, delimiter_type
        )

    def upload_contacts_json(
        self, counter_id: int, body: Any, merge_mode: str | MergeMode | None
    ) -> Uploading:
        """``POST data/contacts/json`` (spec §4.5)."""
        return self._upload_json(counter_id, UploadKind.CONTACTS, body, merge_mode)

    def _upload_csv(
        self,
        counter_id: int,
        kind: UploadKind,
        source: Source,
        merge_mode: str | MergeMode | None,
        columns_mapping: str | Mapping[str, str] | None,
        delimiter_type: str | None,
    ) -> Uploading:
        return self._upload(
            counter_id,
            kind,
            "CSV",
            merge_mode,
            lambda counter: formats.parse_csv(
                kind, _readable(source), self._csv_options(counter, delimiter_type, columns_mapping)
            ),
        )

    def _upload_json(
        self, counter_id: int, kind: UploadKind, body: Any, merge_mode: str | MergeMode | None
    ) -> Uploading:
        return self._upload(
            counter_id,
            kind,
            "JSON",
            merge_mode,
            lambda counter: formats.parse_json(kind, body, self._options(counter)),
        )

    def _upload(
        self,
        counter_id: int,
        kind: UploadKind,
        fmt: str,
        merge_mode: str | MergeMode | None,
        parse: Callable[[CounterConfig], Any],
    ) -> Uploading:
        """The shape of every CRM data route: check merge_mode, parse, validate, accept."""
        mode = parse_merge_mode(merge_mode)
        counter = self.counter(counter_id)
        return self._accept_parsed(counter, kind, fmt, mode, parse(counter))

    def _accept_parsed(
        self, counter: CounterConfig, kind: UploadKind, fmt: str, mode: MergeMode, result: Any
    ) -> Uploading:
        return self._accept_crm(
            counter, kind, fmt, mode, result.records, result.lines, result.errors
        )

    def upload_records(
        self,
        counter_id: int,
        kind: UploadKind,
        records: Sequence[Contact | Order | SimpleOrder],
        merge_mode: str | MergeMode | None,
        uploading_format: str = "JSON",
    ) -> Uploading:
        """Upload already-built records (contacts, orders or simple orders) without a file.

        The same checks and processing as the file routes apply after parsing; lines are the
        records' 1-based positions.
        """
        if kind not in (UploadKind.CONTACTS, UploadKind.ORDERS, UploadKind.SIMPLE_ORDERS):
            raise ApiError("invalid_parameter", f"{kind} cannot be uploaded as CRM records")
        mode = parse_merge_mode(merge_mode)
        counter = self.counter(counter_id)
        lines = list(range(1, len(records) + 1))
        return self._accept_crm(counter, kind, uploading_format, mode, records, lines, [])

    def _accept_crm(
        self,
        counter: CounterConfig,
        kind: UploadKind,
        fmt: str,
        mode: MergeMode,
        records: Sequence[Any],
        lines: Sequence[int],
        parse_errors: Sequence[RowError],
    ) -> Uploading:
        errors: list[RowError] = list(parse_errors)
        rows = [Row(line, record) for line, record in zip(lines, records, strict=True)]
        if kind is not UploadKind.CONTACTS and counter.rules.unknown_status.value == "reject":
            mapping = load_mapping(self.store.conn, counter.counter_id)
            for line, status in unknown_statuses(rows, mapping, counter.js_goal_identifiers):
                errors.append(
                    RowError(
                        line,
                        "order_status",
                        f"status {status!r} is not PAID, IN_PROGRESS, CANCELLED, SPAM, a mapped "
                        "status (schema/order_statuses) or a JS goal identifier of the counter",
                        code="unknown_status",
                    )
                )
        if not rows and not errors:
            errors.append(RowError(0, None, "the upload holds no rows", code="empty"))
        errors.sort(key=lambda e: (e.line, e.column or ""))
        if errors:
            if counter.rules.validation_failure is ValidationFailure.STATUS_FAILED:
                return self._record_failed(counter, kind, fmt, len(rows) + len(errors))
            raise ApiError.invalid_uploading(errors)
        entity = "SYSTEM"
        payload = {"kind": kind.value, "mode": mode.value}
        return self._accept(
            counter,
            CRM,
            kind.value,
            payload,
            lambda: [[r.line, to_jsonable(r.record)] for r in rows],
            rows,
            lambda uid, now: Uploading(
                uploading_id=uid,
                datetime=now,
                api_validation_status="PASSED",
                elements_count=len(rows),
                entity_type=entity,
                uploading_format=fmt,
            ),
        )

    def _record_failed(
        self, counter: CounterConfig, kind: UploadKind, fmt: str, count: int
    ) -> Uploading:
        with self._lock, self.store.transaction() as conn:
            uid = str(self.store.next_value("crm_uploading"))
            meta = Uploading(uid, self.now(), "FAILED", count, "SYSTEM", fmt)
            conn.execute(
                "INSERT INTO uploadings (counter_id, uploading_id, family, kind, received_at, "
                "process_at, processed_at, meta_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    counter.counter_id,
                    uid,
                    CRM,
                    kind.value,
                    to_ts(self.now()),
                    to_ts(self.now()),
                    to_ts(self.now()),
                    json.dumps(to_jsonable(meta)),
                ),
            )
        return meta

    def _accept(
        self,
        counter: CounterConfig,
        family: str,
        kind: str,
        payload: dict,
        rows_json: Callable[[], list],
        rows: Any,
        make_meta: Any,
    ) -> Any:
        """Record an uploading; process it now when no delay applies, in the same transaction.

        Only an upload that waits for its processing time stores its rows (``rows_json``);
        one processed at once goes straight from the parser to the engine.
        """
        with self._lock:
            now = self.now()
            process_at = to_ts(now) + counter.rules.processing_delay_seconds
            with self.store.transaction() as conn:
                uid = str(
                    self.store.next_value(f"{'crm' if family == CRM else 'offline'}_uploading")
                )
                meta = make_meta(uid, now)
                due = process_at <= to_ts(now)
                conn.execute(
                    "INSERT INTO uploadings (counter_id, uploading_id, family, kind, received_at, "
                    "process_at, meta_json, payload_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        counter.counter_id,
                        uid,
                        family,
                        kind,
                        to_ts(now),
                        process_at,
                        json.dumps(to_jsonable(meta)),
                        None if due else json.dumps({**payload, "rows": rows_json()}),
                    ),
                )
                if due:
                    self._process(conn, counter, family, kind, uid, payload, rows)
            return self._meta(counter.counter_id, family, uid) if family != CRM else meta

    def process_due(self) -> int:
        """Process every upload whose processing time has come; returns how many."""
        with self._lock:
            now = to_ts(self.now())
            due = self.store.query(
                "SELECT counter_id, uploading_id, family, kind, payload_json FROM uploadings "
                "WHERE processed_at IS NULL AND process_at <= ? ORDER BY process_at, rowid",
                (now,),
            )
            for row in due:
                counter = self.counter(row["counter_id"])
                payload = json.loads(row["payload_json"])
                with self.store.transaction() as conn:
                    self._process(
                        conn,
                        counter,
                        row["family"],
                        row["kind"],
                        row["uploading_id"],
                        payload,
                        None,
                    )
            return len(due)

    def _process(
        self,
        conn: Any,
        counter: CounterConfig,
        family: str,
        kind: str,
        uid: str,
        payload: dict,
        rows: Any,
    ) -> None:
        if rows is None:
            record_type = RECORD_TYPE_BY_KIND[UploadKind(payload["kind"])]
            rows = [Row(line, from_jsonable(record_type, data)) for line, data in payload["rows"]]
        p = Processing(
            counter=counter,
            conn=conn,
            visits=self.visit_table(counter.counter_id),
            now=self.now(),
            uploading_id=uid,
            mapping=load_mapping(conn, counter.counter_id),
            mode=MergeMode(payload.get("mode", "SAVE")),
        )
        if family == CRM:
            self._ensure_crm_goals(conn, counter)
            p.counter = self._counter_in(conn, counter)
            if kind == UploadKind.CONTACTS.value:
                apply_contacts(p, rows, p.mode)
            else:
                apply_orders(
                    p, SIMPLE_ORDERS if kind == UploadKind.SIMPLE_ORDERS.value else "orders", rows
                )
            status = None
        else:
            status = self._process_offline(conn, p, family, payload, rows)
        p.flush()
        conn.execute(
            "UPDATE uploadings SET processed_at = ?, payload_json = NULL, meta_json = "
            "CASE WHEN ? IS NULL THEN meta_json ELSE json_set(meta_json, '$.status', ?, "
            "'$.linked_quantity', ?) END WHERE counter_id = ? AND family = ? AND uploading_id = ?",
            (
                to_ts(self.now()),
                status and status[0],
                status and status[0],
                status and status[1],
                counter.counter_id,
                family,
                uid,
            ),
        )

    def _counter_in(self, conn: Any, counter: CounterConfig) -> CounterConfig:
        return replace(counter, goals=tuple(self._goals(conn, counter.counter_id)))

    def _ensure_crm_goals(self, conn: Any, counter: CounterConfig) -> None:
        """The first successful CRM upload creates the CRM goals on the counter (spec §2.8)."""
        present = {g.name for g in self._goals(conn, counter.counter_id) if g.type == CRM_GOAL}
        for goal in crm_goals_of(counter.rules):
            if goal.value not in present:
                self._new_goal(conn, counter, goal.value, None, CRM_GOAL)

    # -- status mapping, attributes, products ------------------------------------------------
    def map_order_statuses(self, counter_id: int, body: Any) -> None:
        """``POST schema/order_statuses`` (spec §4.6): an upsert by status id."""
        self.counter(counter_id)
        statuses, errors = formats.parse_status_mapping(body)
        if errors:
            raise ApiError.invalid_uploading(errors)
        with self._lock, self.store.transaction() as conn:
            save_mapping(conn, counter_id, statuses)

    def order_statuses(self, counter_id: int) -> list[OrderStatus]:
        self.counter(counter_id)
        return list(load_mapping(self.store.conn, counter_id).values())

    def create_attributes(self, counter_id: int, entity_type: str | None, body: Any) -> None:
        """``POST schema/attributes`` (spec §4.7)."""
        self.counter(counter_id)
        entity = _entity_type(entity_type)
        attributes = _list_of_objects(body, "attributes")
        for i, attribute in enumerate(attributes, start=1):
            name = attribute.get("name")
            if not isinstance(name, str) or not schema.is_valid_name(name):
                raise ApiError(
                    "invalid_parameter",
                    f"attributes[{i}].name {name!r} must match ^[\\w-:]+$ (1..255)",
                    f"attributes[{i}].name",
                )
            if not isinstance(attribute.get("multivalued"), bool):
                raise ApiError(
                    "invalid_parameter",
                    f"attributes[{i}].multivalued must be true or false",
                    f"attributes[{i}].multivalued",
                )
            if name in schema.system_attribute_names(entity):
                raise ApiError(
                    "invalid_parameter",
                    f"{name!r} is a system attribute of {entity}",
                    f"attributes[{i}].name",
                )
        with self._lock, self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO attributes (counter_id, entity_type, name, record_json) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(counter_id, entity_type, name) "
                "DO UPDATE SET record_json = excluded.record_json",
                [(counter_id, entity, a["name"], json.dumps(a)) for a in attributes],
            )

    def attributes(
        self, counter_id: int, entity_type: str | None
    ) -> dict[str, list[dict[str, Any]]]:
        self.counter(counter_id)
        entity = _entity_type(entity_type)
        custom = [
            json.loads(r[0])
            for r in self.store.query(
                "SELECT record_json FROM attributes WHERE counter_id = ? AND entity_type = ? "
                "ORDER BY rowid",
                (counter_id, entity),
            )
        ]
        system = [
            {"name": name, "type_name": type_name, "multivalued": multi, "type_group": "PREDEFINED"}
            for name, type_name, multi in schema.SYSTEM_ATTRIBUTES[entity]
        ]
        return {"system_attributes": system, "custom_attributes": custom}

    def create_products(self, counter_id: int, body: Any) -> None:
        """``POST schema/products`` (spec §4.8)."""
        self.counter(counter_id)
        if not isinstance(body, dict):
            raise ApiError("invalid_json", "the body must be a JSON object")
        _list_of_objects(body, "attributes", required=True, maximum=160_000)
        items = _list_of_objects(body, "items", required=False, maximum=160_000)
        for i, item in enumerate(items, start=1):
            name = item.get("name")
            if not isinstance(name, str) or not schema.is_valid_name(name):
                raise ApiError(
                    "invalid_parameter",
                    f"items[{i}].name {name!r} must match ^[\\w-:]+$ (1..255)",
                    f"items[{i}].name",
                )
        with self._lock, self.store.transaction() as conn:
            conn.executemany(
                "INSERT INTO products (counter_id, name, record_json) VALUES (?, ?, ?) "
                "ON CONFLICT(counter_id, name) DO UPDATE SET record_json = excluded.record_json",
                [(counter_id, item["name"], json.dumps(item)) for item in items],
            )

    def last_uploadings(
        self, counter_id: int, limit: int = 10, datetime_offset: datetime | None = None
    ) -> list[Uploading]:
        """``GET last_uploadings`` (spec §4.10): newest first, strictly before the offset."""
        self.counter(counter_id)
        if not 1 <= limit <= 1000:
            raise ApiError("invalid_parameter", "limit must be between 1 and 1000", "limit")
        bound = to_ts(datetime_offset) if datetime_offset else None
        rows = self.store.query(
            "SELECT meta_json FROM uploadings WHERE counter_id = ? AND family = ? "
            + ("AND received_at < ? " if bound is not None else "")
            + "ORDER BY received_at DESC, rowid DESC LIMIT ?",
            (counter_id, CRM, *([bound] if bound is not None else []), limit),
        )
        return [from_jsonable(Uploading, json.loads(r[0])) for r in rows]

    # -- offline conversions and calls -------------------------------------------------------
    def upload_offline_conversions(
        self,
        counter_id: int,
        source: Source,
        comment: str | None = None,
        type: str | None = None,
        client_id_type_param: str | None = None,
    ) -> OfflineUploading:
        """``POST offline_conversions/upload`` (spec §7.3)."""
        counter = self.counter(counter_id)
        upload_type = (type or "BASIC").upper()
        if upload_type not in OFFLINE_TYPES:
            raise ApiError(
                "invalid_parameter",
                f"type {type!r} is not one of {', '.join(OFFLINE_TYPES)}",
                "type",
            )
        _check_comment(comment)
        result = formats.parse_csv(
            UploadKind.OFFLINE_CONVERSIONS, _readable(source), self._options(counter)
        )
        return self._accept_offline(
            counter, OFFLINE, result, comment, upload_type, client_id_type_param
        )

    def upload_calls(
        self,
        counter_id: int,
        source: Source,
        comment: str | None = None,
        new_goal_name: str | None = None,
        client_id_type_param: str | None = None,
    ) -> OfflineUploading:
        """``POST offline_conversions/upload_calls`` (spec §7.7)."""
        counter = self.counter(counter_id)
        _check_comment(comment)
        result = formats.parse_csv(UploadKind.CALLS, _readable(source), self._options(counter))
        return self._accept_offline(
            counter, CALLS, result, comment, "CALLS", client_id_type_param, new_goal_name
        )

    def _accept_offline(
        self,
        counter: CounterConfig,
        family: str,
        result: Any,
        comment: str | None,
        upload_type: str,
        id_type_param: str | None,
        new_goal_name: str | None = None,
    ) -> OfflineUploading:
        structural = [e for e in result.errors if e.line <= 1]
        if structural or not result.records:
            raise ApiError.invalid_uploading(
                structural or result.errors or [RowError(0, None, "the file holds no rows")]
            )
        target = new_goal_name or DEFAULT_CALL_GOAL
        conversions = [
            to_conversion(line, record, record.target if family == OFFLINE else target)
            for line, record in zip(result.lines, result.records, strict=True)
        ]
        kind = UploadKind.OFFLINE_CONVERSIONS if family == OFFLINE else UploadKind.CALLS
        static = sum(1 for c in conversions if c.static)

        def make_meta(uid: str, now: datetime) -> OfflineUploading:
            return OfflineUploading(
                id=int(uid),
                create_time=now,
                source_quantity=result.rows,
                line_quantity=len(conversions),
                comment=comment,
                type=upload_type,
                client_id_type=(id_type_param or client_id_type(conversions)).upper(),
                status=OfflineUploadingStatus.UPLOADED,
                static_calls_quantity=static if family == CALLS else None,
                dynamic_calls_quantity=len(conversions) - static if family == CALLS else None,
            )

        payload = {"kind": kind.value, "target": target}
        return self._accept(
            counter,
            family,
            kind.value,
            payload,
            lambda: [
                [line, to_jsonable(record)]
                for line, record in zip(result.lines, result.records, strict=True)
            ],
            conversions,
            make_meta,
        )

    def _process_offline(
        self, conn: Any, p: Processing, family: str, payload: dict, rows: Any
    ) -> tuple[str, int]:
        if rows is None:
            record_type = RECORD_TYPE_BY_KIND[UploadKind(payload["kind"])]
            rows = [
                to_conversion(
                    line, from_jsonable(record_type, data), data.get("target") or payload["target"]
                )
                for line, data in payload["rows"]
            ]
        conversions: list[Conversion] = rows
        goals: dict[str, Goal | None] = {}
        for target in {c.target for c in conversions}:
            if family == CALLS:
                goal = p.counter.goal_by_name(target, CALL_GOAL) or self._new_goal(
                    conn, p.counter, target, None, CALL_GOAL
                )
            else:
                goal = p.counter.goal_by_identifier(target)
            goals[target] = goal
        linked = apply_conversions(p, conversions, goals)
        status = (
            OfflineUploadingStatus.PROCESSED if linked else OfflineUploadingStatus.LINKAGE_FAILURE
        )
        return status.value, linked

    def _meta(self, counter_id: int, family: str, uid: str) -> Any:
        row = self.store.query_one(
            "SELECT * FROM uploadings WHERE counter_id = ? AND uploading_id = ? AND family = ?",
            (counter_id, uid, family),
        )
        if row is None:
            raise ApiError("not_found", f"uploading {uid} does not exist", "id")
        if family == CRM:
            return from_jsonable(Uploading, json.loads(row["meta_json"]))
        meta = from_jsonable(OfflineUploading, json.loads(row["meta_json"]))
        if row["processed_at"] is None:
            meta = replace(
                meta,
                status=_walking_status(row["received_at"], row["process_at"], to_ts(self.now())),
            )
        return meta

    def offline_uploadings(
        self, counter_id: int, limit: int = 10_000, offset: int = 0, calls: bool = False
    ) -> list[OfflineUploading]:
        """``GET offline_conversions/uploadings`` (and ``calls_uploadings``), oldest first."""
        self.counter(counter_id)
        family = CALLS if calls else OFFLINE
        rows = self.store.query(
            "SELECT uploading_id FROM uploadings WHERE counter_id = ? AND family = ? "
            "ORDER BY received_at, rowid LIMIT ? OFFSET ?",
            (counter_id, family, limit, offset),
        )
        return [self._meta(counter_id, family, r[0]) for r in rows]

    def offline_uploading(
        self, counter_id: int, uploading_id: int, calls: bool = False
    ) -> OfflineUploading:
        self.counter(counter_id)
        return self._meta(counter_id, CALLS if calls else OFFLINE, str(uploading_id))

    def offline_rows(self, counter_id: int, uploading_id: int) -> list[dict[str, Any]]:
        """Each row of an offline uploading with its linked visit or the reason it has none."""
        self.counter(counter_id)
        meta = self.store.query_one(
            "SELECT family FROM uploadings WHERE counter_id = ? AND uploading_id = ? "
            "AND family IN (?, ?)",
            (counter_id, str(uploading_id), OFFLINE, CALLS),
        )
        if meta is None:
            raise ApiError(
                "not_found", f"offline uploading {uploading_id} does not exist", "uploading_id"
            )
        rows = self.store.query(
            "SELECT line, record_json, visit_id, code, reason FROM offline_rows "
            "WHERE counter_id = ? AND uploading_id = ? ORDER BY line",
            (counter_id, str(uploading_id)),
        )
        return [
            {
                "line": r["line"],
                "row": json.loads(r["record_json"]),
                "visit_id": r["visit_id"],
                "code": r["code"],
                "reason": r["reason"],
            }
            for r in rows
        ]

    def set_extended_threshold(self, counter_id: int, enabled: bool, calls: bool = False) -> None:
        """Legacy ``POST``/``DELETE offline_conversions/[calls_]extended_threshold`` (spec §7.6).

        The old API switched on the "extended period" of conversion accounting. The current
        docs have no such switch and always allow the 21-day window (rule
        ``offline_visit_age_limit_days``), so the flag is remembered and reported, and linking
        keeps that window either way.
        """
        self.counter(counter_id)
        self.store.set_setting(
            _threshold_key(counter_id, calls), self.now().isoformat() if enabled else None
        )

    def visit_join_threshold(self, counter_id: int, calls: bool = False) -> dict[str, Any]:
        """Legacy ``GET offline_conversions/[calls_]visit_join_threshold`` (spec §7.6).

        The earliest visit start a conversion processed now can still link to, and whether the
        legacy extended period is switched on (with the moment it was).
        """
        counter = self.counter(counter_id)
        since = self.store.get_setting(_threshold_key(counter_id, calls))
        return {
            "date": self.now() - timedelta(days=counter.rules.offline_visit_age_limit_days),
            "extended_threshold": since is not None,
            "enabled_at": None if since is None else datetime.fromisoformat(since),
        }

    # -- inspection -------------------------------------------------------------------------
    def decisions(self, counter_id: int, subject_type: str, key: str) -> list[dict[str, Any]]:
        tz = self.counter(counter_id).tz
        rows = self.store.query(
            "SELECT at, code, reason, detail_json, uploading_id FROM decisions "
            "WHERE counter_id = ? AND subject_type = ? AND subject_key = ? ORDER BY seq",
            (counter_id, subject_type, key),
        )
        return [
            {
                "at": from_ts(r["at"], tz).isoformat(),
                "code": r["code"],
                "detail": r["reason"],
                "data": json.loads(r["detail_json"]),
                "uploading_id": r["uploading_id"],
            }
            for r in rows
        ]

    def goal_reaches(
        self, counter_id: int, subject_type: str | None = None, key: str | None = None
    ) -> list[dict[str, Any]]:
        """Every goal reach, in the order it happened (optionally of one subject)."""
        counter = self.counter(counter_id)
        goals = {g.id: g for g in counter.goals}
        sql = "SELECT * FROM goal_reaches WHERE counter_id = ?"
        params: list[Any] = [counter_id]
        if subject_type is not None:
            sql += " AND subject_type = ? AND subject_key = ?"
            params += [subject_type, key]
        rows = self.store.query(sql + " ORDER BY seq", tuple(params))
        return [
            {
                "goal": goals[r["goal_id"]].name if r["goal_id"] in goals else str(r["goal_id"]),
                "goal_id": r["goal_id"],
                "identifier": goals[r["goal_id"]].identifier if r["goal_id"] in goals else None,
                "visit_id": r["visit_id"],
                "revenue": r["revenue"],
                "currency": r["currency"],
                "at": from_ts(r["at"], counter.tz).isoformat(),
                "subject_type": r["subject_type"],
                "subject_key": r["subject_key"],
            }
            for r in rows
        ]

    def order(self, counter_id: int, order_id: str) -> OrderView:
        """The order's current fields, link, decisions and goal reaches."""
        self.counter(counter_id)
        row = self.store.query_one(
            "SELECT record_json, status_type, linked_visit_id, linked_by FROM orders "
            "WHERE counter_id = ? AND order_key = ?",
            (counter_id, order_id),
        )
        decisions = self.decisions(counter_id, ORDER, order_id)
        if row is None and not decisions:
            raise ApiError(
                "not_found", f"order {order_id!r} is unknown on counter {counter_id}", "order_id"
            )
        return OrderView(
            order=json.loads(row["record_json"]) if row else {},
            status_type=row["status_type"] if row else None,
            linked_visit_id=row["linked_visit_id"] if row else None,
            linked_by=row["linked_by"] if row else None,
            decisions=decisions,
            goal_reaches=self.goal_reaches(counter_id, ORDER, order_id),
        )

    def orders_summary(self, counter_id: int) -> list[dict[str, Any]]:
        """Every order in one list: status, amounts, link and the codes of its decisions.

        What a scorer or a dashboard needs without one request per order.
        """
        self.counter(counter_id)
        codes: dict[str, list[str]] = {}
        for key, code in self.store.query(
            "SELECT subject_key, code FROM decisions WHERE counter_id = ? AND subject_type = ? "
            "ORDER BY seq",
            (counter_id, ORDER),
        ):
            codes.setdefault(key, []).append(code)
        rows = self.store.query(
            "SELECT order_key, kind, customer_key, create_time, status_id, status_type, revenue, "
            "cost, linked_visit_id, linked_by FROM orders WHERE counter_id = ? ORDER BY order_key",
            (counter_id,),
        )
        return [
            {
                "order_id": r["order_key"],
                "kind": r["kind"],
                "customer": r["customer_key"],
                "create_time": r["create_time"],
                "status": r["status_id"],
                "status_type": r["status_type"],
                "revenue": r["revenue"],
                "cost": r["cost"],
                "linked_visit_id": r["linked_visit_id"],
                "linked_by": r["linked_by"],
                "decisions": codes.get(r["order_key"], []),
            }
            for r in rows
        ]

    def order_ids(self, counter_id: int) -> list[str]:
        self.counter(counter_id)
        return [
            r[0]
            for r in self.store.query(
                "SELECT order_key FROM orders WHERE counter_id = ? ORDER BY 1", (counter_id,)
            )
        ]

    # -- reports ----------------------------------------------------------------------------
    def order_sources(
        self,
        counter_id: int,
        attribution: str | reports.Attribution = reports.Attribution.LAST_SIGNIFICANT,
        dimension: str = "TrafficSource",
        date1: date | None = None,
        date2: date | None = None,
    ) -> list[reports.SourceRow]:
        """The "Order sources from CRM" report (see :mod:`emulator.reports`)."""
        counter = self.counter(counter_id)
        model = _attribution(attribution)
        if dimension not in reports.DIMENSIONS:
            raise ApiError("invalid_parameter", f"unknown dimension {dimension!r}", "dimensions")
        return reports.order_sources(
            self.store, counter_id, counter.tz, model, dimension, date1, date2
        )

    def goal_report(
        self,
        counter_id: int,
        attribution: str | reports.Attribution = reports.Attribution.LAST_SIGNIFICANT,
        dimension: str = "TrafficSource",
    ) -> dict[int, dict[str | None, tuple[int, Decimal]]]:
        """Goal reaches and revenue per goal id and attributed source."""
        self.counter(counter_id)
        return reports.goal_reports(self.store, counter_id, _attribution(attribution), dimension)

    def report(
        self,
        counter_id: int,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        attribution: str | reports.Attribution = reports.Attribution.LAST_SIGNIFICANT,
        date1: str | date | None = None,
        date2: str | date | None = None,
    ) -> reports.Report:
        """A Reporting API query (``GET /stat/v1/data``) over one counter.

        Names are the API's (``ym:s:visits``, ``ym:s:cdpOrders*``, ``ym:s:goal<ID>reaches``,
        ``ym:s:goal<ID>revenue``; ``ym:s:date``, ``ym:s:<attribution>TrafficSource`` …); dates
        take ``today``, ``yesterday``, ``NdaysAgo`` or ``YYYY-MM-DD`` in the counter's zone and
        default to the API's last seven days (https://yandex.ru/dev/metrika/en/stat/).
        """
        counter = self.counter(counter_id)
        model = _attribution(attribution)
        if not metrics:
            raise ApiError("missing_parameter", "metrics is required", "metrics")
        for name, values, most in (
            ("metrics", metrics, reports.MAX_METRICS),
            ("dimensions", dimensions, reports.MAX_DIMENSIONS),
        ):
            if len(values) > most:
                raise ApiError("invalid_parameter", f"at most {most} {name} per query", name)
        today = self.now().astimezone(counter.tz).date()
        try:
            parsed = [reports.parse_dimension(name, model) for name in dimensions]
            for name in metrics:
                reports.metric(name)
        except ValueError as exc:
            raise ApiError("invalid_parameter", str(exc), "metrics/dimensions") from None
        first = _report_date("date1", date1 or "6daysAgo", today)
        last = _report_date("date2", date2 or "today", today)
        if first > last:
            raise ApiError("invalid_parameter", "date1 is after date2", "date1")
        return reports.report(self.store, counter_id, counter.tz, metrics, parsed, first, last)

    def attribute_types(self, custom: bool = False) -> list[dict[str, Any]]:
        """``GET schema/types`` (system attribute types) or ``schema/predefined_types`` (those
        a custom attribute may take). The docs show neither body (spec §4.9); these are the
        ``type_name`` values of spec §4.7 and of the system attributes."""
        names = (
            PREDEFINED_TYPES
            if custom
            else sorted({t for attrs in schema.SYSTEM_ATTRIBUTES.values() for _, t, _ in attrs})
        )
        return [
            {"name": name, "type_group": "SYSTEM_LIST" if name == "product" else "PREDEFINED"}
            for name in names
        ]

    def users_and_customers(self, counter_id: int) -> list[dict[str, Any]]:
        self.counter(counter_id)
        return reports.users_and_customers(self.store, counter_id)

    def close(self) -> None:
        self.store.close()


def _attribution(value: str | reports.Attribution) -> reports.Attribution:
    try:
        return reports.Attribution(value)
    except ValueError:
        allowed = ", ".join(a.value for a in reports.Attribution)
        raise ApiError(
            "invalid_parameter", f"attribution {value!r} is not one of {allowed}", "attribution"
        ) from None


def _report_date(name: str, value: str | date, today: date) -> date:
    if isinstance(value, date):
        return value
    try:
        return reports.resolve_date(value, today)
    except ValueError:
        raise ApiError("invalid_parameter", f"{name} {value!r} is not a date", name) from None


def _threshold_key(counter_id: int, calls: bool) -> str:
    return f"extended_threshold.{CALLS if calls else OFFLINE}.{counter_id}"


def _walking_status(received: int, process_at: int, now: int) -> OfflineUploadingStatus:
    """PREPARED → UPLOADED → EXPORTED → MATCHED while the processing delay runs (spec §7.3)."""
    steps = (
        OfflineUploadingStatus.PREPARED,
        OfflineUploadingStatus.UPLOADED,
        OfflineUploadingStatus.EXPORTED,
        OfflineUploadingStatus.MATCHED,
    )
    span = max(process_at - received, 1)
    position = min(int((now - received) * len(steps) / span), len(steps) - 1)
    return steps[max(position, 0)]


def _readable(source: Source) -> str | Path | BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _check_comment(comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise ApiError(
            "invalid_parameter", f"comment is longer than {MAX_COMMENT} characters", "comment"
        )


def _entity_type(value: str | None) -> str:
    """Ambiguity A5: the OpenAPI pages use upper case, the RU prose lower case; both accepted."""
    if not value:
        raise ApiError(
            "missing_parameter",
            "entity_type is required: " + ", ".join(ENTITY_TYPES),
            "entity_type",
        )
    entity = value.upper()
    if entity not in ENTITY_TYPES:
        raise ApiError(
            "invalid_parameter",
            f"entity_type {value!r} is not one of {', '.join(ENTITY_TYPES)}",
            "entity_type",
        )
    return entity


def _list_of_objects(
    body: Any, key: str, required: bool = True, maximum: int | None = None
) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "the body must be a JSON object")
    value = body.get(key)
    if value is None:
        if required:
            raise ApiError("invalid_parameter", f"{key!r} is required", key)
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ApiError("invalid_parameter", f"{key!r} must be a list of objects", key)
    if maximum is not None and len(value) > maximum:
        raise ApiError("invalid_parameter", f"{key!r} holds more than {maximum} entries", key)
    return value
