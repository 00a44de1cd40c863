"""pytest-benchmark timings of the matching kernel at a moderate size.

    python -m pytest benchmarks/bench_matching.py --benchmark-columns=min,median,max,rounds

1M visits of 100k ClientIDs over 180 days, batches of 100k orders with a
21-day lookback (a tenth of the full-size workload of ``link_vs_duckdb.py``,
which also times DuckDB, polars and pandas on the same data).
"""

import numpy as np
import pytest
from link_vs_duckdb import make_workload

from emulator.matching import VisitIndex, available_kernels, link_groups, link_latest

VISITS, ORDERS, CLIENTS = 1_000_000, 100_000, 100_000


@pytest.fixture(scope="module")
def data():
    return make_workload(VISITS, ORDERS, CLIENTS)


@pytest.fixture(scope="module")
def index(data):
    return VisitIndex.build(data["visit_keys"], data["visit_times"], data["visit_rows"])


@pytest.mark.benchmark(group="index")
def test_build(benchmark, data):
    benchmark.pedantic(
        VisitIndex.build,
        (data["visit_keys"], data["visit_times"], data["visit_rows"]),
        rounds=5,
    )


@pytest.mark.benchmark(group="index")
def test_merge_a_load_of_10k_visits(benchmark, data, index):
    rng = np.random.default_rng(2)
    keys = data["visit_keys"][rng.integers(0, VISITS, 10_000)]
    times = data["visit_times"].max() + rng.integers(0, 86_400, 10_000)
    rows = VISITS + np.arange(10_000)
    benchmark.pedantic(index.merged, (keys, times, rows), rounds=10)


@pytest.mark.benchmark(group="link")
@pytest.mark.parametrize("kernel", available_kernels())
def test_link_latest(benchmark, data, index, kernel):
    benchmark(
        link_latest,
        index,
        data["order_keys"],
        data["order_times"],
        data["not_before"],
        kernel=kernel,
    )


@pytest.mark.benchmark(group="link")
def test_link_groups_two_keys_per_order(benchmark, data, index):
    """Every order sends two ClientIDs: 200k queries in 100k groups."""
    keys = np.concatenate([data["order_keys"], np.roll(data["order_keys"], 1)])
    times = np.tile(data["order_times"], 2)
    not_before = np.tile(data["not_before"], 2)
    groups = np.tile(np.arange(ORDERS), 2)
    benchmark(link_groups, index, groups, keys, times, not_before)
