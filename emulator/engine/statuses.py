"""Status ids of a counter → types and JS goals, for whole columns at once.

The rule itself is :func:`emulator.goals.resolve_status`; a column holds few distinct ids, so
each is resolved once and the answers are spread back over the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

import numpy as np
import pyarrow as pa

from emulator.domain import OrderStatus
from emulator.engine.arrays import combined, group_codes
from emulator.goals import ResolvedStatus, resolve_status


class StatusBook:
    def __init__(self, mapping: Mapping[str, OrderStatus], js_goals: Iterable[str]) -> None:
        self.mapping = dict(mapping)
        self.js_goals = frozenset(js_goals)
        self.resolve = cache(self._resolve)

    def _resolve(self, status_id: str) -> ResolvedStatus | None:
        return resolve_status(status_id, self.mapping, self.js_goals)

    def resolved(self, status_ids: pa.Array) -> tuple[np.ndarray, list[ResolvedStatus | None]]:
        """Per row the index of its status in the returned list of resolutions."""
        codes, unique = group_codes(combined(status_ids).fill_null(""))
        return codes, [self.resolve(s) if s else None for s in unique.to_pylist()]

    def types(self, status_ids: pa.Array) -> pa.Array:
        """The status type of each id (null when the counter does not know it)."""
        codes, resolved = self.resolved(status_ids)
        names = pa.array([r.type.value if r else None for r in resolved], pa.string())
        return names.take(pa.array(codes)) if len(codes) else pa.array([], pa.string())

    def unknown(self, status_ids: pa.Array) -> np.ndarray:
        """Rows whose status the counter does not know."""
        return ~np.asarray(self.types(status_ids).is_valid())
