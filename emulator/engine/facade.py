"""The reference engine's public, in-process API: one method per operation of the real service.

:class:`Emulator` is what the HTTP adapter calls, what scenarios drive, and what users script
against without HTTP. Its methods check arguments and hand over: the upload lifecycle to
:mod:`.uploads`, reads to :mod:`.reads` and :mod:`.reports`, counters to :mod:`.counters`,
the catalogue to :mod:`.catalog` (through :mod:`.facade_manage`); every SQL statement is in
:mod:`emulator.store`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from emulator.clock import Clock, VirtualClock
from emulator.domain import (
    Contact,
    MergeMode,
    OfflineUploading,
    Order,
    SimpleOrder,
    Uploading,
    UploadKind,
    Visit,
)
from emulator.engine import params, sources
from emulator.engine.accept import CALLS, OFFLINE
from emulator.engine.columns import from_records
from emulator.engine.config import JS_GOAL, CounterConfig, Goal
from emulator.engine.counters import load_counter, new_goal, save_counter
from emulator.engine.facade_manage import DELETED_GOAL, ManageSide
from emulator.engine.facade_reads import ReadSide
from emulator.engine.ledger import ORDER
from emulator.engine.link import contacts_first_key
from emulator.engine.offline import threshold_key
from emulator.engine.reads import OrderView
from emulator.engine.records import Records
from emulator.engine.sources import Source
from emulator.engine.uploads import Uploads
from emulator.engine.visitbook import VisitBook
from emulator.engine.visits import VisitTable
from emulator.engine.work import Books
from emulator.errors import ApiError
from emulator.formats import visits as visit_input
from emulator.store import Store
from emulator.store.tables import CONTACT_ROW, ORDER_ROW


class Emulator(ReadSide, ManageSide):
    """The reference engine over a :class:`~emulator.store.Store` and a clock."""

    def __init__(self, db: str | Path = ":memory:", clock: Clock | None = None) -> None:
        self.store = Store(db)
        saved = self.store.get_setting("clock")
        self.clock = clock or VirtualClock(datetime.fromisoformat(saved) if saved else None)
        self._visits = VisitBook(self.store)
        self._books = Books(
            Records(self.store, "orders", ORDER_ROW, "order_key", counted="customer_key"),
            Records(self.store, "contacts", CONTACT_ROW, "uniq_id"),
        )
        self._uploads = Uploads(self.store, self._visits, self._books)

    # -- clock ------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def set_clock(self, value: datetime) -> datetime:
        """Move the virtual clock to ``value`` and process every upload that became due."""
        if not isinstance(self.clock, VirtualClock):
            raise ApiError("invalid_parameter", "the clock is the wall clock and cannot be set")
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
        except (OverflowError, ValueError, TypeError):
            raise ApiError(
                "invalid_parameter",
                f"advance_seconds must be a number of seconds >= 0 within the calendar: {seconds}",
                "advance_seconds",
            ) from None
        return self.set_clock(target)

    def process_due(self) -> int:
        """Process every upload whose processing time has come; returns how many."""
        return self._uploads.process_due(self.now())

    # -- counters ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every counter, upload and decision (and return the clock to its start)."""
        with self.store.write() as session:
            session.counters.reset()
        self._visits.forget()
        for book in (self._books.orders, self._books.contacts):
            book.forget()
        if isinstance(self.clock, VirtualClock):
            self.clock.set(VirtualClock().now())

    def put_counter(self, config: CounterConfig) -> CounterConfig:
        """Create or replace a counter's setup; its data and its CRM goals are kept."""
        with self.store.write() as session:
            save_counter(session, config)
        return self.counter(config.counter_id)

    def delete_counter(self, counter_id: int) -> None:
        self.counter(counter_id)
        with self.store.write() as session:
            session.counters.delete(counter_id)
            for calls in (False, True):
                session.counters.set_setting(threshold_key(counter_id, calls), None)
            session.counters.set_setting(contacts_first_key(counter_id), None)
        self._visits.forget(counter_id)
        for book in (self._books.orders, self._books.contacts):
            book.forget(counter_id)

    def counter(self, counter_id: int) -> CounterConfig:
        return load_counter(self.store.read(), counter_id)

    def counters(self) -> list[CounterConfig]:
        return [self.counter(i) for i in self.store.read().counters.ids()]

    def token_scopes(self, token: str) -> dict[int, tuple[str, ...]]:
        """The counters ``token`` opens, with its scopes on each (empty when it is unknown)."""
        return self.store.read().counters.token_scopes(token)

    def add_goal(self, counter_id: int, name: str, identifier: str) -> Goal:
        """``POST /management/v1/counter/{id}/goals``: a JS-event goal matching ``identifier``
        exactly, the goal offline ``Target`` values and statuses refer to (spec §7.1)."""
        self.counter(counter_id)
        if not name or not identifier:
            raise ApiError("invalid_parameter", "a goal needs a name and an identifier", "goal")
        with self.store.write() as session:
            return new_goal(session, counter_id, name, identifier, JS_GOAL)

    def goals(self, counter_id: int) -> list[Goal]:
        return [g for g in self.counter(counter_id).goals if g.type != DELETED_GOAL]

    # -- visits -----------------------------------------------------------------------------
    def visit_table(self, counter_id: int) -> VisitTable:
        return self._visits.table(counter_id)

    def warm(self) -> None:
        """Build every counter's visit index now (a restarted server does it in the background)."""
        self._visits.warm(self.store.read().counters.ids())

    def load_visits(
        self, counter_id: int, visits: Sequence[Visit] | pa.Table | Iterable[pa.Table]
    ) -> int:
        """Add visits in bulk; re-loading an identical visit is a no-op, a different one a 409."""
        self.counter(counter_id)
        if isinstance(visits, pa.Table):
            batches: Iterable[pa.Table] = [visits]
        elif isinstance(visits, Sequence) and (not visits or isinstance(visits[0], Visit)):
            batches = [visit_input.from_records(visits)]  # type: ignore[arg-type]
        else:
            batches = visits  # type: ignore[assignment]
        with self.store.write() as session:
            before = self._visits.table(counter_id)
            table = self._visits.add(session, counter_id, batches)
        self._visits.install(counter_id, table)
        return len(table) - len(before)

    def load_visits_csv(self, counter_id: int, stream: IO[bytes]) -> int:
        """Visits from a CSV with a header row, checked and stored batch by batch."""
        return self.load_visits(counter_id, _checked(visit_input.from_csv(stream)))

    def load_visits_json(self, counter_id: int, body: Any) -> int:
        return self.load_visits(counter_id, _checked([visit_input.from_json(body)]))

    # -- CRM uploads ------------------------------------------------------------------------
    def _crm(
        self,
        counter_id: int,
        kind: UploadKind,
        fmt: str,
        mode: Any,
        batches: Any,
        json_key: str | None = None,
    ) -> Uploading:
        merge = params.merge_mode(mode)
        counter = self.counter(counter_id)
        return self._uploads.accept_crm(
            counter, kind, fmt, merge, batches(counter), self.now(), json_key
        )

    def upload_simple_orders(
        self,
        counter_id: int,
        source: Source,
        merge_mode: str | MergeMode | None,
        delimiter_type: str | None = None,
    ) -> Uploading:
        """``POST data/simple_orders`` (spec §4.1)."""
        return self._upload_csv(
            counter_id, UploadKind.SIMPLE_ORDERS, source, merge_mode, None, delimiter_type
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
        self, counter_id, kind, source, merge_mode, columns_mapping, delimiter_type
    ) -> Uploading:  # type: ignore[no-untyped-def]
        def batches(counter: CounterConfig) -> Any:
            fmt = sources.csv_options(counter, self.now(), delimiter_type, columns_mapping)
            return sources.csv_batches(kind, source, fmt)

        return self._crm(counter_id, kind, "CSV", merge_mode, batches)

    def _upload_json(
        self, counter_id: int, kind: UploadKind, body: Any, merge_mode: Any
    ) -> Uploading:
        return self._crm(
            counter_id,
            kind,
            "JSON",
            merge_mode,
            lambda counter: sources.json_batches(kind, body, sources.options(counter, self.now())),
            json_key=kind.value,
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
        built = partial(from_records, kind, records, range(1, len(records) + 1))
        return self._crm_rows(counter_id, kind, uploading_format, merge_mode, built)

    def upload_columns(
        self,
        counter_id: int,
        kind: UploadKind,
        rows: pa.Table,
        merge_mode: str | MergeMode | None,
        uploading_format: str = "JSON",
    ) -> Uploading:
        """Upload CRM rows already in the engine's columns, each with its ``line``, as the
        file readers leave them: a replay that read its uploads once (``crmemu batch``)
        sends them on without rebuilding a record per row."""
        return self._crm_rows(counter_id, kind, uploading_format, merge_mode, lambda: rows)

    def _crm_rows(
        self, counter_id: int, kind: UploadKind, fmt: str, mode: Any, rows: Callable[[], pa.Table]
    ) -> Uploading:
        """A CRM upload with nothing to read; ``rows`` is called once the kind is checked."""
        if kind not in (UploadKind.CONTACTS, UploadKind.ORDERS, UploadKind.SIMPLE_ORDERS):
            raise ApiError("invalid_parameter", f"{kind} cannot be uploaded as CRM records")
        return self._crm(
            counter_id, kind, fmt, mode, lambda _: sources.column_batches(kind, rows())
        )

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
        upload_type = params.offline_type(type)
        params.comment(comment)
        batches = sources.csv_batches(
            UploadKind.OFFLINE_CONVERSIONS, source, sources.options(counter, self.now())
        )
        return self._uploads.accept_offline(
            counter, OFFLINE, batches, comment, upload_type, client_id_type_param, None, self.now()
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
        params.comment(comment)
        batches = sources.csv_batches(
            UploadKind.CALLS, source, sources.options(counter, self.now())
        )
        return self._uploads.accept_offline(
            counter,
            CALLS,
            batches,
            comment,
            "CALLS",
            client_id_type_param,
            new_goal_name or "Calls",
            self.now(),
        )

    def set_extended_threshold(self, counter_id: int, enabled: bool, calls: bool = False) -> None:
        """Legacy ``POST``/``DELETE offline_conversions/[calls_]extended_threshold`` (spec §7.6).

        The old API switched on the "extended period" of conversion accounting. The current
        docs have no such switch and always allow the 21-day window (rule
        ``offline_visit_age_limit_days``), so the flag is remembered and reported, and linking
        keeps that window either way.
        """
        self.counter(counter_id)
        self.store.set_setting(
            threshold_key(counter_id, calls), self.now().isoformat() if enabled else None
        )

    def visit_join_threshold(self, counter_id: int, calls: bool = False) -> dict[str, Any]:
        """Legacy ``GET offline_conversions/[calls_]visit_join_threshold`` (spec §7.6)."""
        counter = self.counter(counter_id)
        since = self.store.get_setting(threshold_key(counter_id, calls))
        return {
            "date": self.now() - timedelta(days=counter.rules.offline_visit_age_limit_days),
            "extended_threshold": since is not None,
            "enabled_at": None if since is None else datetime.fromisoformat(since),
        }

    def close(self) -> None:
        self.store.close()


def _checked(batches: Iterable[tuple[pa.Table, list]]) -> Iterable[pa.Table]:
    """Visit batches, or the first row errors of the load (nothing is loaded then)."""
    errors: list = []
    for table, problems in batches:
        errors += problems
        if errors:
            if len(errors) >= visit_input.MAX_ERRORS:
                break
            continue
        yield table
    if errors:
        raise ApiError.invalid_uploading(errors)


__all__ = ["ORDER", "Emulator", "OrderView"]
