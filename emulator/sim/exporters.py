"""Exporters: the integration jobs a CRM runs, as SimPy processes that snapshot the CRM.

Each job wakes on its schedule, reads what changed in its window and emits :class:`Batch`es of
domain records. Nothing is serialised here: :mod:`emulator.sim.uploads` turns batches into the
exact bodies later, through ``emulator.formats``. A CRM migration (:class:`Migration`) is a process
of its own that makes every CRM-data job re-upload the whole history once and then keep renaming
records the way the new CRM does.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import simpy

from emulator.sim.calendar import HOUR, SimCalendar, next_local_time
from emulator.sim.crm import Crm, DealRecord
from emulator.sim.records import NO_RENAMING, RecordBuilder, Renaming
from emulator.sim.settings import CallTracking, Exporter, Migration

CRM_FORMATS = frozenset({"orders_csv", "orders_json", "simple_orders"})
MAPPED_FORMATS = frozenset({"orders_csv", "orders_json"})


@dataclass(frozen=True)
class Batch:
    """Records one job collected at sim time ``at`` for one upload of ``kind``."""

    at: float
    exporter: str
    kind: str  # status_mapping | contacts | orders | simple_orders | offline_conversions | calls
    records: tuple[Any, ...]
    reason: str  # setup | scheduled | migration


class ExportJob:
    def __init__(
        self,
        name: str,
        spec: Exporter,
        env: simpy.Environment,
        crm: Crm,
        builder: RecordBuilder,
        tracking: CallTracking,
        out: list[Batch],
    ) -> None:
        self.name = name
        self.spec = spec
        self.env = env
        self.crm = crm
        self.builder = builder
        self.tracking = tracking
        self.out = out
        self.renaming = NO_RENAMING
        self._last_run = 0.0
        self._wake: simpy.Event | None = None

    @property
    def calendar(self) -> SimCalendar:
        return self.builder.calendar

    def start(self) -> None:
        if self.spec.status_mapping and self.spec.format in MAPPED_FORMATS:
            statuses = self.builder.pipeline.order_statuses()
            self.out.append(Batch(0.0, self.name, "status_mapping", statuses, "setup"))
        if self.spec.schedule == "realtime":
            self.crm.listeners.append(self._changed)
        self.env.process(self._run())

    def collect(self, since: float, reason: str) -> None:
        """Emit the batches for everything that changed at or after ``since``."""
        now, fmt, builder = self.env.now, self.spec.format, self.builder
        if fmt in ("offline_conversions", "calls"):
            if fmt == "calls":
                number = self.tracking.tracking_number
                rows = (builder.call(lead, number) for lead in self.crm.calls.since(since))
            else:
                target = self.spec.target
                rows = (builder.offline_conversion(d, target) for d in self.crm.paid.since(since))
            self._emit(now, fmt, [row for row in rows if row is not None], reason)
            return
        deals = _unique_deals(self.crm.changes.since(since))
        if fmt == "simple_orders":
            self._emit(
                now,
                "simple_orders",
                [builder.snapshot("simple_order", d, self.renaming) for d in deals],
                reason,
            )
            return
        contacts = {d.contact.uniq_id: d.contact for d in deals}
        ordered = sorted(contacts.values(), key=lambda c: int(c.uniq_id))
        self._emit(
            now,
            "contacts",
            [builder.snapshot("contact", c, self.renaming) for c in ordered],
            reason,
        )
        self._emit(
            now, "orders", [builder.snapshot("order", d, self.renaming) for d in deals], reason
        )

    def _emit(self, at: float, kind: str, records: Sequence[Any], reason: str) -> None:
        if records:
            self.out.append(Batch(at, self.name, kind, tuple(records), reason))

    def _run(self) -> Iterator[simpy.Event]:
        spec, env, cal = self.spec, self.env, self.calendar
        if spec.schedule == "dump":
            at = cal.end if spec.dump_at is None else cal.seconds(spec.dump_at)
            yield env.timeout(max(0.0, at - env.now))
            self.collect(-math.inf, "scheduled")
            return
        window = spec.window_seconds()
        while True:
            if spec.schedule == "realtime":
                self._wake = env.event()
                yield self._wake
                yield env.timeout(spec.latency_minutes * 60.0)
            else:
                yield env.timeout(self._next_run() - env.now)
            since = self._last_run if window is None else env.now - window
            self.collect(since, "scheduled")
            self._last_run = env.now

    def _next_run(self) -> float:
        spec, now = self.spec, self.env.now
        if spec.schedule == "hourly":
            at = now - now % HOUR + spec.at_minute * 60.0
            return at if at > now else at + HOUR
        weekday = spec.weekday if spec.schedule == "weekly" else None
        return next_local_time(self.calendar, now, spec.at_hour, spec.at_minute, weekday)

    def _changed(self, at: float) -> None:
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()


def migrate(
    env: simpy.Environment, calendar: SimCalendar, migration: Migration, jobs: Sequence[ExportJob]
) -> Iterator[simpy.Event]:
    """At the migration time, every CRM-data job re-uploads all history as the new CRM has it."""
    assert migration.at is not None
    at = calendar.seconds(migration.at)
    yield env.timeout(max(0.0, at - env.now))
    renaming = {
        "same_ids": NO_RENAMING,
        "new_dates": Renaming(created_floor=env.now),
        "new_ids": Renaming(id_prefix=migration.id_prefix),
    }[migration.variant]
    for job in jobs:
        if job.spec.format in CRM_FORMATS:
            job.renaming = renaming
            job.collect(-math.inf, "migration")


def _unique_deals(changed: list[DealRecord]) -> list[DealRecord]:
    unique = {id(d): d for d in changed}
    return sorted(unique.values(), key=lambda d: int(d.id))
