"""Long-running commands hand freed memory back to the system instead of keeping it.

An upload is applied in batches whose arrays are allocated and freed again and again. Two
allocators would otherwise keep what was freed: Arrow's (its default pool caches pages for
reuse) and glibc's (after the first large ``free`` it raises its mmap threshold up to 32 MiB,
so later arrays of a few MiB come from a heap that rarely shrinks). The server's peak memory
then follows the upload's size instead of one batch's.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow as pa

MMAP_THRESHOLD_BYTES = 4 << 20
"""Blocks this large or larger get their own mapping, returned to the system on ``free``."""
_M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number (malloc.h); setting it also stops its rise."""


def lean_memory() -> None:
    """Use jemalloc without decay for Arrow (when this pyarrow build has it) and a fixed mmap
    threshold for glibc's malloc (when the C library is glibc)."""
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:  # a pyarrow built without jemalloc: its default pool stays
        pass
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
