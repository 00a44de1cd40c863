"""What a reader hands to validation: raw cells of consecutive records and their lines."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from emulator.domain import RowError


@dataclass
class RawBatch:
    """Raw cells of consecutive records of one segment.

    ``columns`` are string arrays in file column order (null = empty cell), ``lines`` the
    line on which each record starts. ``errors`` are problems found while reading (rows
    that could not be split into cells are not in ``columns``), ``rows`` counts every
    record seen, good or bad. ``bad`` marks records already known to be invalid (JSON values
    of the wrong type). ``fatal`` means reading stopped here.
    """

    columns: list[pa.Array]
    lines: np.ndarray
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    fatal: bool = False
    bad: np.ndarray | None = None
