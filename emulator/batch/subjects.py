"""Splitting upload rows by subject, so that whatever one order or conversion depends on lies in
one partition.

An order depends on its customer's contact (identifiers, re-linking when it arrives) and on
every row of its own id; an order that changes customer ties the two customers together.
:func:`customer_groups` joins such customers (union-find), and every row of a group goes to
the partition of the group's first customer name. Offline conversions depend only on rows
with the same identifier (a re-sent conversion overwrites the revenue), so they are split by
the identifier the engine would use.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from emulator.batch import layout
from emulator.batch.partitioned import PartitionedWriter
from emulator.domain import UploadKind
from emulator.engine.arrays import combined
from emulator.engine.offline import IDENTIFIER_FIELDS, identifiers
from emulator.engine.orders import customer_keys

STAGING = "_staging"
CUSTOMER_DATASETS = ("orders", "contacts")
OFFLINE_DATASETS = ("offline", "calls")


def customer_groups(rows: Iterable[tuple[list[str | None], list[str]]]) -> dict[str, str]:
    """The representative of every customer that shares an order with another one.

    ``rows`` yields ``(order ids, customers)`` column pairs; a null id (a simple order sent
    without one) is always a new order and ties nothing. Customers absent from the answer are
    their own group.
    """
    first: dict[str, str] = {}
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        root = name
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(name, name) != root:
            parent[name], name = root, parent[name]
        return root

    for ids, customers in rows:
        for order, customer in zip(ids, customers, strict=True):
            if order is None:
                continue
            seen = first.setdefault(order, customer)
            if seen != customer:
                a, b = find(seen), find(customer)
                if a != b:
                    low, high = sorted((a, b))
                    parent[high] = low
                    parent.setdefault(low, low)
    return {name: find(name) for name in parent}


def subject_keys(dataset: str, rows: pa.Table, groups: dict[str, str]) -> pa.Array:
    """The text each row is partitioned by."""
    if dataset in OFFLINE_DATASETS:
        which, value = identifiers(rows)
        names = np.array([f[1] for f in IDENTIFIER_FIELDS] + [""], object)[which]
        return pc.binary_join_element_wise(pa.array(names, pa.string()), value.fill_null(""), ":")
    keys = (
        combined(rows.column("uniq_id")) if dataset == "contacts" else customer_keys(rows)
    ).fill_null("")
    if not groups:
        return keys
    mapped = [groups.get(k, k) for k in keys.to_pylist()]
    return pa.array(mapped, pa.string())


class Staging:
    """Upload rows in timeline order, one staging file per dataset, until they are split."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / STAGING
        self.dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}

    def add(self, kind: UploadKind, seq: int, rows: pa.Table) -> None:
        dataset = layout.UPLOAD_DATASETS[kind]
        schema = layout.DATASETS[dataset]
        table = rows.add_column(0, layout.SEQ, pa.array(np.full(len(rows), seq, np.int32)))
        writer = self._writers.get(dataset)
        if writer is None:
            writer = pq.ParquetWriter(self.dir / f"{dataset}.parquet", schema)
            self._writers[dataset] = writer
        writer.write_table(table.select(schema.names).cast(schema))

    def _batches(self, dataset: str, columns: list[str] | None = None) -> Iterator[pa.Table]:
        path = self.dir / f"{dataset}.parquet"
        if not path.exists():
            return
        file = pq.ParquetFile(path)
        for group in range(file.num_row_groups):
            yield file.read_row_group(group, columns=columns)

    def partition(self, parts: int) -> dict[str, int]:
        """Split every staged dataset into ``parts`` partitions; returns rows per dataset."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        names = ["id", "client_uniq_id", "client_ids", "emails", "phones"]
        names += ["emails_md5", "phones_md5"]
        groups = customer_groups(
            (batch.column("id").to_pylist(), customer_keys(batch).to_pylist())
            for batch in self._batches("orders", names)
        )
        counts = {}
        for dataset in (*CUSTOMER_DATASETS, *OFFLINE_DATASETS):
            writer = PartitionedWriter(self.root, dataset, parts)
            for batch in self._batches(dataset):
                keys = subject_keys(dataset, batch, groups)
                writer.write(batch, layout.partitions_of_texts(keys, parts))
            writer.close()
            counts[dataset] = writer.rows
        shutil.rmtree(self.dir)
        return counts
