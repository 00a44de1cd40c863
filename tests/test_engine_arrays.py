"""The engine's array helpers against plain Python statements of the same rules."""

from __future__ import annotations

from collections import Counter
from uuid import uuid4

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.engine import records
from emulator.engine.arrays import merge_lists, union_items
from emulator.engine.records import KeyIndex, Records
from emulator.engine.tally import Tally
from emulator.formats.hashing import hash_strings
from emulator.store import Store

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


def _weak_hash(keys: pa.Array) -> np.ndarray:
    """Three buckets only: nearly every look-up meets keys that share its hash."""
    return hash_strings(keys) % np.uint64(3)


ROW = pa.schema([("key", pa.string()), ("value", pa.int64())])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 99), max_size=6), max_size=6
    ),
    st.lists(st.sampled_from("abcdefghz"), max_size=6),
)
def test_the_key_index_finds_the_last_version_even_when_hashes_collide(
    tmp_path, monkeypatch, flushes, asked
):
    """Versions written flush by flush; the last one of each key wins, for a look-up, for the
    whole book and for an index rebuilt from the stored chunks, however the hashes collide."""
    monkeypatch.setattr(records, "hash_strings", _weak_hash)
    store = Store(tmp_path / f"{uuid4().hex}.sqlite3")  # one database per example
    book = Records(store, "orders", ROW, "key")
    truth: dict[str, int] = {}
    index = KeyIndex.empty()
    with store.write() as session:
        for flush in flushes:
            rows = pa.table({"key": list(flush), "value": list(flush.values())}, schema=ROW)
            index = book.write(session, 1, index, rows)
            truth.update(flush)
        book.install(1, index)
        wanted = pa.array(asked, pa.string())
        found = book.load(session, 1, index, wanted).to_pylist()
        assert found == [{"key": k, "value": truth[k]} for k in asked if k in truth]
    everything = book.all(store.read(), 1, book.index(1)).to_pylist()
    assert everything == [{"key": k, "value": truth[k]} for k in sorted(truth)]
    book.forget()
    rebuilt = book.all(store.read(), 1, book.index(1)).to_pylist()
    assert rebuilt == everything
