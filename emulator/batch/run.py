"""``run_batch``: apply a rule set to a Parquet world, partition by partition, and write results.

The stages (:mod:`emulator.batch.stages`, :mod:`emulator.batch.replay`) run one after another;
inside a stage every partition is an independent task. The run writes ``orders/``,
``goal_reaches/`` and ``offline_rows/`` (see :data:`emulator.batch.replay.RESULTS`) and a
``batch.json`` with what it did and what it cost.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from emulator.batch.executors import DaskExecutor, Executor, LocalExecutor, run_stage
from emulator.batch.layout import MANIFEST
from emulator.batch.plan import make_plan
from emulator.batch.replay import RESULTS
from emulator.batch.tasks import STAGES
from emulator.rules import RuleSet

ENGINES = ("local", "dask")
SUMMARY = "batch.json"


@dataclass(frozen=True)
class BatchReport:
    """What a run did (``counts``) and cost (``stages``, ``workers``)."""

    out: Path
    engine: str
    workers: int
    seconds: float
    stages: dict[str, dict[str, float]]
    peak_rss_by_worker: dict[str, int]
    bytes_shuffled: int
    counts: dict[str, int]
    refused_uploads: list[int]

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "stages": self.stages,
            "peak_rss_by_worker": self.peak_rss_by_worker,
            "bytes_shuffled": self.bytes_shuffled,
            "counts": self.counts,
            "refused_uploads": self.refused_uploads,
        }


def executor_for(
    engine: str, scheduler: str | None = None, workers: int = 2, processes: bool = True
) -> Executor:
    if engine == "local":
        return LocalExecutor()
    if engine == "dask":
        return DaskExecutor(scheduler, workers, processes)
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")


def run_batch(
    world: str | Path,
    out: str | Path,
    engine: str = "local",
    *,
    scheduler: str | None = None,
    workers: int = 2,
    rules: RuleSet | None = None,
    processes: bool = True,
    executor: Executor | None = None,
) -> BatchReport:
    """Apply ``rules`` (default: the world's counter rules) to ``world``; results go to ``out``.

    ``executor`` reuses a running one (a test's cluster); otherwise one is made for ``engine``
    and closed at the end.
    """
    started = time.perf_counter()
    root = Path(out)
    if (root / MANIFEST).exists():
        raise ValueError(f"{root} holds a world; write the results to another directory")
    plan = make_plan(world, root, rules)
    for name in (*RESULTS, Path(plan.exchange).name):
        shutil.rmtree(root / name, ignore_errors=True)
    own = executor is None
    runner = executor or executor_for(engine, scheduler, workers, processes)
    try:
        tasks = {stage: _timed(runner, stage, plan) for stage in STAGES}
    finally:
        if own:
            runner.close()
        shutil.rmtree(plan.exchange, ignore_errors=True)
    report = _report(root, runner, tasks, time.perf_counter() - started, plan.notes["refused"])
    (root / SUMMARY).write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
    return report


def _timed(runner: Executor, stage: str, plan: Any) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    results = run_stage(runner, stage, plan)
    return time.perf_counter() - started, results


def _counts(root: Path) -> dict[str, int]:
    """Rows of each result dataset and the linked orders, a partition file at a time: the
    driver never holds the results, whose size grows with the world."""
    counts = {name: 0 for name in RESULTS} | {"linked_orders": 0}
    for name in RESULTS:
        for path in sorted((root / name).glob("part-*.parquet")):
            counts[name] += pq.ParquetFile(path).metadata.num_rows
            if name == "orders":
                linked = pq.read_table(path, columns=["linked_visit_id"]).column(0)
                counts["linked_orders"] += len(linked) - linked.null_count
    return counts


def _report(
    root: Path,
    runner: Executor,
    tasks: dict[str, tuple[float, list[dict[str, Any]]]],
    seconds: float,
    refused: list[int],
) -> BatchReport:
    peaks: dict[str, int] = defaultdict(int)
    stages = {}
    for stage, (wall, results) in tasks.items():
        for task in results:
            peaks[task["worker"]] = max(peaks[task["worker"]], task["peak_rss"])
        stages[stage] = {
            "seconds": round(wall, 3),
            "task_seconds_max": round(max((t["seconds"] for t in results), default=0.0), 3),
            "cpu_seconds": round(sum(t["cpu_seconds"] for t in results), 3),
            "bytes_shuffled": sum(t["bytes_shuffled"] for t in results),
        }
    return BatchReport(
        out=root,
        engine=runner.name,
        workers=runner.workers,
        seconds=seconds,
        stages=stages,
        peak_rss_by_worker=dict(peaks),
        bytes_shuffled=sum(s["bytes_shuffled"] for s in stages.values()),
        counts=_counts(root),
        refused_uploads=refused,
    )
