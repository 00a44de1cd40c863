"""Linking kernels and their registry.

A kernel answers, for each query ``(key, t, not_before)``, the position in the
index of the visit it links to: the visit of that key with the latest start time
``<= t``, ties broken by the larger row, provided that start time is also
``>= not_before``; ``-1`` when there is none. Every kernel must return the same
positions as :func:`locate_numpy` (the property tests compare them with a
brute-force oracle); a faster one can be registered and chosen by name without
touching the callers.

``"numpy"`` is always available and the default. ``"numba"`` is loaded on first
use when numba is installed (``pip install 'crm-metrica-emulator[fast]'``).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from emulator.matching.index import VisitIndex
from emulator.matching.search import segmented_search
from emulator.matching.sorting import by_key

Kernel = Callable[
    [VisitIndex, NDArray[np.uint64], NDArray[np.int64], NDArray[np.int64]], NDArray[np.int64]
]

DEFAULT_KERNEL = "numpy"


def in_key_order(body: Kernel) -> Kernel:
    """A kernel that hands ``body`` its queries ordered by key, and puts the answers back.

    Ordered keys make both the key lookup and the time search walk memory
    forwards: on 10M visits that is several times faster than searching in arrival
    order, for one sort of the batch. ``body`` never sees an empty batch or index.
    """

    @functools.wraps(body)
    def kernel(
        index: VisitIndex,
        keys: NDArray[np.uint64],
        times: NDArray[np.int64],
        not_before: NDArray[np.int64],
    ) -> NDArray[np.int64]:
        found = np.full(keys.size, -1, dtype=np.int64)
        if keys.size and len(index):
            order = by_key(keys)[0]
            found[order] = body(index, keys[order], times[order], not_before[order])
        return found

    return kernel


@in_key_order
def locate_numpy(
    index: VisitIndex,
    keys: NDArray[np.uint64],
    times: NDArray[np.int64],
    not_before: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Positions of the linked visits (``-1``: none); numpy only, ``O(q log n)``."""
    lo, hi = index.slices(keys)
    end = segmented_search(index.times, lo, hi, times, "right")
    last = end - 1
    linked = (end > lo) & (index.times.take(np.maximum(last, 0)) >= not_before)
    return np.where(linked, last, -1)


KERNELS: dict[str, Kernel] = {DEFAULT_KERNEL: locate_numpy}
"""Kernels loaded so far, by name."""

OPTIONAL_KERNELS: dict[str, str] = {"numba": "emulator.matching.numba_kernel"}
"""Kernels whose module is imported on first use; each module defines ``locate``."""


class KernelUnavailable(LookupError):
    """The named kernel is unknown, or its optional dependency is not installed."""


def get_kernel(name: str = DEFAULT_KERNEL) -> Kernel:
    """The kernel called ``name``, importing an optional one on first use."""
    if name in KERNELS:
        return KERNELS[name]
    if name not in OPTIONAL_KERNELS:
        known = sorted({*KERNELS, *OPTIONAL_KERNELS})
        raise KernelUnavailable(f"unknown kernel {name!r}; known: {', '.join(known)}")
    try:
        module = importlib.import_module(OPTIONAL_KERNELS[name])
    except ImportError as error:
        raise KernelUnavailable(f"kernel {name!r} needs an optional dependency: {error}") from error
    KERNELS[name] = module.locate
    return module.locate


def available_kernels() -> list[str]:
    """Names of the kernels that can be loaded here."""
    names = []
    for name in sorted({*KERNELS, *OPTIONAL_KERNELS}):
        try:
            get_kernel(name)
        except KernelUnavailable:
            continue
        names.append(name)
    return names
