"""Attribution models: which of a visitor's visits gets the credit for something on a visit.

The Reporting API's ``attribution`` parameter (https://yandex.ru/dev/metrika/ru/stat/attribution):
- ``lastsign`` (last significant source, the default): the visit itself, unless it is a direct
  visit, an internal transition or a saved page — then the visitor's latest earlier visit from
  a significant source (the visit itself when there is none);
- ``last``: the visit itself;
- ``first``: the visitor's first visit;
- ``last_yandex_direct_click``: the visitor's latest Yandex Direct click at or before the visit,
  else the last significant source.

Computed for every visit at once: visits are ordered by (visitor, start, id) and each model is
a forward fill within each visitor's run, so a report costs a sort and a few passes, whatever
the number of visits per visitor.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.engine.arrays import numbers, present

INSIGNIFICANT_SOURCES = ("direct", "internal", "saved")
YANDEX_DIRECT = "yandex direct"


class Attribution(StrEnum):
    LAST_SIGNIFICANT = "lastsign"
    LAST = "last"
    FIRST = "first"
    LAST_YANDEX_DIRECT_CLICK = "last_yandex_direct_click"


DEFAULT_MODEL = Attribution.LAST_SIGNIFICANT


def _latest_flagged(flag: np.ndarray, run_start: np.ndarray) -> np.ndarray:
    """Per position (in visitor order), the latest flagged position at or before it within the
    same visitor's run, or -1."""
    marks = np.where(flag, np.arange(len(flag)), -1)
    latest = np.maximum.accumulate(marks) if len(marks) else marks
    return np.where(latest >= run_start, latest, -1)


def attributed(visits: pa.Table, model: Attribution, order: np.ndarray | None = None) -> np.ndarray:
    """For each visit (row of ``visits``), the row of the visit that gets its credit.

    ``order`` is the rows in (visitor, start, visit id) order when the caller has it.
    """
    n = len(visits)
    rows = np.arange(n)
    if model is Attribution.LAST or not n:
        return rows
    clients = numbers(visits.column("client_id")).astype(np.uint64)
    if order is None:
        starts = numbers(visits.column("start_time"))
        ids = numbers(visits.column("visit_id"))
        order = np.lexsort((ids, starts, clients))
    sorted_clients = clients[order]
    new_run = np.r_[True, sorted_clients[1:] != sorted_clients[:-1]]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    if model is Attribution.FIRST:
        best = run_start
    else:
        source = visits.column("traffic_source")
        significant = ~np.asarray(
            pc.fill_null(pc.is_in(source, pa.array(INSIGNIFICANT_SOURCES)), False)
        )[order]
        last_significant = _latest_flagged(significant, run_start)
        positions = np.arange(n)
        best = np.where(
            significant, positions, np.where(last_significant >= 0, last_significant, positions)
        )
        if model is Attribution.LAST_YANDEX_DIRECT_CLICK:
            detail = pc.utf8_lower(pc.fill_null(visits.column("source_detail"), ""))
            click = present(visits.column("yclid")) | (
                np.asarray(pc.equal(pc.fill_null(source, ""), "ad"))
                & np.asarray(pc.equal(detail, YANDEX_DIRECT))
            )
            last_click = _latest_flagged(click[order], run_start)
            best = np.where(last_click >= 0, last_click, best)
    result = np.empty(n, np.int64)
    result[order] = order[best]
    return result
