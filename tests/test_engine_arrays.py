"""The engine's array helpers against plain Python statements of the same rules."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from emulator.engine.arrays import merge_lists, union_items
from emulator.engine.tally import Tally

lists = st.one_of(st.none(), st.lists(st.integers(0, 6), max_size=5))


@given(st.lists(st.tuples(lists, lists), max_size=30))
def test_append_of_plain_lists_equals_the_row_by_row_union(rows):
    """APPEND keeps the stored items and adds the sent ones not among them (spec §2.7);
    the vectorised path must say exactly what :func:`union_items` says for each row."""
    for kind, convert in ((pa.uint64(), int), (pa.string(), str)):
        before = pa.array(
            [None if b is None else [convert(x) for x in b] for b, _ in rows], pa.list_(kind)
        )
        sent = pa.array(
            [None if s is None else [convert(x) for x in s] for _, s in rows], pa.list_(kind)
        )
        expected = [
            s if b is None else b if s is None else union_items(b, s)
            for b, s in zip(before.to_pylist(), sent.to_pylist(), strict=True)
        ]
        assert merge_lists(before, sent, union_items).to_pylist() == expected


@given(st.lists(st.lists(st.integers(0, 20), max_size=20), max_size=6), st.data())
def test_a_tally_counts_like_a_counter(parts, data):
    hashed = [np.array(p, np.uint64) for p in parts]
    tally = Tally.of(hashed)
    truth = Counter(x for p in parts for x in p)
    probe = np.arange(25, dtype=np.uint64)
    assert tally.get(probe).tolist() == [truth[x] for x in range(25)]
    assert tally.most() == max(truth.values(), default=0)
    removed = data.draw(
        st.lists(st.sampled_from(sorted(truth)), max_size=5) if truth else st.just([])
    )
    after = tally.plus(Tally.of([np.array(removed, np.uint64)], -1))
    truth.subtract(Counter(removed))
    assert after.get(probe).tolist() == [truth[x] for x in range(25)]
    assert 0 not in after.counts.tolist()
