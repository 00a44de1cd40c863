"""The engine's read side, as a part of :class:`~emulator.engine.facade.Emulator`: orders and
their history, goal reaches, uploadings, offline rows, visits and reports.

Every method reads the committed state through this thread's read connection, so it answers
while an upload is being applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from emulator.domain import OfflineUploading, Uploading, UploadKind, Visit
from emulator.engine import params, periods, reads, reportquery, reports, reportviews
from emulator.engine.accept import CALLS, CRM, OFFLINE
from emulator.engine.config import CounterConfig
from emulator.engine.reads import OrderView
from emulator.engine.uploads import Uploads, offline_uploading
from emulator.engine.visitbook import VisitBook
from emulator.engine.visits import IndexKind, visits_of
from emulator.engine.work import Books
from emulator.engine.yclids import YCLID
from emulator.errors import ApiError
from emulator.serialize import from_jsonable
from emulator.store import Store


class ReadSide:
    """Read-side methods of the emulator (mixed into :class:`Emulator`)."""

    store: Store
    _visits: VisitBook
    _uploads: Uploads
    _books: Books
    now: Callable[[], datetime]
    counter: Callable[[int], CounterConfig]

    def visits(self, counter_id: int, visit_ids: Iterable[int] | None = None) -> list[Visit]:
        table = self._visits.table(counter_id)
        if visit_ids is None:
            return visits_of(table.table)
        wanted = sorted(set(visit_ids))
        ids = np.array(wanted, np.int64)
        held = ids[table.has(ids)]
        return visits_of(table.rows(table.positions(held)))

    def _reader(self) -> reads.Reader:
        return reads.Reader(self.store.read(), self._books)

    def visits_of_client(self, counter_id: int, client_id: int) -> list[Visit]:
        """Every visit of one ClientID, oldest first (what the inspector shows for a visitor)."""
        self.counter(counter_id)
        table = self._visits.table(counter_id)
        index = table.index(IndexKind.CLIENT_ID)
        if index is None:
            return []
        lo, hi = index.slices(np.array([client_id], np.uint64))
        return visits_of(table.rows(table.positions(index.rows[lo[0] : hi[0]])))

    def last_uploadings(
        self, counter_id: int, limit: int = 10, datetime_offset: datetime | None = None
    ) -> list[Uploading]:
        """``GET last_uploadings`` (spec §4.10): newest first, strictly before the offset."""
        self.counter(counter_id)
        if not 1 <= limit <= 1000:
            raise ApiError("invalid_parameter", "limit must be between 1 and 1000", "limit")
        bound = int(datetime_offset.timestamp()) if datetime_offset else None
        rows = self.store.read().uploadings.newest(counter_id, CRM, limit, bound)
        return [from_jsonable(Uploading, r.meta) for r in rows]

    def offline_uploadings(
        self,
        counter_id: int,
        limit: int = 10_000,
        offset: int = 0,
        calls: bool = False,
        upload_type: str | None = None,
    ) -> list[OfflineUploading]:
        """``GET offline_conversions/uploadings`` (and ``calls_uploadings``), oldest first.

        ``upload_type`` (``BASIC``, ``CALLS``, ``CHATS``) lists the uploadings of that ``type``
        whichever route took them (the ``type`` filter of
        https://yandex.com.tr/dev/metrika/en/management/openapi/offline_conversions/findAll_1).
        """
        self.counter(counter_id)
        store = self.store.read().uploadings
        if upload_type is None:
            rows = store.oldest(counter_id, CALLS if calls else OFFLINE, limit, offset)
        else:
            kind = params.offline_type(upload_type)
            rows = store.oldest_of_type(counter_id, (OFFLINE, CALLS), kind, limit, offset)
        return [offline_uploading(r, self.now()) for r in rows]

    def offline_uploading(
        self, counter_id: int, uploading_id: int, calls: bool = False
    ) -> OfflineUploading:
        self.counter(counter_id)
        return self._uploads.offline_meta(
            counter_id, CALLS if calls else OFFLINE, str(uploading_id), self.now()
        )

    def yclid_uploadings(
        self, counter_id: int, limit: int = 10_000, offset: int = 0
    ) -> list[OfflineUploading]:
        """``GET yclid_conversions/uploadings``, oldest first."""
        self.counter(counter_id)
        rows = self.store.read().uploadings.oldest(counter_id, YCLID, limit, offset)
        return [offline_uploading(r, self.now()) for r in rows]

    def yclid_uploading(self, counter_id: int, uploading_id: int) -> OfflineUploading:
        self.counter(counter_id)
        return self._uploads.offline_meta(counter_id, YCLID, str(uploading_id), self.now())

    def offline_rows(self, counter_id: int, uploading_id: int) -> list[dict[str, Any]]:
        """Each row of an offline uploading with its linked visit or the reason it has none."""
        counter = self.counter(counter_id)
        session = self.store.read()
        families = (OFFLINE, CALLS, YCLID)
        family = session.uploadings.family_of(counter_id, str(uploading_id), families)
        if family is None:
            raise ApiError(
                "not_found", f"offline uploading {uploading_id} does not exist", "uploading_id"
            )
        kind = UploadKind.CALLS if family == CALLS else UploadKind.OFFLINE_CONVERSIONS
        return reads.offline_rows(self._reader(), counter, str(uploading_id), kind)

    # -- inspection -------------------------------------------------------------------------
    def decisions(self, counter_id: int, subject_type: str, key: str) -> list[dict[str, Any]]:
        return reads.decisions(self._reader(), self.counter(counter_id), subject_type, key)

    def goal_reaches(
        self, counter_id: int, subject_type: str | None = None, key: str | None = None
    ) -> list[dict[str, Any]]:
        """Every goal reach, in the order it happened (optionally of one subject)."""
        return reads.goal_reaches(self._reader(), self.counter(counter_id), subject_type, key)

    def order(self, counter_id: int, order_id: str) -> OrderView:
        """The order's current fields, link, decisions and goal reaches."""
        view = reads.order_view(self._reader(), self.counter(counter_id), order_id)
        if view is None:
            raise ApiError(
                "not_found", f"order {order_id!r} is unknown on counter {counter_id}", "order_id"
            )
        return view

    def orders_summary(self, counter_id: int) -> list[dict[str, Any]]:
        """Every order in one list: status, amounts, link and the codes of its decisions."""
        self.counter(counter_id)
        return reads.orders_summary(self._reader(), counter_id)

    def order_ids(self, counter_id: int) -> list[str]:
        self.counter(counter_id)
        return reads.order_keys(self._reader(), counter_id)

    def users_and_customers(self, counter_id: int) -> list[dict[str, Any]]:
        self.counter(counter_id)
        return reads.users_and_customers(self._reader(), counter_id)

    # -- reports ----------------------------------------------------------------------------
    def _report_data(self, counter: CounterConfig) -> reports.ReportData:
        reader = self._reader()
        columns = [
            "create_date_time",
            "status_type",
            "revenue",
            "cost",
            "currency",
            "linked_visit_id",
        ]
        table = reads.reach_table(reader, counter.counter_id)
        return reports.ReportData(
            self._visits.table(counter.counter_id),
            reader.orders(counter.counter_id, columns=columns),
            table,
            counter.time_zone,
            counter.rules.default_currency,
        )

    def order_sources(
        self,
        counter_id: int,
        attribution: str | reports.Attribution = reports.Attribution.LAST_SIGNIFICANT,
        dimension: str = "TrafficSource",
        date1: date | None = None,
        date2: date | None = None,
        currency: str | None = None,
    ) -> list[reports.SourceRow]:
        """The "Order sources from CRM" report (see :mod:`emulator.engine.reports`); money
        metrics (``ym:s:cdpOrders<currency>Revenue`` …) in ``currency``, by default the
        counter's default currency."""
        counter = self.counter(counter_id)
        model = params.attribution(attribution)
        if dimension not in reports.DIMENSIONS:
            raise ApiError("invalid_parameter", f"unknown dimension {dimension!r}", "dimensions")
        return reports.order_sources(
            self._report_data(counter),
            model,
            dimension,
            date1,
            date2,
            currency or counter.rules.default_currency,
        )

    def goal_report(
        self,
        counter_id: int,
        attribution: str | reports.Attribution = reports.Attribution.LAST_SIGNIFICANT,
        dimension: str = "TrafficSource",
    ) -> dict[int, dict[str | None, tuple[int, Decimal]]]:
        """Goal reaches and revenue per goal id and attributed source."""
        counter = self.counter(counter_id)
        return reports.goal_reports(
            self._report_data(counter), params.attribution(attribution), dimension
        )

    def _query(self, counter: CounterConfig, *args: Any, **options: Any) -> reportquery.Query:
        today = self.now().astimezone(counter.tz).date()
        return reportquery.query(today, counter.rules.default_currency, *args, **options)

    def report(
        self,
        counter_id: int,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        attribution: str | reports.Attribution = reports.Attribution.LAST_SIGNIFICANT,
        date1: str | date | None = None,
        date2: str | date | None = None,
        filters: reportquery.Filters = None,
        currency: str | None = None,
        group: str = "week",
    ) -> reports.Report:
        """A Reporting API query (``GET /stat/v1/data``) over one counter.

        Names are the API's (``ym:s:visits``, ``ym:s:cdpOrders*``, ``ym:s:goal<ID>reaches``,
        ``ym:s:goal<ID>revenue``; ``ym:s:date``, ``ym:s:<attribution>TrafficSource`` …); dates
        take ``today``, ``yesterday``, ``NdaysAgo`` or ``YYYY-MM-DD`` in the counter's zone and
        default to the API's last seven days; ``filters`` as the API writes them; ``group``
        fills ``ym:s:datePeriod<group>`` (https://yandex.ru/dev/metrika/en/stat/;
        :mod:`emulator.engine.reportquery`).
        """
        counter = self.counter(counter_id)
        q = self._query(
            counter, metrics, dimensions, attribution, date1, date2, filters, currency, group=group
        )
        return reports.report(
            self._report_data(counter),
            q.metrics,
            q.dimensions,
            q.date1,
            q.date2,
            q.segment,
            q.currency,
        )

    def report_bytime(
        self,
        counter_id: int,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        group: str = "week",
        pick: Callable[[reports.Report], Sequence[tuple]] | None = None,
        **options: Any,
    ) -> reportviews.ByTime:
        """``GET /stat/v1/data/bytime``: metrics per ``group`` interval (``all``, ``auto``,
        ``day``, ``week``, ``month``, ``quarter``, ``year``) for the rows ``pick`` chooses
        from the whole-period table (default: every row); ``options`` are :meth:`report`'s
        ``attribution``, ``date1``, ``date2``, ``filters`` and ``currency``."""
        counter = self.counter(counter_id)
        q = self._query(counter, metrics, dimensions, group=group, **options)
        try:
            calendar = periods.effective(group, q.date1, q.date2)
        except ValueError as exc:
            raise ApiError("invalid_parameter", str(exc), "group") from None
        return reportviews.bytime(
            self._report_data(counter),
            q.metrics,
            q.dimensions,
            q.date1,
            q.date2,
            calendar,
            pick or (lambda table: [key for key, _ in table.rows]),
            q.segment,
            q.currency,
        )

    def report_comparison(
        self,
        counter_id: int,
        metrics: Sequence[str],
        dimensions: Sequence[str] = (),
        a: Mapping[str, Any] | None = None,
        b: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> reportviews.Comparison:
        """``GET /stat/v1/data/comparison``: the same table over two segments, each with its
        own ``date1``, ``date2`` and ``filters`` (``a``, ``b``), both within ``options``'
        ``filters``; ``options`` are otherwise :meth:`report`'s."""
        counter = self.counter(counter_id)
        common = options.pop("filters", None)
        windows = []
        for name, segment in (("a", a or {}), ("b", b or {})):
            filters = {"filters": common, f"filters_{name}": segment.get("filters")}
            try:
                q = self._query(
                    counter,
                    metrics,
                    dimensions,
                    date1=segment.get("date1"),
                    date2=segment.get("date2"),
                    filters=filters,
                    **options,
                )
            except ApiError as exc:
                if exc.location not in ("date1", "date2"):
                    raise
                where = f"{exc.location}_{name}"
                message = exc.message.replace(exc.location, where, 1)
                raise ApiError(exc.error_type, message, where) from None
            windows.append((q.date1, q.date2, q.segment))
        return reportviews.comparison(
            self._report_data(counter), q.metrics, q.dimensions, *windows, currency=q.currency
        )
