"""Everything the engine keeps, behind one interface; every SQL statement lives in this package.

:class:`Store` opens the database (:mod:`.db`); :meth:`Store.write` and :meth:`Store.read`
hand out a :class:`Session`, the tables bound to one connection: the writer inside one
all-or-nothing transaction, or this thread's reader. The store knows rows, columns and chunks,
never rules.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulator.store.chunks import Conversions, Entry, Ledger, RecordChunks, VisitChunks
from emulator.store.counters import Counters, GoalRow
from emulator.store.db import MEMORY, Database
from emulator.store.uploadings import UploadingRow, Uploadings

__all__ = ["MEMORY", "Entry", "GoalRow", "Session", "Store", "UploadingRow"]


class Session:
    """The tables, bound to one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.counters = Counters(conn)
        self.uploadings = Uploadings(conn)
        self.visits = VisitChunks(conn)
        self.ledger = Ledger(conn)
        self.conversions = Conversions(conn)
        self.records = RecordChunks(conn)


class Store:
    """The database of every counter's state (a file, or ``:memory:`` for a private one)."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self.db = Database(path)
        self.path = self.db.path

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction: committed (durably) on success, else rolled back."""
        with self.db.write() as conn:
            yield Session(conn)

    def read(self) -> Session:
        """A session on the committed state (or on the writer, inside this thread's write)."""
        return Session(self.db.connection())

    def get_setting(self, name: str) -> Any:
        return self.read().counters.setting(name)

    def set_setting(self, name: str, value: Any) -> None:
        with self.write() as session:
            session.counters.set_setting(name, value)

    def dump(self) -> list[str]:
        """The whole committed state as SQL statements (what tests compare before and after)."""
        return list(self.db.reader().iterdump())

    @property
    def schema_version(self) -> int:
        return self.db.schema_version

    def close(self) -> None:
        self.db.close()
