"""The last stage: the engine itself replays one subject partition's uploads.

Each partition gets its own :class:`~emulator.Emulator` (an in-memory store), set up like the
counter of the plan, fed through its public methods exactly as an integrator's replay feeds the
HTTP emulator: before each upload of the timeline (whether or not this partition holds rows of
it) the visits that have started by then are loaded and the clock is set to the upload's
``sent_at``, so delayed processing happens when it would. Every rule is the engine's own; this
module only chooses what to send and reads back what the engine decided.

The visits are those :func:`emulator.batch.stages.fetch` sent here: every visit of every
ClientID the partition's subjects can reach, so each link is the one the whole world gives.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emulator import Emulator
from emulator.batch import exchange, layout
from emulator.batch.plan import CRM_KINDS, Plan, Step
from emulator.batch.stages import FETCHED
from emulator.domain import UploadKind
from emulator.engine.columns import to_records
from emulator.engine.visits import VISIT_SCHEMA
from emulator.formats import FormatOptions, write_csv
from emulator.sim.verify import KINDS

RESULTS: dict[str, pa.Schema] = {
    "orders": pa.schema(
        [
            pa.field("order_id", pa.string()),
            pa.field("kind", pa.string()),
            pa.field("customer", pa.string()),
            pa.field("create_time", pa.int64()),
            pa.field("status", pa.string()),
            pa.field("status_type", pa.string()),
            pa.field("revenue", pa.string()),
            pa.field("cost", pa.string()),
            pa.field("linked_visit_id", pa.int64()),
            pa.field("linked_by", pa.string()),
            pa.field("decisions", pa.list_(pa.string())),
        ]
    ),
    "goal_reaches": pa.schema(
        [
            pa.field("subject_type", pa.string()),
            pa.field("subject_key", pa.string()),
            pa.field("goal_id", pa.int64()),
            pa.field("goal", pa.string()),
            pa.field("identifier", pa.string()),
            pa.field("visit_id", pa.int64()),
            pa.field("revenue", pa.string()),
            pa.field("currency", pa.string()),
            pa.field("at", pa.string()),
        ]
    ),
    "offline_rows": pa.schema(
        [
            pa.field("seq", pa.int32()),
            pa.field("uploading_id", pa.int64()),
            pa.field("line", pa.int64()),
            pa.field("code", pa.string()),
            pa.field("visit_id", pa.int64()),
        ]
    ),
}
"""What a batch run writes under its output directory, one file per partition each:
``orders`` (every order's final state, link and decision codes in order), ``goal_reaches``
(orders' and offline rows' reaches) and ``offline_rows`` (each offline row's outcome)."""


def _visits(plan: Plan, part: int) -> pa.Table:
    """The fetched visits, each once, by start time."""
    fetched = exchange.get(plan.exchange, "visits", part, FETCHED)
    ids = np.asarray(fetched.column("visit_id"), np.int64)
    _, first = np.unique(ids, return_index=True)
    table = fetched.take(pa.array(first, pa.int64())).select(VISIT_SCHEMA.names)
    return table.sort_by([("start_time", "ascending"), ("visit_id", "ascending")])


class _Subjects:
    """The upload rows of some partitions, by upload (in timeline order)."""

    def __init__(self, plan: Plan, parts: Sequence[int]) -> None:
        self.tables = {}
        for name in set(layout.UPLOAD_DATASETS.values()):
            tables = [layout.read_part(plan.world, name, part) for part in parts]
            table = pa.concat_tables(tables)
            order = np.argsort(np.asarray(table.column("seq"), np.int32), kind="stable")
            self.tables[name] = table.take(pa.array(order, pa.int64()))
        self.bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, table in self.tables.items():
            seq = np.asarray(table.column("seq"), np.int32)
            values, starts = np.unique(seq, return_index=True)
            self.bounds[name] = (values, np.append(starts, len(seq)))

    def rows(self, kind: UploadKind, seq: int) -> pa.Table:
        name = layout.UPLOAD_DATASETS[kind]
        values, starts = self.bounds[name]
        at = int(np.searchsorted(values, seq))
        if at == len(values) or values[at] != seq:
            return self.tables[name].slice(0, 0)
        return self.tables[name].slice(int(starts[at]), int(starts[at + 1] - starts[at]))


def _stand_in(plan: Plan, seq: int) -> pa.Table:
    """One contact row of upload ``seq``, from whichever partition holds one.

    The counter's first contacts upload starts its linking (rule ``contacts_first``) in every
    partition, also in one that holds none of its rows; such a partition gets this row, so that
    its engine records the moment itself, at the processing time it would anywhere. The row's
    customer has no orders in that partition, so nothing else it decides changes.
    """
    schema = layout.DATASETS["contacts"]
    for part in range(plan.parts):
        path = layout.part_path(plan.world, "contacts", part)
        if path.exists():
            rows = pq.read_table(path, schema=schema, filters=[("seq", "==", seq)])
            if len(rows):
                return rows.slice(0, 1)
    return schema.empty_table()


class _Replay:
    def __init__(self, plan: Plan, parts: Sequence[int]) -> None:
        self.plan = plan
        self.counter = plan.counter
        self.emulator = Emulator()
        self.emulator.put_counter(plan.counter)
        self.subjects = _Subjects(plan, parts)
        self.offline: list[tuple[Step, int, np.ndarray]] = []

    def send(self, step: Step) -> None:
        emulator, counter_id = self.emulator, self.counter.counter_id
        if step.kind == "status_mapping":
            emulator.map_order_statuses(counter_id, json.loads(step.mapping or "[]"))
            return
        kind = KINDS[step.kind]
        rows = self.subjects.rows(kind, step.seq)
        if not len(rows) and step.seq == self.plan.first_contacts:
            rows = _stand_in(self.plan, step.seq)
        if not len(rows):
            return
        if step.kind in CRM_KINDS:
            meta = emulator.upload_columns(counter_id, kind, rows, step.params.get("merge_mode"))
            if meta.api_validation_status != "PASSED":
                raise RuntimeError(
                    f"upload {step.seq}: the plan accepted it but this partition's share failed "
                    "(a rule that judges the whole upload, such as the customer cap, is not "
                    "decided per partition)"
                )
            return
        body = io.BytesIO()
        records = to_records(kind, rows, self.counter.tz)
        write_csv(kind, records, body, FormatOptions(time_zone=self.counter.time_zone))
        comment = step.params.get("comment")
        if kind is UploadKind.CALLS:
            meta = emulator.upload_calls(
                counter_id, body.getvalue(), comment, step.params.get("new_goal_name")
            )
        else:
            meta = emulator.upload_offline_conversions(
                counter_id, body.getvalue(), comment, step.params.get("type")
            )
        self.offline.append((step, meta.id, np.asarray(rows.column("line"), np.int64)))

    def run(self, visits: pa.Table) -> None:
        starts = np.asarray(visits.column("start_time"), np.int64)
        loaded = 0
        for step in self.plan.steps:
            due = int(np.searchsorted(starts, step.sent_at.timestamp(), "right"))
            if due > loaded:
                self.emulator.load_visits(
                    self.counter.counter_id, visits.slice(loaded, due - loaded)
                )
                loaded = due
            self.emulator.set_clock(step.sent_at)
            if step.accepted:
                self.send(step)
        self.emulator.set_clock(self.plan.finish_at)

    def results(self) -> dict[str, list[dict[str, Any]]]:
        """What the engine decided, with offline uploadings and lines renamed to the ones the
        service gives the whole timeline."""
        counter_id = self.counter.counter_id
        renamed: dict[str, str] = {}
        offline_rows = []
        for step, local_id, lines in self.offline:
            rows = self.emulator.offline_rows(counter_id, local_id)
            if len(rows) != len(lines):
                raise RuntimeError(f"upload {step.seq}: {len(lines)} rows sent, {len(rows)} read")
            for row, line in zip(rows, lines.tolist(), strict=True):
                renamed[f"{local_id}:{row['line']}"] = f"{step.offline_id}:{line}"
                offline_rows.append(
                    {
                        "seq": step.seq,
                        "uploading_id": step.offline_id,
                        "line": line,
                        "code": row["code"],
                        "visit_id": row["visit_id"],
                    }
                )
        reaches = self.emulator.goal_reaches(counter_id)
        for reach in reaches:
            reach["subject_key"] = renamed.get(reach["subject_key"], reach["subject_key"])
        return {
            "orders": self.emulator.orders_summary(counter_id),
            "goal_reaches": reaches,
            "offline_rows": offline_rows,
        }


def run_engine(
    plan: Plan, parts: Sequence[int], visits: pa.Table
) -> dict[str, list[dict[str, Any]]]:
    """One engine replaying the uploads of ``parts`` over ``visits`` (by start time); what it
    decided (the rows of :data:`RESULTS`)."""
    run = _Replay(plan, parts)
    run.run(visits)
    return run.results()


def replay(plan: Plan, part: int) -> int:
    """Replay partition ``part`` and write its results; nothing is shuffled."""
    for name, rows in run_engine(plan, [part], _visits(plan, part)).items():
        schema = RESULTS[name]
        table = pa.Table.from_pylist([{f: r[f] for f in schema.names} for r in rows], schema=schema)
        if name == "orders":
            table = table.sort_by("order_id")
        path = Path(plan.out) / name / f"part-{part:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
    return 0


def read_results(out: str | Path, name: str) -> pa.Table:
    """Every partition of one result dataset of a batch run, in partition order."""
    paths = sorted((Path(out) / name).glob("part-*.parquet"))
    schema = RESULTS[name]
    return pa.concat_tables(
        [schema.empty_table(), *(pq.read_table(p, schema=schema) for p in paths)]
    )
