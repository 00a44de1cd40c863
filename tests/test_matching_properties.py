"""The vectorised linker equals the brute-force oracle (issue 3, acceptance).

Keys and times come from small pools so that generated data is full of
duplicate keys, equal start times, and queries whose ``t`` or ``not_before``
falls exactly on a visit; the pools include keys near ``2**64`` and times at
the int64 extremes, before 1970 and after 2106.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.matching import VisitIndex, available_kernels, link_groups, link_latest
from emulator.matching.oracle import link_bruteforce, link_groups_bruteforce
from emulator.matching.search import segmented_search

I64 = np.iinfo(np.int64)
KEYS = st.sampled_from([0, 1, 2, 3, 2**32, 2**63, 2**64 - 2, 2**64 - 1])
# Ordinary times (a few seconds around one instant) and far-away ones; the far
# ones force the index build onto its dense-rank path.
NEAR = st.integers(-3, 3).map(lambda s: 1_700_000_000 + s)
FAR = st.sampled_from([I64.min, I64.min + 1, -(2**40), -1, 0, 2**32 - 1, 2**32, 2**62, I64.max])
TIMES = st.one_of(NEAR, NEAR, FAR)
ROWS = st.integers(0, 40)

visits = st.lists(st.tuples(KEYS, TIMES, ROWS), max_size=40)
GROUPS = st.one_of(st.integers(-2, 3), st.sampled_from([I64.min, I64.max]))
queries = st.lists(st.tuples(GROUPS, KEYS, TIMES, TIMES), max_size=25)
kernels = pytest.mark.parametrize("kernel", available_kernels())
# A compiled kernel's first call loads or compiles it: no per-example deadline.
no_deadline = settings(deadline=None)


def columns(rows, width):
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


@kernels
@no_deadline
@given(visits=visits, queries=queries)
def test_link_latest_equals_oracle(kernel, visits, queries):
    _, keys, times, not_before = columns(queries, 4)
    index = VisitIndex.build(*columns(visits, 3))
    got = link_latest(index, keys, times, not_before, kernel=kernel)
    assert got.tolist() == link_bruteforce(visits, keys, times, not_before)


@kernels
@no_deadline
@given(visits=visits, queries=queries)
def test_link_groups_equals_oracle(kernel, visits, queries):
    groups, keys, times, not_before = columns(queries, 4)
    index = VisitIndex.build(*columns(visits, 3))
    got = link_groups(index, groups, keys, times, not_before, kernel=kernel)
    as_dict = {g: (r, q) for g, r, q in zip(*(a.tolist() for a in got), strict=True)}
    assert as_dict == link_groups_bruteforce(visits, groups, keys, times, not_before)
    assert got.groups.tolist() == sorted(set(groups))


@given(visits=visits)
def test_build_sorts_by_key_then_time_then_row(visits):
    index = VisitIndex.build(*columns(visits, 3))
    stored = list(zip(index.keys.tolist(), index.times.tolist(), index.rows.tolist(), strict=True))
    assert stored == sorted(visits)
    assert index.unique_keys.tolist() == sorted({k for k, _, _ in visits})
    for j, key in enumerate(index.unique_keys.tolist()):
        assert set(index.keys[index.starts[j] : index.starts[j + 1]].tolist()) == {key}


def assert_same_index(a, b):
    for name in ("keys", "times", "rows", "unique_keys", "starts"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name


@given(loads=st.lists(visits, max_size=4))
def test_merged_equals_build_over_the_concatenation(loads):
    index = VisitIndex.empty()
    for load in loads:
        index = index.merged(*columns(load, 3))
    assert_same_index(index, VisitIndex.build(*columns([v for load in loads for v in load], 3)))


@given(
    values=st.lists(st.integers(-5, 5), max_size=30),
    cuts=st.lists(st.integers(0, 30), min_size=2, max_size=2),
    target=st.integers(-6, 6),
    side=st.sampled_from(["left", "right"]),
)
def test_segmented_search_matches_searchsorted_on_a_slice(values, cuts, target, side):
    values = np.sort(np.array(values, dtype=np.int64))
    lo, hi = sorted(min(c, values.size) for c in cuts)
    got = segmented_search(values, np.array([lo]), np.array([hi]), np.array([target]), side)
    assert got.tolist() == [lo + int(np.searchsorted(values[lo:hi], target, side))]


@kernels
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_larger_random_data_equals_oracle(kernel, seed):
    """Long per-key runs (many search steps) and enough keys for a wide rank."""
    rng = np.random.default_rng(seed)
    n, q = 1500, 150
    pool = rng.integers(0, 2**64, size=60, dtype=np.uint64)
    keys = pool[rng.integers(0, pool.size, n)]
    times = rng.integers(0, 400, n)
    rows = rng.permutation(n)
    qk = np.concatenate(
        [pool[rng.integers(0, pool.size, q - 5)], rng.integers(0, 2**64, 5, np.uint64)]
    )
    qt = rng.integers(-10, 410, q)
    nb = qt - rng.integers(-5, 60, q)
    index = VisitIndex.build(keys[: n // 2], times[: n // 2], rows[: n // 2])
    index = index.merged(keys[n // 2 :], times[n // 2 :], rows[n // 2 :])
    visits = list(zip(keys.tolist(), times.tolist(), rows.tolist(), strict=True))
    expected = link_bruteforce(visits, qk.tolist(), qt.tolist(), nb.tolist())
    assert link_latest(index, qk, qt, nb, kernel=kernel).tolist() == expected
