"""The linking rule as the engine calls it: per query, and best per group of queries.

Rule (issue "The reference attribution engine", item 5; spec §5.2 and §7.1,
https://yandex.ru/support/metrica/ru/data/offline-conversion-data): an order or
an offline conversion links to the visit of the same identity key whose start
time is the latest one at or before the reference time ``t`` (the order's
creation time, the conversion's ``DateTime``) and at or after ``not_before``
(processing time − ``visit_age_limit_days``). Equal start times go to the larger
visit row, so the answer never depends on load order. An order with several keys
(several ClientIDs, phones or e-mails) links to the latest qualifying visit over
all of them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.matching.index import KEY_TIME_INT, VisitIndex, as_columns
from emulator.matching.kernels import DEFAULT_KERNEL, get_kernel
from emulator.matching.sorting import unique_inverse

_SIGN = np.uint64(1 << 63)


class GroupLinks(NamedTuple):
    """Best link per group; three parallel arrays, one entry per distinct group.

    ``groups``: the distinct group ids, ascending. ``rows``: the linked visit's row,
    or ``-1``. ``query``: the position (in the arrays passed in) of the query or
    candidate that won, or ``-1``.
    """

    groups: NDArray[np.int64]
    rows: NDArray[np.int64]
    query: NDArray[np.int64]


def query_arrays(
    keys: ArrayLike, times: ArrayLike, not_before: ArrayLike
) -> tuple[NDArray[np.uint64], NDArray[np.int64], NDArray[np.int64]]:
    """Coerce the three query columns to ``uint64``/``int64``/``int64`` of one length."""
    k, t, b = as_columns("keys, times and not_before", (keys, times, not_before), KEY_TIME_INT)
    return k, t, b


def locate(
    index: VisitIndex,
    keys: ArrayLike,
    times: ArrayLike,
    not_before: ArrayLike,
    *,
    kernel: str = DEFAULT_KERNEL,
) -> NDArray[np.int64]:
    """Per query, the position in ``index`` of its linked visit, or ``-1``.

    ``index.rows[p]`` and ``index.times[p]`` then give the visit; use this when the
    start time of the linked visit is needed too (e.g. to combine indexes).
    """
    return get_kernel(kernel)(index, *query_arrays(keys, times, not_before))


def _visits_at(
    index: VisitIndex, positions: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start times and rows of the visits at ``positions``; row ``-1`` where there is none."""
    if len(index) == 0:
        none = np.full(positions.size, -1, dtype=np.int64)
        return none, none
    at = np.maximum(positions, 0)
    linked = positions >= 0
    return index.times.take(at), np.where(linked, index.rows.take(at), -1)


def link_latest(
    index: VisitIndex,
    keys: ArrayLike,
    times: ArrayLike,
    not_before: ArrayLike,
    *,
    kernel: str = DEFAULT_KERNEL,
) -> NDArray[np.int64]:
    """Per query, the row of the visit it links to, or ``-1``. ``O(q log n)``.

    ``keys`` (``uint64``), ``times`` and ``not_before`` (``int64`` epoch seconds)
    are parallel arrays, one entry per query.
    """
    positions = locate(index, keys, times, not_before, kernel=kernel)
    return _visits_at(index, positions)[1]


def pick_latest(group_ids: ArrayLike, times: ArrayLike, rows: ArrayLike) -> GroupLinks:
    """Per group, the candidate visit with the latest start time.

    Candidates are parallel arrays (group, visit start time, visit row); a row of
    ``-1`` is "no visit" and never wins. Equal times go to the larger row, and a
    visit reached by several candidates of one group to the first of them. Use it
    to combine the links found in several indexes (ClientIDs, phones, e-mails):
    concatenate their candidates and pick once.
    """
    g, t, r = as_columns("group_ids, times and rows", (group_ids, times, rows), (np.int64,) * 3)
    # Flipping the sign bit maps int64 onto uint64 in the same order.
    unique, slot = unique_inverse(g.view(np.uint64) ^ _SIGN)
    groups = (unique ^ _SIGN).view(np.int64)
    candidate = np.flatnonzero(r >= 0)
    # Narrow the candidates level by level: latest time, then largest row, then
    # the first candidate. Each level is one unbuffered max/min per group.
    for values, start, reduce in (
        (t, np.iinfo(np.int64).min, np.maximum),
        (r, -1, np.maximum),
    ):
        best = np.full(groups.size, start, dtype=np.int64)
        reduce.at(best, slot[candidate], values[candidate])
        candidate = candidate[values[candidate] == best[slot[candidate]]]
    query = np.full(groups.size, g.size, dtype=np.int64)
    np.minimum.at(query, slot[candidate], candidate)
    query[query == g.size] = -1
    return GroupLinks(groups, np.where(query >= 0, r.take(np.maximum(query, 0)), -1), query)


def link_groups(
    index: VisitIndex,
    group_ids: ArrayLike,
    keys: ArrayLike,
    times: ArrayLike,
    not_before: ArrayLike,
    *,
    kernel: str = DEFAULT_KERNEL,
) -> GroupLinks:
    """Best link per group of queries (e.g. one order with several ClientIDs).

    ``group_ids`` says which order each query belongs to; the other columns are as
    in :func:`link_latest`. ``GroupLinks.query`` says which query (hence which key)
    won.
    """
    positions = locate(index, keys, times, not_before, kernel=kernel)
    visit_times, visit_rows = _visits_at(index, positions)
    return pick_latest(group_ids, visit_times, visit_rows)
