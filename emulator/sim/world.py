"""The SimPy world: an hourly traffic process, a process per lead and per deal, a sales team
(a SimPy resource with working hours) and the exporters.

Time is SimPy's clock in seconds from midnight of the start date in the counter's zone
(:class:`~emulator.sim.calendar.SimCalendar`). All randomness comes from named streams derived
from the one seed, so the same seed and settings replay the same world.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import simpy

from emulator.sim.calendar import DAY, HOUR, SimCalendar, numpy_stream, python_stream
from emulator.sim.channels import lead_delay, make_lead, typed_hashes
from emulator.sim.crm import Crm, DealRecord, Lead
from emulator.sim.exporters import Batch, ExportJob, migrate
from emulator.sim.people import People
from emulator.sim.pipelines import Delay, PipelineSpec
from emulator.sim.records import RecordBuilder
from emulator.sim.settings import CHANNEL_NAMES, Settings
from emulator.sim.traffic import HourOfTraffic, TrafficModel, VisitRef, visit_refs

MAX_STEPS = 40  # a deal that keeps re-booking stops walking after this many moves


@dataclass
class WorldStats:
    """Counts for honest benchmark figures: what the world did besides drawing visits."""

    hours: int = 0
    leads: int = 0
    moves: int = 0


class World:
    def __init__(self, settings: Settings, seed: int) -> None:
        sim = settings.simulation
        self.settings = settings
        self.seed = seed
        self.env = simpy.Environment()
        self.calendar = SimCalendar(sim.start, sim.time_zone, sim.days)
        self.traffic = TrafficModel(sim, self.calendar, numpy_stream(seed, "traffic"))
        self.people = People(seed, sim.locale)
        self.pipeline: PipelineSpec = sim.crm.pipeline_spec()
        paid = {s.id for s in self.pipeline.statuses if s.type == "PAID"}
        self.crm = Crm(sim.crm.first_contact_id, sim.crm.first_order_id, paid)
        self.managers = simpy.Resource(self.env, capacity=max(1, sim.crm.managers))
        self.leads: list[Lead] = []
        self.typed: dict[int, tuple[str, str]] = {}  # visit id -> (email_md5, phone_md5)
        self.stats = WorldStats()
        self.products = self.pipeline.products or self.people.products()
        self._lead_rng = python_stream(seed, "leads")
        self._deal_rng = python_stream(seed, "deals")
        self._channels = dict(sim.channels.items())
        self.builder = RecordBuilder(self.calendar, self.pipeline, sim.crm.currency)
        self.batches: list[Batch] = []
        self.jobs = [
            ExportJob(name, spec, self.env, self.crm, self.builder, sim.call_tracking, self.batches)
            for name, spec in settings.export.exporters.items()
        ]

    def run(self, on_hour: Callable[[], None] | None = None) -> None:
        """Run the world to the end of the last day."""
        for job in self.jobs:
            job.start()
        migration = self.settings.export.migration
        if migration.at is not None:
            self.env.process(migrate(self.env, self.calendar, migration, self.jobs))
        self.env.process(self._traffic(on_hour))
        self.env.run(until=self.calendar.end + 1)

    def _traffic(self, on_hour: Callable[[], None] | None) -> Iterator[simpy.Event]:
        env = self.env
        while env.now < self.calendar.end:
            hour = self.traffic.hour(env.now)
            self._spawn_leads(hour)
            self.stats.hours += 1
            if on_hour is not None:
                on_hour()
            yield env.timeout(HOUR)

    def _spawn_leads(self, hour: HourOfTraffic) -> None:
        visits = visit_refs(hour.columns, hour.lead_rows, self.calendar)
        for visit, channel in zip(visits, hour.lead_channels.tolist(), strict=True):
            self.env.process(self._lead(visit, CHANNEL_NAMES[channel], hour.dynamic_number_share))

    def _lead(self, visit: VisitRef, channel: str, dynamic_share: float) -> Iterator[simpy.Event]:
        env, rng = self.env, self._lead_rng
        spec = self._channels[channel]
        at = visit.start + lead_delay(channel, spec, visit, rng)
        yield env.timeout(max(0.0, at - env.now))
        moment = self.calendar.local(env.now)
        lead = make_lead(
            len(self.leads) + 1,
            env.now,
            channel,
            spec,
            visit,
            self.people.identity(visit.person),
            rng,
            dynamic_share=dynamic_share,
            tracking=self.settings.simulation.call_tracking,
            unix_now=self.calendar.unix(env.now),
            utc_offset_seconds=moment.utcoffset().total_seconds(),  # type: ignore[union-attr]
        )
        self.leads.append(lead)
        self.stats.leads += 1
        hashes = typed_hashes(lead, spec, rng)
        if hashes is not None:
            self.typed[visit.visit_id] = hashes
        self._open_deal(lead)

    def _open_deal(self, lead: Lead) -> None:
        rng, pipeline = self._deal_rng, self.pipeline
        revenue = _money(pipeline.revenue_median * math.exp(rng.gauss(0, pipeline.revenue_sigma)))
        low, high = pipeline.cost_share
        cost = _money(float(revenue) * rng.uniform(low, high))
        count = rng.randint(1, max(1, pipeline.max_products))
        products = tuple(
            sorted({(rng.choice(self.products), rng.randint(1, 3)) for _ in range(count)})
        )
        offline = lead.channel == "offline_shop"
        status = pipeline.paid_status if offline else pipeline.initial
        deal = self.crm.receive(lead, status, revenue, cost, products)
        if offline:
            self._maybe_repeat(deal)
        else:
            self.env.process(self._walk(deal))

    def _walk(self, deal: DealRecord) -> Iterator[simpy.Event]:
        env, rng, crm = self.env, self._deal_rng, self.settings.simulation.crm
        for _ in range(MAX_STEPS):
            move = _pick(self.pipeline.transitions.get(deal.status, ()), rng)
            if move is None:
                break
            yield env.timeout(_delay(move.delay, rng))
            if move.manager:
                opens = self.calendar.next_open(
                    env.now, crm.work_start_hour, crm.work_end_hour, crm.work_days
                )
                if opens > env.now:
                    yield env.timeout(opens - env.now)
                with self.managers.request() as request:
                    yield request
                    yield env.timeout(rng.expovariate(1.0 / (crm.handle_minutes * 60.0)))
            self.crm.set_status(deal, move.to, env.now)
            self.stats.moves += 1
        if deal.paid_at is not None:
            self._maybe_repeat(deal)

    def _maybe_repeat(self, deal: DealRecord) -> None:
        if self._deal_rng.random() < self.pipeline.repeat_rate:
            self.env.process(self._come_back(deal.lead.visit.person))

    def _come_back(self, person: int) -> Iterator[simpy.Event]:
        """A customer returns to buy again (e-shop): a new visit and a cart order."""
        env, rng = self.env, self._deal_rng
        yield env.timeout(rng.expovariate(1.0 / (self.pipeline.repeat_mean_days * DAY)))
        if env.now >= self.calendar.end:
            return
        source = _pick_index(self.traffic.source_shares.tolist(), rng)
        visit = self.traffic.extra_visit(person, env.now, source)
        self.env.process(self._lead(visit, "cart", 1.0))


def _pick(options, rng: random.Random):
    draw = rng.random()
    for option in options:
        draw -= option.p
        if draw < 0:
            return option
    return None


def _pick_index(weights: list[float], rng: random.Random) -> int:
    draw = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        draw -= weight
        if draw < 0:
            return index
    return len(weights) - 1


def _delay(delay: Delay, rng: random.Random) -> float:
    hours = delay.hours
    if delay.dist == "exponential":
        hours = rng.expovariate(1.0 / hours) if hours > 0 else 0.0
    elif delay.dist == "lognormal":
        hours = hours * math.exp(rng.gauss(0.0, delay.sigma))
    return hours * HOUR


def _money(value: float) -> Decimal:
    """Whole roubles, at least 1: CRMs keep prices round."""
    return Decimal(max(1, round(value)))
