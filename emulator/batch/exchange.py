"""The shuffle between stages: each task writes one file per destination partition.

A task of stage ``s`` running on partition ``src`` splits its output by destination and writes
``<exchange>/<s>/dst-<d>/src-<src>.arrow`` (Arrow IPC, LZ4); the task of the next stage on
partition ``d`` reads its directory. Files, not task results, carry the data, so a worker
never holds another partition's share, and the bytes shuffled are the bytes written. Workers
must therefore share the exchange directory (one machine, or a shared file system).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from emulator.batch.partitioned import split

OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


def _dir(exchange: str, stage: str, dst: int) -> Path:
    return Path(exchange) / stage / f"dst-{dst:05d}"


def put(exchange: str, stage: str, src: int, table: pa.Table, dst: np.ndarray) -> int:
    """Send row ``i`` of ``table`` to partition ``dst[i]``; returns the bytes written."""
    written = 0
    for part, rows in split(table, np.asarray(dst, np.int32)).items():
        folder = _dir(exchange, stage, part)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"src-{src:05d}.arrow"
        with (
            pa.OSFile(str(path), "wb") as sink,
            pa.ipc.new_file(sink, table.schema, options=OPTIONS) as w,
        ):
            w.write_table(rows)
        written += path.stat().st_size
    return written


def get(exchange: str, stage: str, dst: int, schema: pa.Schema) -> pa.Table:
    """Everything sent to partition ``dst`` in ``stage``, in source order."""
    folder = _dir(exchange, stage, dst)
    paths = sorted(folder.glob("src-*.arrow")) if folder.exists() else []
    tables = [pa.ipc.open_file(str(p)).read_all() for p in paths]
    return pa.concat_tables([schema.empty_table(), *tables]) if tables else schema.empty_table()
