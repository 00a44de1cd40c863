"""Writing a partitioned dataset a batch at a time, in bounded memory.

Rows arrive in batches (an hour of visits, one upload); each batch is split by partition and
buffered; a partition's buffer becomes a Parquet row group as soon as it holds its share of
:data:`BUFFER_ROWS`. Memory is therefore bounded by about that many rows whatever the size of
the world, and every partition is one file that a worker reads on its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emulator.batch.layout import DATASETS, part_path

BUFFER_ROWS = 1 << 20
"""Rows a writer buffers over all its partitions (row groups are at least 8,192 rows)."""


def split(table: pa.Table, partition: np.ndarray) -> dict[int, pa.Table]:
    """The rows of ``table`` by partition, each keeping the table's row order and holding its
    own buffers (a buffered share does not keep the whole batch alive)."""
    if not len(table):
        return {}
    order = np.argsort(partition, kind="stable")
    parts, starts = np.unique(partition[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    return {
        int(p): table.take(pa.array(order[s:e], pa.int64()))
        for p, s, e in zip(parts.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }


class PartitionedWriter:
    """One Parquet file per partition of ``dataset`` under ``root``, written row group by row
    group."""

    def __init__(self, root: str | Path, dataset: str, parts: int) -> None:
        self.root = Path(root)
        self.dataset = dataset
        self.schema = DATASETS[dataset]
        self.group_rows = max(1 << 13, BUFFER_ROWS // parts)
        self.rows = 0
        self._buffers: dict[int, list[pa.Table]] = {}
        self._buffered: dict[int, int] = {}
        self._writers: dict[int, pq.ParquetWriter] = {}
        (self.root / dataset).mkdir(parents=True, exist_ok=True)

    def write(self, table: pa.Table, partition: np.ndarray) -> None:
        """Add ``table``'s rows, row ``i`` to partition ``partition[i]``."""
        table = table.select(self.schema.names).cast(self.schema)
        for part, rows in split(table, partition).items():
            self._buffers.setdefault(part, []).append(rows)
            self._buffered[part] = self._buffered.get(part, 0) + len(rows)
            if self._buffered[part] >= self.group_rows:
                self._flush(part)
        self.rows += len(table)

    def _flush(self, part: int) -> None:
        pieces = self._buffers.pop(part, [])
        self._buffered.pop(part, None)
        if not pieces:
            return
        writer = self._writers.get(part)
        if writer is None:
            path = part_path(self.root, self.dataset, part)
            writer = self._writers[part] = pq.ParquetWriter(path, self.schema, compression="zstd")
        writer.write_table(pa.concat_tables(pieces), row_group_size=1 << 30)

    def close(self) -> None:
        for part in list(self._buffers):
            self._flush(part)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
