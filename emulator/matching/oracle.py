"""Brute-force statement of the linking rule, for tests only.

Written in the most obvious way -- loop over every visit for every query -- so
that it can be read against the rule in :mod:`emulator.matching.link` and
trusted. It takes the raw visits, not a :class:`VisitIndex`, so a bug in the
index build cannot hide a bug in the kernel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Visit = tuple[int, int, int]
"""(key, start time, row)."""


def _best_visit(visits: Sequence[Visit], key: int, t: int, not_before: int) -> tuple[int, int]:
    """(start time, row) of the linked visit; row ``-1`` when none qualifies."""
    qualifying = [(start, row) for k, start, row in visits if k == key and not_before <= start <= t]
    return max(qualifying, default=(0, -1))


def link_bruteforce(
    visits: Iterable[Visit], keys: Sequence[int], times: Sequence[int], not_before: Sequence[int]
) -> list[int]:
    """Per query, the row of its linked visit, or ``-1`` (see ``link_latest``)."""
    visits = list(visits)
    return [
        _best_visit(visits, k, t, b)[1] for k, t, b in zip(keys, times, not_before, strict=True)
    ]


def link_groups_bruteforce(
    visits: Iterable[Visit],
    group_ids: Sequence[int],
    keys: Sequence[int],
    times: Sequence[int],
    not_before: Sequence[int],
) -> dict[int, tuple[int, int]]:
    """Per group: (row of the best linked visit, index of the winning query), ``-1`` if none."""
    visits = list(visits)
    result: dict[int, tuple[int, int]] = {}
    best: dict[int, tuple[int, int, int]] = {}
    for i, (g, k, t, b) in enumerate(zip(group_ids, keys, times, not_before, strict=True)):
        result.setdefault(g, (-1, -1))
        start, row = _best_visit(visits, k, t, b)
        if row == -1:
            continue
        # Latest start, then larger row, then the earliest query.
        if g not in best or (start, row, -i) > best[g]:
            best[g] = (start, row, -i)
            result[g] = (row, i)
    return result
