"""pytest-benchmark timings of the simulator's parts at a moderate size.

    python -m pytest benchmarks/bench_sim.py --benchmark-columns=min,median,max,rounds

The full-size figure (100,000 visitors a day for 30 days, beside a bare SimPy loop) is printed by
``benchmarks/sim_vs_bare_simpy.py``.
"""

import pytest

from emulator.sim import Settings, simulate
from emulator.sim.calendar import numpy_stream
from emulator.sim.traffic import TrafficModel
from emulator.sim.world import World

SMALL = Settings().with_overrides(days=3, visitors_per_day=20_000.0)


@pytest.mark.benchmark(group="traffic")
def test_one_hour_of_100k_visitors_a_day(benchmark):
    settings = Settings().with_overrides(visitors_per_day=100_000.0)
    world = World(settings, 1)
    model = TrafficModel(settings.simulation, world.calendar, numpy_stream(1, "traffic"))
    for hour in range(24):  # a day of history so that returning visitors have someone to be
        model.hour(hour * 3600.0)
    benchmark(model.hour, 13 * 3600.0)


@pytest.mark.benchmark(group="world")
def test_world_three_days_of_20k_visitors(benchmark):
    benchmark.pedantic(lambda: World(SMALL, 1).run(), rounds=3)


@pytest.mark.benchmark(group="world")
def test_simulate_with_timeline_three_days_of_20k_visitors(benchmark):
    benchmark.pedantic(simulate, (SMALL, 1), rounds=3)
