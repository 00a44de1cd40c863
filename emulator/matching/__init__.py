"""Pure, vectorised linking of orders and offline conversions to visits.

The engine keeps a :class:`VisitIndex` per kind of identity key and calls
:func:`link_latest` (one answer per query) or :func:`link_groups` (one answer per
order that has several keys). :func:`pick_latest` combines the answers from
several indexes, :func:`locate` exposes index positions, and kernels are
swappable by name (:func:`get_kernel`). The brute-force oracle used by the tests
lives in :mod:`emulator.matching.oracle`.
"""

from emulator.matching.index import VisitIndex
from emulator.matching.kernels import (
    DEFAULT_KERNEL,
    KERNELS,
    Kernel,
    KernelUnavailable,
    available_kernels,
    get_kernel,
)
from emulator.matching.link import GroupLinks, link_groups, link_latest, locate, pick_latest

__all__ = [
    "DEFAULT_KERNEL",
    "KERNELS",
    "GroupLinks",
    "Kernel",
    "KernelUnavailable",
    "VisitIndex",
    "available_kernels",
    "get_kernel",
    "link_groups",
    "link_latest",
    "locate",
    "pick_latest",
]
