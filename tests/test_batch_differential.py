"""The batch engine gives the engine's answers (issue 13, "the same answers everywhere").

Each world is simulated once as a timeline and once as a Parquet world (the same seed gives
the same world). The timeline is replayed into the in-process engine through its HTTP API;
``crmemu batch --engine local`` and ``--engine dask`` read the Parquet world; a real
``crmemu serve`` gets the timeline over loopback. Linked orders, every order's decision codes,
goal reaches (order or offline row, goal, visit, revenue) and offline rows must all be equal,
and the two batch engines must write identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from dask.distributed import LocalCluster

from emulator import Emulator
from emulator.api import inprocess_client
from emulator.batch import layout
from emulator.batch.plan import make_plan
from emulator.batch.replay import RESULTS, read_results
from emulator.batch.run import run_batch
from emulator.batch.world import write_world
from emulator.rules import RuleSet
from emulator.scenario import load_scenario
from emulator.sim import SimulationResult, simulate
from tests.batch_support import Outcome, batched, replayed
from tests.serve_support import serving

ROOT = Path(__file__).resolve().parent.parent
PARTS = 4


@dataclass(frozen=True)
class World:
    name: str
    result: SimulationResult
    rules: RuleSet
    path: Path

    def offline_ids(self, rules: RuleSet | None = None) -> list[int]:
        plan = make_plan(self.path, self.path / "plan", rules)
        return [s.offline_id for s in plan.steps if s.offline_id is not None]

    def engine(self, rules: RuleSet | None = None) -> Outcome:
        """The in-process engine fed the timeline through its HTTP API."""
        rules = rules or self.rules
        with inprocess_client(Emulator()) as client:
            return replayed(self.result, rules, client, self.offline_ids(rules))


def _world(tmp: Path, scenario: str, days: int, visitors: float, seed: int = 2) -> World:
    spec = load_scenario(ROOT / "scenarios" / f"{scenario}.toml")
    settings = spec.settings.with_overrides(days, visitors)
    write_world(settings, seed, tmp / scenario, PARTS, spec.rules)
    return World(scenario, simulate(settings, seed), spec.rules, tmp / scenario)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[str, World]:
    tmp = tmp_path_factory.mktemp("worlds")
    return {
        w.name: w
        for w in (
            _world(tmp, "advanced_matching", 14, 300.0),
            _world(tmp, "call_tracking", 14, 300.0),
            _world(tmp, "eshop_repeat_customers", 15, 250.0),
            _world(tmp, "dental_clinic", 8, 250.0),
        )
    }


@pytest.fixture(scope="module")
def local(worlds, tmp_path_factory) -> dict[str, Path]:
    """``--engine local`` on every world."""
    tmp = tmp_path_factory.mktemp("local")
    for name, world in worlds.items():
        run_batch(world.path, tmp / name, "local")
    return {name: tmp / name for name in worlds}


@pytest.mark.parametrize(
    "name", ["advanced_matching", "call_tracking", "eshop_repeat_customers", "dental_clinic"]
)
def test_local_batch_gives_the_engines_answers(worlds, local, name):
    expected = worlds[name].engine()
    assert batched(local[name]) == expected
    assert any(expected.links.values()), "the world links nothing: it tests nothing"


def test_the_worlds_cover_md5_links_offline_rows_and_refused_uploads(local):
    """The differential tests above mean something only if these paths are taken."""
    by = read_results(local["advanced_matching"], "orders").column("linked_by")
    assert by.drop_null().to_pylist()
    assert all(not b.startswith("ClientID") for b in by.drop_null().to_pylist())  # all MD5
    for name in ("call_tracking", "dental_clinic"):  # calls; offline conversions
        rows = read_results(local[name], "offline_rows")
        reaches = read_results(local[name], "goal_reaches")
        assert "LINKED" in rows.column("code").to_pylist()
        assert "offline_row" in reaches.column("subject_type").to_pylist()
    assert batched(local["eshop_repeat_customers"]).refused


def test_links_cross_partitions(worlds, local):
    """Orders link to visits of other partitions: the shuffle is exercised, not bypassed."""
    world = worlds["call_tracking"]
    crossing = 0
    for part in range(PARTS):
        orders = pq.read_table(local["call_tracking"] / "orders" / f"part-{part:05d}.parquet")
        linked = set(orders.column("linked_visit_id").drop_null().to_pylist())
        for other in range(PARTS):
            visits = layout.read_part(world.path, "visits", other, ["visit_id"])
            found = linked & set(visits.column("visit_id").to_pylist())
            crossing += len(found) if other != part else 0
    assert crossing > 0


def test_changed_rules_give_the_engines_answers_under_them(worlds, tmp_path):
    world = worlds["advanced_matching"]
    rules = world.rules.replace(visit_age_limit_days=3, spam_goal=False)
    run_batch(world.path, tmp_path, "local", rules=rules)
    changed = batched(tmp_path)
    assert changed == world.engine(rules)
    assert changed != world.engine()


def test_dask_writes_the_local_rows_and_a_served_emulator_agrees(worlds, local, tmp_path):
    world = worlds["call_tracking"]
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    try:  # an existing scheduler, as with --scheduler ADDRESS
        report = run_batch(
            world.path, tmp_path / "dask", "dask", scheduler=cluster.scheduler_address
        )
    finally:
        cluster.close()
    assert report.engine == "dask" and report.workers == 2
    for name in RESULTS:
        files = sorted((local["call_tracking"] / name).glob("part-*.parquet"))
        assert len(files) == PARTS
        for path in files:
            other = tmp_path / "dask" / name / path.name
            assert pq.read_table(path).equals(pq.read_table(other)), path
    config = tmp_path / "server.toml"
    config.write_text("[quotas]\nenabled = false\n")
    with (
        serving(tmp_path / "serve.log", "--db", ":memory:", "--config", str(config)) as (url, _),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        served = replayed(world.result, world.rules, client, world.offline_ids())
    assert served == batched(tmp_path / "dask") == world.engine()


def test_the_parquet_world_holds_the_simulated_world(worlds):
    world = worlds["call_tracking"]
    visits = np.concatenate(
        [
            np.asarray(layout.read_part(world.path, "visits", p, ["visit_id"]).column(0))
            for p in range(PARTS)
        ]
    )
    assert np.array_equal(np.sort(visits), np.sort(world.result.visits.columns["visit_id"]))
    for part in range(PARTS):
        table = layout.read_part(world.path, "visits", part, ["client_id"])
        client_ids = np.asarray(table.column(0), np.uint64)
        assert (layout.partitions_of_numbers(client_ids, PARTS) == part).all()
    uploads = pq.read_table(world.path / layout.UPLOADS)
    timeline = world.result.timeline
    assert uploads.column("seq").to_pylist() == [u.seq for u in timeline]
    assert [t.timestamp() for t in uploads.column("sent_at").to_pylist()] == [
        u.sent_at.timestamp() for u in timeline
    ]
    sent = sum(len(u.records) for u in timeline if u.kind in ("orders", "simple_orders"))
    assert sum(len(layout.read_part(world.path, "orders", p)) for p in range(PARTS)) == sent


@pytest.mark.slow
def test_a_month_of_the_default_world_on_a_dask_cluster(tmp_path):
    """Full size: 30 days, 2,000 visits a day, 8 partitions, two worker processes."""
    spec = load_scenario(ROOT / "scenarios" / "sim" / "default.toml")
    write_world(spec.settings, 5, tmp_path / "world", 8, spec.rules)
    world = World("default", simulate(spec.settings, 5), spec.rules, tmp_path / "world")
    run_batch(world.path, tmp_path / "local", "local")
    run_batch(world.path, tmp_path / "dask", "dask", workers=2)
    expected = world.engine()
    assert batched(tmp_path / "local") == batched(tmp_path / "dask") == expected
    assert sum(v is not None for v in expected.links.values()) > 500
