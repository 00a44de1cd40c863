"""The simulator's full world beside a bare SimPy loop that schedules as many timeouts.

    python benchmarks/sim_vs_bare_simpy.py [--visitors-per-day 100000] [--days 30] [--seed 1]
        [--settings scenarios/sim/default.toml] [--out DIR]

What counts as an *event* (printed with the figures):

- a **visit** drawn by the vectorised traffic model (one per row of visits.csv);
- a **SimPy event** the world's kernel processed: lead and deal process steps, manager requests
  and releases, exporter wake-ups, the hourly traffic ticks.

The bare loop schedules the same total number of ``env.timeout`` events from 1,000 processes and
does nothing else, so the ratio says how the world compares with SimPy's own floor. Phases are
timed separately: the world run, serialising the timeline through ``emulator.formats``, and
(with ``--out``) writing the run's files. Each phase reports wall-clock and CPU seconds; the
ratio uses CPU seconds, because on a shared machine wall time also counts the moments another
process held the core (both sides are single-threaded Python, so CPU time is the fair measure).
Peak RSS is the process's high-water mark after the world and timeline, and after the files.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simpy

from emulator.sim import Settings, load_settings_file, write_run
from emulator.sim.run import result_of
from emulator.sim.uploads import build_timeline
from emulator.sim.world import World


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float

    def line(self, label: str, events: int | None = None) -> str:
        text = f"{label:<32}{self.wall:>8.2f} s wall {self.cpu:>8.2f} s CPU"
        if events is not None:
            text += f"  {events / self.cpu:>11,.0f} ev/CPU-s"
        return text


def timed(fn: Callable[[], Any]) -> tuple[Any, Timing]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def bare_loop(total: int, processes: int = 1000) -> Timing:
    """SimPy processing ``total`` timeouts spread over ``processes`` processes, nothing else."""
    env = simpy.Environment()
    per, extra = divmod(total, processes)

    def ticker(env: simpy.Environment, count: int, step: float):
        for _ in range(count):
            yield env.timeout(step)

    for index in range(processes):
        env.process(ticker(env, per + (index < extra), 1.0 + index / processes))
    return timed(env.run)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors-per-day", type=float, default=100_000.0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settings", type=Path)
    parser.add_argument("--out", type=Path, help="also write the run's files (timed)")
    args = parser.parse_args(argv)
    base = load_settings_file(args.settings) if args.settings else Settings()
    settings = base.with_overrides(args.days, args.visitors_per_day)

    world = World(settings, args.seed)
    _, world_time = timed(world.run)
    timeline, timeline_time = timed(lambda: build_timeline(world.batches, settings, world.calendar))
    peak_mib = _peak_mib()
    visits = world.traffic.next_visit_id - 1
    simpy_events = next(world.env._eid)  # SimPy's event counter: events scheduled so far
    events = visits + simpy_events
    write_time = None
    if args.out is not None:
        result = result_of(world, timeline)
        _, write_time = timed(lambda: write_run(result, args.out))
    # Twice, keeping the faster: that can only make the ratio look worse for the world.
    bare = min(bare_loop(events), bare_loop(events), key=lambda t: t.cpu)
    phases = [world_time, timeline_time, *([write_time] if write_time else [])]
    total = Timing(sum(p.wall for p in phases), sum(p.cpu for p in phases))

    print(f"run: {args.visitors_per_day:,.0f} visitors/day x {args.days} days, seed {args.seed}")
    print(f"events = visits drawn (vectorised) {visits:,} + SimPy events {simpy_events:,}")
    print(
        f"leads / deal moves / uploads: {world.stats.leads:,} / {world.stats.moves:,} / "
        f"{len(timeline):,}"
    )
    print(world_time.line("world run", events))
    print(bare.line("bare SimPy loop, same count", events))
    print(f"{'ratio world / bare (CPU)':<32}{bare.cpu / world_time.cpu:>8.2f}   (goal >= 0.33)")
    print(timeline_time.line("timeline serialisation"))
    if write_time is not None:
        print(write_time.line("writing the run's files"))
    print(total.line("total") + "   (goal < 120 s)")
    print(f"{'peak RSS after world + timeline':<32}{peak_mib:>8.0f} MiB")
    if write_time is not None:
        print(f"{'peak RSS after writing files':<32}{_peak_mib():>8.0f} MiB")
    return 0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
