"""The unit of work: what one upload changes, gathered in columns and written in one go.

A step reads through ``session`` (the writer, inside the upload's transaction, so it sees what
earlier steps wrote) and records its results here: decisions and goal reaches in the
:class:`~emulator.engine.ledger.Log`, final order and contact rows, offline rows. ``flush``
writes them as one ledger entry plus one upsert per table; every row written names that entry,
so a reader finds a subject's history without scanning the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import MergeMode, OrderStatus
from emulator.engine.config import CounterConfig
from emulator.engine.ledger import Log
from emulator.engine.visits import VisitTable
from emulator.rules import RuleSet
from emulator.store import Session

REACH_SEQUENCE = "goal_reach"


@dataclass
class Work:
    """Everything one upload's processing needs, and what it will write."""

    session: Session
    counter: CounterConfig
    now: int
    uploading_id: str
    mapping: dict[str, OrderStatus]
    visits: VisitTable
    mode: MergeMode = MergeMode.SAVE
    log: Log = field(default_factory=Log)
    orders: list[pa.Table] = field(default_factory=list)
    contacts: list[pa.Table] = field(default_factory=list)
    offline_rows: list[pa.Table] = field(default_factory=list)
    mentions: list[tuple[str, str]] = field(default_factory=list)
    """Subjects this work decides about that have no row to name the entry."""

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
        stores = ((self.session.orders, self.orders), (self.session.contacts, self.contacts))
        for table, parts in stores:
            for rows in parts:
                table.upsert(self.counter_id, rows if seq is None else with_entry(rows, seq))
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
