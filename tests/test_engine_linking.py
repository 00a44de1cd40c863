"""The engine's visit table: loading in batches equals loading at once (rows and indexes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from emulator import Visit
from emulator.engine.visits import VisitTable
from emulator.formats.visits import from_records

BASE = datetime(2024, 3, 1, tzinfo=UTC)

visits = st.lists(
    st.builds(
        Visit,
        visit_id=st.integers(1, 10_000),
        client_id=st.integers(1, 5),
        start_time=st.integers(0, 10_000).map(lambda s: BASE + timedelta(seconds=s)),
        yclid=st.none() | st.integers(1, 3),
        user_id=st.none() | st.sampled_from(["u1", "u2"]),
        email_md5=st.lists(st.sampled_from(["a" * 32, "b" * 32]), max_size=2).map(tuple),
    ),
    unique_by=lambda v: v.visit_id,
    max_size=30,
)


@given(visits, st.integers(0, 30))
def test_batches_build_the_same_table_as_one_load(all_visits, cut):
    once = VisitTable().with_visits(from_records(all_visits))
    twice = (
        VisitTable()
        .with_visits(from_records(all_visits[:cut]))
        .with_visits(from_records(all_visits[cut:]))
    )
    for name in ("visit_ids", "client_ids", "start_times"):
        assert np.array_equal(getattr(once, name), getattr(twice, name))
    assert np.all(np.diff(once.visit_ids) > 0)
    assert set(once.indexes) == set(twice.indexes)
    for kind, index in once.indexes.items():
        other = twice.indexes[kind]
        assert np.array_equal(index.keys, other.keys)
        assert np.array_equal(index.times, other.times)
        assert np.array_equal(index.rows, other.rows)
