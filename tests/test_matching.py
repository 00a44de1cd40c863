"""Worked examples of the linking rule, and the contract of the matching API."""

import sys
from datetime import UTC, datetime

import numpy as np
import pytest

import emulator.matching as matching
from emulator.matching import (
    KernelUnavailable,
    VisitIndex,
    available_kernels,
    get_kernel,
    link_groups,
    link_latest,
    locate,
    pick_latest,
)

DAY = 86_400
LIMIT = 21 * DAY  # visit_age_limit_days


def at(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp())


def test_offline_conversion_example_links_to_the_5_march_visit():
    """Visits on 1, 5 and 11 March, purchase on 10 March, file processed on 20 March (§7.1)."""
    client = 1_700_000_000_123_456_789
    index = VisitIndex.build(
        [client] * 3, [at(2025, 3, 1), at(2025, 3, 5), at(2025, 3, 11)], [1, 5, 11]
    )
    processed = at(2025, 3, 20)
    assert link_latest(index, [client], [at(2025, 3, 10)], [processed - LIMIT]).tolist() == [5]


def test_a_visit_exactly_21_days_before_processing_links_one_second_more_does_not():
    processed = at(2025, 6, 1)
    order_time = processed - DAY
    index = VisitIndex.build([7, 8], [processed - LIMIT, processed - LIMIT - 1], [70, 80])
    got = link_latest(index, [7, 8], [order_time, order_time], [processed - LIMIT] * 2)
    assert got.tolist() == [70, -1]


def test_a_visit_starting_at_the_order_time_links_one_second_later_does_not():
    index = VisitIndex.build([7, 8], [1000, 1001], [70, 80])
    assert link_latest(index, [7, 8], [1000, 1000], [0, 0]).tolist() == [70, -1]


def test_the_latest_visit_too_old_means_no_link_even_if_it_is_the_only_candidate():
    index = VisitIndex.build([7, 7], [100, 500], [1, 2])
    assert link_latest(index, [7], [400], [200]).tolist() == [-1]


def test_equal_start_times_go_to_the_larger_row_whatever_the_load_order():
    first = VisitIndex.build([7, 7], [100, 100], [9, 3])
    second = VisitIndex.build([7], [100], [3]).merged([7], [100], [9])
    assert link_latest(first, [7], [100], [0]).tolist() == [9]
    assert link_latest(second, [7], [100], [0]).tolist() == [9]


def test_an_order_with_two_client_ids_links_to_the_latest_visit_of_either_and_says_which():
    index = VisitIndex.build([1, 1, 2], [100, 300, 200], [10, 30, 20])
    # Order 5 has ClientIDs 1 and 2 (queries 0 and 1); order 6 has only the unknown ClientID 3.
    got = link_groups(index, [5, 5, 6], [1, 2, 3], [250, 250, 250], [0, 0, 0])
    assert got.groups.tolist() == [5, 6]
    assert got.rows.tolist() == [20, -1]
    assert got.query.tolist() == [1, -1]


def test_extreme_keys_and_times_before_1970_and_after_2106():
    top = 2**64 - 1
    after_2106 = 2**32 + 10 * DAY
    index = VisitIndex.build([top, top, 0], [-5 * DAY, after_2106, -1], [1, 2, 3])
    got = link_latest(index, [top, top, 0], [-DAY, after_2106 + 1, 0], [-6 * DAY, after_2106, -1])
    assert got.tolist() == [1, 2, 3]


def test_empty_index_and_empty_queries():
    empty = VisitIndex.empty()
    assert len(empty) == 0
    assert link_latest(empty, [1, 2], [5, 5], [0, 0]).tolist() == [-1, -1]
    none = link_latest(VisitIndex.build([1], [1], [1]), [], [], [])
    assert none.dtype == np.int64 and none.size == 0
    groups = link_groups(empty, [], [], [], [])
    assert [a.size for a in groups] == [0, 0, 0]


def test_locate_gives_positions_in_the_index():
    index = VisitIndex.build([3, 1, 2], [30, 10, 20], [300, 100, 200])
    positions = locate(index, [2, 9], [25, 25], [0, 0])
    assert positions.tolist() == [1, -1]
    assert index.rows[1] == 200 and index.times[1] == 20


def test_pick_latest_combines_candidates_from_several_indexes():
    # Group 1: a ClientID candidate (t=50, row 4) and a phone candidate (t=80, row 2);
    # group 2: only misses.
    got = pick_latest([1, 1, 2], [50, 80, 0], [4, 2, -1])
    assert got.rows.tolist() == [2, -1] and got.query.tolist() == [1, -1]


def test_index_arrays_are_read_only_and_merging_an_empty_load_returns_the_index():
    index = VisitIndex.build([1], [1], [1])
    with pytest.raises(ValueError, match="read-only"):
        index.times[0] = 5
    assert index.merged([], [], []) is index


@pytest.mark.parametrize(
    ("columns", "message"),
    [(([1, 2], [1], [1]), "differ in length"), (([1], [1], [-1]), "non-negative")],
)
def test_bad_visit_columns_are_refused(columns, message):
    with pytest.raises(ValueError, match=message):
        VisitIndex.build(*columns)


def test_unknown_kernel_is_refused_with_the_known_names():
    assert get_kernel() is get_kernel("numpy")
    with pytest.raises(KernelUnavailable, match="numpy"):
        get_kernel("nope")


def test_without_numba_the_numba_kernel_is_unavailable_and_not_listed(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "emulator.matching.numba_kernel", raising=False)
    monkeypatch.delitem(matching.KERNELS, "numba", raising=False)
    with pytest.raises(KernelUnavailable, match="optional dependency"):
        get_kernel("numba")
    assert available_kernels() == ["numpy"]


def test_public_names():
    assert all(hasattr(matching, name) for name in matching.__all__)
    for name in ("VisitIndex", "link_latest", "link_groups", "pick_latest", "get_kernel"):
        assert name in matching.__all__
