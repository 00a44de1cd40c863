"""The unit of work: what one upload changes, gathered in columns and written in one go.

A step reads through ``session`` (the writer, inside the upload's transaction, so it sees what
earlier steps wrote) and records its results here: decisions and goal reaches in the
:class:`~emulator.engine.ledger.Log`, final order and contact rows, offline rows. ``flush``
writes them as one ledger entry plus one upsert per table; every row written names that entry,
so a reader finds a subject's history without scanning the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import MergeMode, OrderStatus
from emulator.engine.config import CounterConfig
from emulator.engine.ledger import Log
from emulator.engine.records import KeyIndex, Records
from emulator.engine.tally import Tally
from emulator.engine.visits import VisitTable
from emulator.formats.hashing import hash_strings
from emulator.rules import RuleSet
from emulator.store import Session

REACH_SEQUENCE = "goal_reach"
TALLIES_KEPT = 8
"""Per-flush tallies of moved records kept apart before they are summed into one."""


@dataclass(frozen=True)
class Books:
    """The record stores of the engine: orders and contacts."""

    orders: Records
    contacts: Records


@dataclass
class Work:
    """Everything one upload's processing needs, and what it will write."""

    session: Session
    counter: CounterConfig
    now: int
    uploading_id: str
    mapping: dict[str, OrderStatus]
    visits: VisitTable
    books: Books
    mode: MergeMode = MergeMode.SAVE
    log: Log = field(default_factory=Log)
    orders: list[pa.Table] = field(default_factory=list)
    contacts: list[pa.Table] = field(default_factory=list)
    offline_rows: list[pa.Table] = field(default_factory=list)
    mentions: list[tuple[str, str]] = field(default_factory=list)
    """Subjects this work decides about that have no row to name the entry."""
    indexes: dict[str, KeyIndex] = field(default_factory=dict)
    """This upload's copies of the key indexes (installed once it commits)."""
    moves: dict[str, list[Tally]] = field(default_factory=dict)
    """What this upload adds to (and takes from) each book's tally."""
    watch: dict[str, int] = field(default_factory=dict)
    """Customers who could pass the order cap in this upload, with their orders so far."""

    def index(self, book: Records) -> KeyIndex:
        if book.kind not in self.indexes:
            self.indexes[book.kind] = book.index(self.counter_id)
        return self.indexes[book.kind]

    def load(self, book: Records, keys: pa.Array) -> pa.Table:
        """Current versions (including those this upload wrote) of the records with ``keys``."""
        return book.load(self.session, self.counter_id, self.index(book), keys)

    def stream(self, book: Records) -> Iterator[pa.Table]:
        """Current versions (including this upload's), a stored chunk at a time."""
        return book.stream(self.session, self.counter_id, self.index(book), book.schema.names)

    def count(self, book: Records, values: pa.Array, sign: int = 1) -> None:
        """``values`` of the book's counted column gain (or, ``sign=-1``, lose) a record."""
        moves = self.moves.setdefault(book.kind, [])
        moves.append(Tally.of([hash_strings(values)], sign))
        if len(moves) > TALLIES_KEPT:  # a big upload's moves stay about its customers' size
            moves[:] = [Tally.total(moves)]

    def install(self) -> None:
        """After the commit: readers now see this upload's versions."""
        for book in (self.books.orders, self.books.contacts):
            if book.kind in self.indexes:
                moved = Tally.total(self.moves.get(book.kind, []))
                book.install(self.counter_id, self.indexes[book.kind], moved)

    @property
    def rules(self) -> RuleSet:
        return self.counter.rules

    @property
    def counter_id(self) -> int:
        return self.counter.counter_id

    def reach_ids(self, count: int) -> np.ndarray:
        """Ids for ``count`` new goal reaches (a persistent sequence)."""
        if not count:
            return np.zeros(0, np.int64)
        first = self.session.counters.next_values(REACH_SEQUENCE, count)
        return np.arange(first, first + count, dtype=np.int64)

    def flush(self) -> None:
        """Write the ledger entry and the rows, inside the upload's transaction."""
        decisions = self.log.decisions.table()
        reaches = self.log.reaches.table()
        offline = pa.concat_tables(self.offline_rows) if self.offline_rows else None
        seq = None
        if decisions is not None or reaches is not None or offline is not None:
            seq = self.session.ledger.add(
                self.counter_id,
                self.uploading_id,
                self.now,
                {"decisions": decisions, "reaches": reaches, "offline_rows": offline},
            )
            self.session.ledger.mention(self.counter_id, seq, self.mentions)
        for book, parts in ((self.books.orders, self.orders), (self.books.contacts, self.contacts)):
            rows = [p for p in parts if len(p)]
            if rows:
                table = pa.concat_tables(rows)
                table = table if seq is None else with_entry(table, seq)
                self.indexes[book.kind] = book.write(
                    self.session, self.counter_id, self.index(book), table
                )
        self.orders.clear()
        self.contacts.clear()
        self.offline_rows.clear()
        self.mentions.clear()
        self.log = Log()


def with_entry(rows: pa.Table, seq: int) -> pa.Table:
    """``rows`` whose ``entries`` list (comma-separated ledger seqs) also names ``seq``."""
    entries = rows.column("entries")
    text = pa.scalar(str(seq))
    joined = pc.if_else(
        pc.equal(pc.fill_null(entries, ""), ""),
        text,
        pc.binary_join_element_wise(pc.fill_null(entries, ""), text, ","),
    )
    return rows.set_column(rows.schema.get_field_index("entries"), "entries", joined)
