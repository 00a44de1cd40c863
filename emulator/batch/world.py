"""``write_world``: run the simulator and write its world as partitioned Parquet, streaming.

Nothing grows with the number of visits except the people behind them: each simulated hour's
visits are split by ClientID and written (row groups of a bounded size) before the next hour is
drawn, and each upload is serialised, read back by the engine's own readers and staged as soon
as no later upload can be sent before it. Only at the end, when every order's customers are
known, are the staged rows split by customer (:mod:`emulator.batch.subjects`).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emulator.batch import layout
from emulator.batch.intake import read_upload
from emulator.batch.partitioned import PartitionedWriter
from emulator.batch.subjects import Staging
from emulator.engine.config import CounterConfig, Goal
from emulator.engine.keys import hex_keys
from emulator.engine.visits import IndexKind
from emulator.rules import RuleSet
from emulator.sim.config import to_plain
from emulator.sim.settings import Settings
from emulator.sim.uploads import counter_config, send_time, upload_of
from emulator.sim.visits import VisitTable
from emulator.sim.world import World

DEFAULT_PARTS = 16


def counter_of(counter: dict[str, Any], counter_id: int) -> CounterConfig:
    """The counter of a world's ``counter`` entry (as ``PUT /_emulator/counters/{id}`` takes)."""
    return CounterConfig(
        counter_id=counter_id,
        time_zone=counter["time_zone"],
        rules=RuleSet.from_mapping(counter.get("rules")),
        goals=tuple(Goal(g["id"], g["name"], g.get("identifier")) for g in counter["goals"]),
        tokens={t: tuple(s) for t, s in counter.get("tokens", {}).items()},
    )


class _Visits:
    """Each hour's visits, split by ClientID; their yclids, split by yclid."""

    def __init__(self, root: Path, world: World, parts: int) -> None:
        self.world = world
        self.parts = parts
        self.visits = PartitionedWriter(root, "visits", parts)
        self.keys = PartitionedWriter(root, "keys", parts)

    def drain(self) -> None:
        traffic = self.world.traffic
        chunks, traffic.visits[:] = list(traffic.visits), []
        sim = self.world.settings.simulation
        for columns in chunks:
            table = VisitTable(columns, sim, {}, tuple(traffic.source_names)).arrow()
            client_ids = columns["client_id"]
            self.visits.write(table, layout.partitions_of_numbers(client_ids, self.parts))
            clicked = np.flatnonzero(columns["yclid"] != 0)
            self.keys.write(
                _keys(IndexKind.YCLID, columns["yclid"][clicked], client_ids[clicked]),
                layout.partitions_of_numbers(columns["yclid"][clicked], self.parts),
            )

    def captures(self, root: Path) -> int:
        """The hashes advanced matching recorded, beside the visit's ClientID and by key."""
        world = self.world
        clients = {lead.visit.visit_id: lead.visit.client_id for lead in world.leads}
        ids = sorted(world.typed)
        email = [world.typed[v][0] or None for v in ids]
        phone = [world.typed[v][1] or None for v in ids]
        client_ids = np.array([clients[v] for v in ids], np.uint64)
        table = pa.table(
            {
                "visit_id": pa.array(ids, pa.int64()),
                "client_id": pa.array(client_ids),
                "email_md5": pa.array([[e] if e else None for e in email], pa.list_(pa.string())),
                "phone_md5": pa.array([[p] if p else None for p in phone], pa.list_(pa.string())),
            }
        )
        captures = PartitionedWriter(root, "captures", self.parts)
        captures.write(table, layout.partitions_of_numbers(client_ids, self.parts))
        captures.close()
        for digests in (email, phone):
            rows = np.array([i for i, d in enumerate(digests) if d], np.int64)
            keys = hex_keys(pa.array([digests[i] for i in rows.tolist()], pa.string()))
            self.keys.write(
                _keys(IndexKind.MD5, keys, client_ids[rows] if len(rows) else client_ids[:0]),
                layout.partitions_of_numbers(keys, self.parts),
            )
        return len(table)

    def close(self) -> None:
        self.visits.close()
        self.keys.close()


def _keys(kind: IndexKind, keys: np.ndarray, client_ids: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "kind": pa.array([kind.value] * len(keys), pa.string()),
            "key": pa.array(np.asarray(keys, np.uint64)),
            "client_id": pa.array(np.asarray(client_ids, np.uint64)),
        }
    )


class _Uploads:
    """Uploads serialised and staged in timeline order, as soon as their order is final."""

    def __init__(self, root: Path, world: World, counter: CounterConfig) -> None:
        self.world = world
        self.counter = counter
        self.staging = Staging(root)
        self.meta: list[dict[str, Any]] = []
        self.next = 0  # batches before this index are all sent

    def drain(self, now: float) -> None:
        """Send every batch whose send time is before ``now``: a batch collected later is sent
        at or after ``now``, so the timeline order of these is final."""
        batches, settings = self.world.batches, self.world.settings
        ready = [
            i
            for i in range(self.next, len(batches))
            if batches[i] is not None and send_time(batches[i], settings) < now
        ]
        ready.sort(key=lambda i: (send_time(batches[i], settings), i))
        for index in ready:
            upload = upload_of(len(self.meta) + 1, batches[index], settings, self.world.calendar)
            batches[index] = None  # the records are written: let them go
            intake = read_upload(upload, self.counter)
            self.meta.append(intake.meta)
            if intake.kind is not None and intake.rows is not None and len(intake.rows):
                self.staging.add(intake.kind, upload.seq, intake.rows)
        while self.next < len(batches) and batches[self.next] is None:
            self.next += 1

    def close(self, root: Path, parts: int) -> dict[str, int]:
        table = pa.Table.from_pylist(self.meta, schema=layout.UPLOAD_META)
        pq.write_table(table, root / layout.UPLOADS, compression="zstd")
        return self.staging.partition(parts)


def write_world(
    settings: Settings,
    seed: int,
    out: str | Path,
    parts: int = DEFAULT_PARTS,
    rules: RuleSet | None = None,
    on_hour: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Simulate and write the world under ``out`` in ``parts`` partitions; returns the manifest.

    ``rules`` become the counter's rules (what ``crmemu batch`` applies unless told otherwise);
    the uploads are read under them, as the counter would read them.
    """
    if parts < 1:
        raise ValueError("a world needs at least one partition")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    entry = counter_config(settings) | {"rules": (rules or RuleSet()).to_mapping()}
    counter = counter_of(entry, settings.export.counter_id)
    world = World(settings, seed)
    visits = _Visits(root, world, parts)
    uploads = _Uploads(root, world, counter)

    def hour() -> None:
        visits.drain()
        uploads.drain(world.env.now)
        if on_hour is not None:
            on_hour()

    world.run(hour)
    visits.drain()
    uploads.drain(math.inf)
    captured = visits.captures(root)
    visits.close()
    rows = uploads.close(root, parts)
    manifest = {
        "seed": seed,
        "settings": to_plain(settings),
        "counter_id": settings.export.counter_id,
        "counter": entry,
        "parts": parts,
        "counts": {
            "visits": visits.visits.rows,
            "captures": captured,
            "keys": visits.keys.rows,
            "leads": len(world.leads),
            "uploads": len(uploads.meta),
            **rows,
        },
        "versions": {
            "python": platform.python_version(),
            "crm-metrica-emulator": metadata.version("crm-metrica-emulator"),
            "pyarrow": pa.__version__,
        },
    }
    layout.write_manifest(root, manifest)
    return manifest
