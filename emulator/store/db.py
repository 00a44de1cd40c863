"""SQLite connections, migrations and transactions: the only place that opens the database.

One writer connection, used by one thread at a time (uploads are applied one after another, as
the real service queues them), and one read-only connection per reading thread. In WAL mode a
reader sees the last committed state while the writer works, so reads and reports of any
counter answer during a long upload. A commit on a file database is ``synchronous=FULL``: once
an upload is acknowledged it survives a crash or a power loss. ``:memory:`` is a private
temporary file removed on close, so throw-away runs get the same concurrency.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from emulator.store.schema import LEGACY_VERSION, SCHEMA_V2

MEMORY = ":memory:"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 60_000


class Database:
    """The writer connection, per-thread readers, and the schema version."""

    def __init__(self, path: str | Path = MEMORY) -> None:
        self.path = str(path)
        self.durable = self.path != MEMORY
        if self.durable:
            self.file = Path(self.path)
        else:
            scratch = tempfile.mkdtemp(prefix="crmemu-")
            self.file = Path(scratch) / "state.sqlite3"
            weakref.finalize(self, shutil.rmtree, scratch, True)
        self._write_lock = threading.RLock()
        self._owner: int | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self.writer = self._connect()
        self.writer.execute("PRAGMA journal_mode=WAL")
        self.writer.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'OFF'}")
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.file, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return conn

    def _migrate(self) -> None:
        version = self.writer.execute("PRAGMA user_version").fetchone()[0]
        if version == LEGACY_VERSION:
            raise RuntimeError(
                f"{self.path} holds state of crm-metrica-emulator 0.1 (schema 1), which "
                "stored everything as JSON documents; this version keeps columns and cannot "
                "read it. Start from a new file (the state is re-created by replaying uploads)."
            )
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database {self.path} has schema version {version}, newer than this "
                f"emulator ({SCHEMA_VERSION}); upgrade the package"
            )
        if version == 0:
            with self.write() as conn:
                for statement in SCHEMA_V2.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        return int(self.reader().execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the writer: all or nothing (re-entrant: an inner block joins)."""
        with self._write_lock:
            if self.writer.in_transaction:
                yield self.writer
                return
            self.writer.execute("BEGIN IMMEDIATE")
            self._owner = threading.get_ident()
            try:
                yield self.writer
            except BaseException:
                self.writer.execute("ROLLBACK")
                self._after_commit.clear()
                raise
            else:
                self.writer.execute("COMMIT")
            finally:
                self._owner = None
            callbacks, self._after_commit = self._after_commit, []
            for callback in callbacks:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current write transaction commits (never if it rolls
        back): what caches of committed state wait for."""
        self._after_commit.append(callback)

    @property
    def writing(self) -> bool:
        """Whether the calling thread is inside :meth:`write` (then it must read there too)."""
        return self._owner == threading.get_ident()

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (the committed state, never blocked by the writer)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        """The writer inside a write transaction of this thread, else this thread's reader."""
        return self.writer if self.writing else self.reader()

    def close(self) -> None:
        with self._write_lock, self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self.writer.close()
