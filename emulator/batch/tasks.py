"""The stages of a batch run in order, and one task: a stage on one partition, measured.

A task returns only a few figures (its wall and CPU time, the bytes it shuffled, the peak
memory of the process that ran it); the data moves through files
(:mod:`emulator.batch.exchange`). CPU time tells the work apart from waiting on a busy machine.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Callable
from typing import Any

from emulator.batch.plan import Plan
from emulator.batch.replay import replay
from emulator.batch.stages import fetch, visitors, wants

STAGES: dict[str, Callable[[Plan, int], int]] = {
    "wants": wants,
    "visitors": visitors,
    "fetch": fetch,
    "replay": replay,
}


def run_task(stage: str, plan: Plan, part: int) -> dict[str, Any]:
    """Run ``stage`` on partition ``part``; what it cost, where."""
    started, cpu = time.perf_counter(), time.process_time()
    shuffled = STAGES[stage](plan, part)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "stage": stage,
        "part": part,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "bytes_shuffled": shuffled,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "peak_rss": usage.ru_maxrss * 1024,
    }
