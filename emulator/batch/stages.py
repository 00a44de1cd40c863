"""The partition functions of a batch run, one per stage; each reads and writes files only.

Linking an order needs the visits of every key its customer carries, and an MD5 or a yclid
leads to a visitor only through the visit that carries it. So each subject partition fetches
exactly the visits its subjects can link to, one shuffle per key type:

1. :func:`wants`: a subject partition asks for its ClientIDs (sent to the visit partitions)
   and its other keys (sent to the key partitions);
2. :func:`visitors`: a key partition answers with the ClientIDs of the visits carrying those
   keys (sent to the visit partitions, asked for the same subject partition);
3. :func:`fetch`: a visit partition sends every visit of the ClientIDs asked for, with the
   hashes advanced matching recorded on it, back to the subject partition that asked.

A subject partition then holds every visit of every ClientID it can reach, directly or through
a key: linking it alone gives the answer linking against all the visits would, and
:mod:`emulator.batch.replay` runs the engine on it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.batch import exchange, layout
from emulator.batch.plan import Plan
from emulator.engine.keys import hex_keys, plain_keys, text_keys
from emulator.engine.visits import VISIT_SCHEMA, IndexKind
from emulator.identity import normalize_email, normalize_phone

WANT_CLIENTS = pa.schema([pa.field("requester", pa.int32()), pa.field("client_id", pa.uint64())])
WANT_KEYS = pa.schema(
    [pa.field("requester", pa.int32()), pa.field("kind", pa.string()), pa.field("key", pa.uint64())]
)
FETCHED = pa.schema([pa.field("requester", pa.int32()), *VISIT_SCHEMA])


def _items(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name).combine_chunks()
    return pc.list_flatten(column) if pa.types.is_list(column.type) else column.drop_null()


def _asked(subjects: dict[str, pa.Table]) -> tuple[np.ndarray, dict[IndexKind, np.ndarray]]:
    """Every ClientID and every other key the partition's subjects carry (a superset of what
    the engine will look up: e-mails and phones are hashed both as sent and normalised)."""
    clients = [np.zeros(0, np.uint64)]
    keys: dict[IndexKind, list[np.ndarray]] = {kind: [] for kind in IndexKind}
    for table in subjects.values():
        names = set(table.column_names)
        for name in ("client_ids", "client_id"):
            if name in names:
                clients.append(np.asarray(_items(table, name).drop_null(), np.uint64))
        if "emails" in names:
            for name, clean in (("emails", normalize_email), ("phones", normalize_phone)):
                values = _items(table, name).drop_null()
                for normalize in (False, True):
                    found, usable = plain_keys(values, clean, normalize)
                    keys[IndexKind.MD5].append(found[usable])
            for name in ("emails_md5", "phones_md5"):
                digests = pc.utf8_lower(_items(table, name).drop_null())
                keys[IndexKind.MD5].append(hex_keys(digests))
        if "yclid" in names:
            keys[IndexKind.YCLID].append(np.asarray(_items(table, "yclid"), np.uint64))
        for kind in (IndexKind.USER_ID, IndexKind.PURCHASE_ID):
            if kind.value in names:
                keys[kind].append(text_keys(_items(table, kind.value)))
    unique = {kind: np.unique(np.concatenate(parts)) for kind, parts in keys.items() if parts}
    return np.unique(np.concatenate(clients)), unique


def wants(plan: Plan, part: int) -> int:
    """Stage 1 on subject partition ``part``: ask for the visits of its keys."""
    subjects = {
        name: layout.read_part(plan.world, name, part) for name in layout.UPLOAD_DATASETS.values()
    }
    clients, keys = _asked(subjects)
    sent = exchange.put(
        plan.exchange,
        "want_clients",
        part,
        pa.table(
            [pa.array(np.full(len(clients), part, np.int32)), pa.array(clients)],
            schema=WANT_CLIENTS,
        ),
        layout.partitions_of_numbers(clients, plan.parts),
    )
    kinds = [pa.array([kind.value] * len(values), pa.string()) for kind, values in keys.items()]
    values = np.concatenate([np.zeros(0, np.uint64), *keys.values()])
    table = pa.table(
        [
            pa.array(np.full(len(values), part, np.int32)),
            pa.concat_arrays([pa.array([], pa.string()), *kinds]),
            pa.array(values, pa.uint64()),
        ],
        schema=WANT_KEYS,
    )
    return sent + exchange.put(
        plan.exchange, "want_keys", part, table, layout.partitions_of_numbers(values, plan.parts)
    )


def visitors(plan: Plan, part: int) -> int:
    """Stage 2 on key partition ``part``: the ClientIDs of the visits carrying the keys asked
    for, asked of the visit partitions for the same subject partition."""
    asked = exchange.get(plan.exchange, "want_keys", part, WANT_KEYS)
    carried = layout.read_part(plan.world, "keys", part)
    found = asked.join(carried, keys=["kind", "key"], join_type="inner")
    pairs = (
        found.select(["requester", "client_id"]).group_by(["requester", "client_id"]).aggregate([])
    )
    pairs = pairs.select(WANT_CLIENTS.names).cast(WANT_CLIENTS)
    clients = np.asarray(pairs.column("client_id"), np.uint64)
    return exchange.put(
        plan.exchange,
        "want_visitors",
        part,
        pairs,
        layout.partitions_of_numbers(clients, plan.parts),
    )


def _matches(wanted: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` with ``values[i] == wanted[j]`` (``wanted`` sorted)."""
    lo = np.searchsorted(wanted, values, "left")
    hi = np.searchsorted(wanted, values, "right")
    count = hi - lo
    rows = np.repeat(np.arange(len(values)), count)
    first = np.repeat(np.cumsum(count) - count, count)
    return rows, lo[rows] + np.arange(len(rows)) - first


def with_captures(world: str, part: int, visits: pa.Table) -> pa.Table:
    """``visits`` of partition ``part`` as the engine stores visits: with the hashes advanced
    matching recorded on each (``email_md5``, ``phone_md5``)."""
    columns = {name: visits.column(name) for name in visits.column_names}
    captures = layout.read_part(world, "captures", part)
    ids = np.asarray(captures.column("visit_id"), np.int64)
    order = np.argsort(ids)
    at, found = _matches(ids[order], np.asarray(columns["visit_id"], np.int64))
    for name in layout.MD5_LISTS:
        place = np.full(len(visits), -1, np.int64)
        place[at] = order[found]
        columns[name] = captures.column(name).take(pa.array(place, pa.int64(), mask=place < 0))
    return pa.table([columns[f.name].cast(f.type) for f in VISIT_SCHEMA], schema=VISIT_SCHEMA)


def fetch(plan: Plan, part: int) -> int:
    """Stage 3 on visit partition ``part``: every visit of each ClientID asked for, to the
    subject partition that asked."""
    asked = pa.concat_tables(
        [
            exchange.get(plan.exchange, stage, part, WANT_CLIENTS)
            for stage in ("want_clients", "want_visitors")
        ]
    )
    asked = asked.group_by(["client_id", "requester"]).aggregate([]).sort_by("client_id")
    wanted = np.asarray(asked.column("client_id"), np.uint64)
    visits = layout.read_part(plan.world, "visits", part)
    rows, which = _matches(wanted, np.asarray(visits.column("client_id"), np.uint64))
    chosen = with_captures(plan.world, part, visits.take(pa.array(rows, pa.int64())))
    requester = np.asarray(asked.column("requester"), np.int32)[which]
    table = chosen.add_column(0, FETCHED.field("requester"), pa.array(requester))
    return exchange.put(plan.exchange, "visits", part, table, requester)
