"""Accepting and processing uploads: the lifecycle of :mod:`.accept` over the store.

One writer at a time: uploads are recorded and processed one after another (as the real
service queues them), while reads use their own connections and never wait.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from emulator.dates import to_ts
from emulator.domain import (
    MergeMode,
    OfflineUploading,
    OfflineUploadingStatus,
    RowError,
    Uploading,
    UploadKind,
)
from emulator.engine import accept
from emulator.engine.accept import CALLS, CRM, Parsed, PendingUpload
from emulator.engine.cap import cap_errors, watch_upload
from emulator.engine.catalog import statuses as load_statuses
from emulator.engine.config import CounterConfig, Goal
from emulator.engine.counters import call_goal, ensure_crm_goals, load_counter
from emulator.engine.offline import IDENTIFIER_FIELDS, identifiers
from emulator.engine.process import process_crm, process_offline
from emulator.engine.statuses import StatusBook
from emulator.engine.visitbook import VisitBook
from emulator.engine.work import Books, Work
from emulator.errors import ApiError
from emulator.rules import ClientIdType, CustomerCap, UnknownStatus, ValidationFailure
from emulator.serialize import from_jsonable, to_jsonable
from emulator.store import Store, UploadingRow

DEFAULT_CALL_GOAL = "Calls"


class Uploads:
    def __init__(self, store: Store, visits: VisitBook, books: Books) -> None:
        self.store = store
        self.visits = visits
        self.books = books

    # -- accepting ----------------------------------------------------------------------------
    def accept_crm(
        self,
        counter: CounterConfig,
        kind: UploadKind,
        fmt: str,
        mode: MergeMode,
        batches: Iterable[Parsed],
        now: datetime,
        json_key: str | None = None,
    ) -> Uploading:
        """Validate and record a CRM upload; process it at once when no delay applies.
        ``json_key`` names the array of a JSON body, where errors are located by element."""
        statuses = None
        if kind is not UploadKind.CONTACTS and counter.rules.unknown_status is UnknownStatus.REJECT:
            mapping = load_statuses(self.store.read(), counter.counter_id)
            statuses = StatusBook(mapping, counter.js_goal_identifiers)
        try:
            with self.store.write() as session:
                pending = self._pending(session, counter, CRM, kind, mode, None, now)
                intake = accept.record_parts(session, pending, batches, statuses)
                if not intake.error_count and not intake.valid:
                    intake.errors.append(
                        RowError(0, None, "the upload holds no rows", code="empty")
                    )
                    intake.error_count = 1
                capped = kind is not UploadKind.CONTACTS and (
                    counter.rules.customer_cap is CustomerCap.FAIL_UPLOAD
                )
                watch = None
                if capped and not intake.error_count:
                    limit = counter.rules.orders_per_customer_limit
                    watch = watch_upload(session, self.books.orders, pending, limit)
                    errors = cap_errors(session, self.books.orders, pending, watch, limit)
                    intake.errors += errors
                    intake.error_count += len(errors)
                if intake.error_count:
                    raise _Rejected(intake)
                meta = Uploading(pending.uploading_id, now, "PASSED", intake.valid, "SYSTEM", fmt)
                self._record(session, pending, to_jsonable(meta))
                self._process_if_due(pending, now, watch)
        except _Rejected as rejected:
            if counter.rules.validation_failure is ValidationFailure.STATUS_FAILED:
                count = rejected.intake.valid + rejected.intake.error_count
                return self._record_failed(counter, kind, fmt, now, count)
            raise accept.rejected(rejected.intake, json_key) from None
        return meta

    def _record_failed(
        self, counter: CounterConfig, kind: UploadKind, fmt: str, now: datetime, count: int
    ) -> Uploading:
        """Ambiguity A19, rule ``status_failed``: 200 with ``FAILED`` and nothing stored."""
        with self.store.write() as session:
            pending = self._pending(session, counter, CRM, kind, MergeMode.SAVE, None, now)
            meta = Uploading(pending.uploading_id, now, "FAILED", count, "SYSTEM", fmt)
            self._record(session, pending, to_jsonable(meta), processed=True)
        return meta

    def accept_offline(
        self,
        counter: CounterConfig,
        family: str,
        batches: Iterator[Parsed],
        comment: str | None,
        upload_type: str,
        id_type_param: str | None,
        target: str | None,
        now: datetime,
    ) -> OfflineUploading:
        """Offline conversions and calls: rows with errors are left out; a file-level problem
        or a file without valid rows is refused."""
        kind = UploadKind.CALLS if family == CALLS else UploadKind.OFFLINE_CONVERSIONS
        id_types: Counter[str] = Counter()
        static = 0
        with self.store.write() as session:
            pending = self._pending(session, counter, family, kind, MergeMode.SAVE, target, now)
            errors: list[RowError] = []
            valid = seen = 0
            for part, batch in enumerate(batches):
                structural = [e for e in batch.errors if e.line <= 1]
                if structural:
                    raise ApiError.invalid_uploading(structural)
                errors += batch.errors
                seen += batch.seen
                valid += len(batch.rows)
                if len(batch.rows):
                    which, _ = identifiers(batch.rows)
                    id_types.update(IDENTIFIER_FIELDS[w][1] for w in which.tolist())
                    if family == CALLS:
                        static += int(
                            sum(bool(v) for v in batch.rows.column("static_call").to_pylist())
                        )
                    session.uploadings.add_part(
                        counter.counter_id, family, pending.uploading_id, part, batch.rows
                    )
            if not valid:
                raise ApiError.invalid_uploading(
                    errors or [RowError(0, None, "the file holds no rows")]
                )
            meta = OfflineUploading(
                id=int(pending.uploading_id),
                create_time=now,
                source_quantity=seen,
                line_quantity=valid,
                comment=comment,
                type=upload_type,
                client_id_type=(
                    id_type_param or client_id_type(id_types, counter.rules.client_id_type)
                ).upper(),
                status=OfflineUploadingStatus.UPLOADED,
                static_calls_quantity=static if family == CALLS else None,
                dynamic_calls_quantity=valid - static if family == CALLS else None,
            )
            self._record(session, pending, to_jsonable(meta))
            self._process_if_due(pending, now)
        return self.offline_meta(counter.counter_id, family, pending.uploading_id, now)

    def _pending(
        self,
        session: Any,
        counter: CounterConfig,
        family: str,
        kind: UploadKind,
        mode: MergeMode,
        target: str | None,
        now: datetime,
    ) -> PendingUpload:
        sequence = "crm_uploading" if family == CRM else "offline_uploading"
        uid = str(session.counters.next_values(sequence))
        received = to_ts(now)
        process_at = received + counter.rules.processing_delay_seconds
        return PendingUpload(
            counter.counter_id, family, uid, kind, mode, target, received, process_at
        )

    def _record(
        self, session: Any, pending: PendingUpload, meta: dict, processed: bool = False
    ) -> None:
        session.uploadings.add(
            UploadingRow(
                pending.counter_id,
                pending.family,
                pending.uploading_id,
                pending.kind.value,
                pending.received_at,
                pending.process_at,
                pending.received_at if processed else None,
                meta,
                pending.params(),
            )
        )

    # -- processing ---------------------------------------------------------------------------
    def _process_if_due(
        self, pending: PendingUpload, now: datetime, watch: dict[str, int] | None = None
    ) -> None:
        """Inside the recording transaction: an upload due at once is recorded and applied
        together, all or nothing (``watch``: what validation found for the customer cap)."""
        if pending.process_at <= to_ts(now):
            self.process(pending.counter_id, pending.family, pending.uploading_id, now, watch)

    def process_due(self, now: datetime) -> int:
        """Process every upload whose processing time has come; returns how many."""
        due = self.store.read().uploadings.due(to_ts(now))
        for counter_id, family, uid in due:
            self.process(counter_id, family, uid, now)
        return len(due)

    def process(
        self,
        counter_id: int,
        family: str,
        uid: str,
        now: datetime,
        watch: dict[str, int] | None = None,
    ) -> None:
        """Apply one pending upload. It is processed *at its processing time* (received +
        the counter's delay), however far the clock has moved since: every window is measured
        from that moment, as the real service processes an upload within its delay."""
        with self.store.write() as session:
            row = session.uploadings.get(counter_id, family, uid)
            if row is None or row.processed_at is not None:
                return
            pending = PendingUpload.from_row(row)
            at = min(pending.process_at, to_ts(now))
            counter = load_counter(session, counter_id)
            goals: dict[str, Goal | None] = {}
            if family == CRM:
                counter = ensure_crm_goals(session, counter)
            elif family == CALLS:
                counter, goal = call_goal(session, counter, pending.target or DEFAULT_CALL_GOAL)
                goals[goal.name] = goal
            work = Work(
                session,
                counter,
                at,
                uid,
                load_statuses(session, counter_id),
                self.visits.table(counter_id),
                self.books,
                pending.mode,
            )
            self.store.db.after_commit(work.install)
            meta = dict(row.meta)
            if family == CRM:
                process_crm(work, pending, watch)
            else:
                if family != CALLS:  # offline conversions and yclid conversions
                    targets = {
                        t
                        for part in accept.iter_parts(session, pending)
                        for t in part.column("target").to_pylist()
                    }
                    goals = {t: counter.goal_by_identifier(t) for t in targets}
                linked = process_offline(work, pending, goals)
                status = (
                    OfflineUploadingStatus.PROCESSED
                    if linked
                    else OfflineUploadingStatus.LINKAGE_FAILURE
                )
                meta |= {"status": status.value, "linked_quantity": linked}
            session.uploadings.finish(counter_id, family, uid, at, meta)

    # -- reading ------------------------------------------------------------------------------
    def offline_meta(
        self, counter_id: int, family: str, uid: str, now: datetime
    ) -> OfflineUploading:
        row = self.store.read().uploadings.get(counter_id, family, uid)
        if row is None:
            raise ApiError("not_found", f"uploading {uid} does not exist", "id")
        return offline_uploading(row, now)


def offline_uploading(row: UploadingRow, now: datetime) -> OfflineUploading:
    meta = from_jsonable(OfflineUploading, row.meta)
    if row.processed_at is None:
        meta = replace(meta, status=walking_status(row.received_at, row.process_at, to_ts(now)))
    return meta


def walking_status(received: int, process_at: int, now: int) -> OfflineUploadingStatus:
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


def client_id_type(counts: Counter[str], rule: ClientIdType) -> str:
    """The identifier type an offline uploading reports (ambiguity A14, rule
    ``client_id_type``)."""
    if rule is ClientIdType.PRIORITY:
        return next((t for t in ("CLIENT_ID", "USER_ID", "YCLID") if counts[t]), "CLIENT_ID")
    if not counts:
        return "CLIENT_ID"
    preference = [id_type for _, id_type, _ in IDENTIFIER_FIELDS]
    return max(counts, key=lambda t: (counts[t], -preference.index(t)))


class _Rejected(Exception):
    """Validation failed: the transaction rolls back and the caller answers."""

    def __init__(self, intake: accept.Intake) -> None:
        super().__init__("rejected")
        self.intake = intake
