"""``simulate(settings, seed)``: run the world to its end, then serialise the timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.sim.calendar import SimCalendar
from emulator.sim.crm import Crm, Lead
from emulator.sim.pipelines import PipelineSpec
from emulator.sim.settings import Settings
from emulator.sim.uploads import Upload, build_timeline, counter_config
from emulator.sim.visits import VisitTable
from emulator.sim.world import World, WorldStats


@dataclass(frozen=True)
class SimulationResult:
    """Everything a run produced. ``timeline`` is what an integrator sends; the rest is the
    world behind it (visits, the CRM, the leads with their truth)."""

    settings: Settings
    seed: int
    calendar: SimCalendar
    pipeline: PipelineSpec
    visits: VisitTable
    crm: Crm
    leads: tuple[Lead, ...]
    timeline: tuple[Upload, ...]
    stats: WorldStats
    source_names: tuple[str, ...]

    @property
    def counter(self) -> dict[str, Any]:
        """The counter to create on an emulator before replaying (see :mod:`.replay`)."""
        return counter_config(self.settings)


def simulate(
    settings: Settings, seed: int, on_hour: Callable[[], None] | None = None
) -> SimulationResult:
    """Run the SimPy world for ``settings.simulation.days`` and build the upload timeline.

    ``on_hour`` is called once per simulated hour (a progress bar hooks in there).
    """
    world = World(settings, seed)
    world.run(on_hour)
    return result_of(world, build_timeline(world.batches, world.settings, world.calendar))


def result_of(world: World, timeline: tuple[Upload, ...]) -> SimulationResult:
    """The result of a world that has run, with its serialised timeline."""
    names = tuple(world.traffic.source_names)
    settings = world.settings
    visits = VisitTable(world.traffic.table(), settings.simulation, world.typed, names)
    return SimulationResult(
        settings=settings,
        seed=world.seed,
        calendar=world.calendar,
        pipeline=world.pipeline,
        visits=visits,
        crm=world.crm,
        leads=tuple(world.leads),
        timeline=timeline,
        stats=world.stats,
        source_names=names,
    )
