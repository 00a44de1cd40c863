"""The Parquet world: which datasets a simulated world is written as, and how they are split.

A world directory holds a manifest (``world.json``), one row per upload (``uploads.parquet``)
and partitioned datasets, each a directory of ``part-NNNNN.parquet`` files (one per partition,
missing when it is empty)::

    visits/     every visit, split by a hash of its ClientID
    captures/   the e-mail/phone MD5s advanced matching recorded on a visit, split like visits
    keys/       identity keys other than ClientIDs (captured MD5s, yclids; UserIDs and
                PurchaseIds where visits carry them) with the ClientID of the visit that
                carries them, split by a hash of the key
    orders/     order and simple-order rows as the engine parses them, with their upload's seq
    contacts/   contact rows, likewise
    offline/    offline-conversion rows, likewise
    calls/      call rows, likewise

The four upload datasets are split by *subject*: CRM rows by their customer (every customer an
order ever names lands in one partition, see :mod:`emulator.batch.subjects`), offline rows by the
identifier they carry. Whatever links one subject's rows to visits can then be answered by
fetching the visits of its keys, partition by partition (:mod:`emulator.batch.stages`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emulator.domain import UploadKind
from emulator.engine.columns import SCHEMAS
from emulator.engine.visits import VISIT_SCHEMA
from emulator.formats.hashing import hash_numbers, hash_strings

FORMAT = 1
MANIFEST = "world.json"
UPLOADS = "uploads.parquet"
LABEL = pa.dictionary(pa.int32(), pa.string())
LABELS = frozenset(f.name for f in VISIT_SCHEMA if pa.types.is_string(f.type)) - {
    "user_id",
    "purchase_id",
}
"""Visit columns with few distinct values, stored dictionary-encoded."""
MD5_LISTS = ("email_md5", "phone_md5")

VISITS = pa.schema(
    [
        pa.field(f.name, LABEL if f.name in LABELS else f.type)
        for f in VISIT_SCHEMA
        if f.name not in MD5_LISTS
    ]
)
CAPTURES = pa.schema(
    [
        pa.field("visit_id", pa.int64()),
        pa.field("client_id", pa.uint64()),
        *(VISIT_SCHEMA.field(name) for name in MD5_LISTS),
    ]
)
KEYS = pa.schema(
    [
        pa.field("kind", pa.string()),
        pa.field("key", pa.uint64()),
        pa.field("client_id", pa.uint64()),
    ]
)
SEQ = pa.field("seq", pa.int32())

UPLOAD_DATASETS: dict[UploadKind, str] = {
    UploadKind.ORDERS: "orders",
    UploadKind.SIMPLE_ORDERS: "orders",
    UploadKind.CONTACTS: "contacts",
    UploadKind.OFFLINE_CONVERSIONS: "offline",
    UploadKind.CALLS: "calls",
}
DATASETS: dict[str, pa.Schema] = {
    "visits": VISITS,
    "captures": CAPTURES,
    "keys": KEYS,
    **{name: pa.schema([SEQ, *SCHEMAS[kind]]) for kind, name in UPLOAD_DATASETS.items()},
}

UPLOAD_META = pa.schema(
    [
        SEQ,
        pa.field("sent_at", pa.timestamp("s", tz="UTC")),
        pa.field("kind", pa.string()),
        pa.field("params", pa.string()),
        pa.field("rows", pa.int64()),
        pa.field("errors", pa.int64()),
        pa.field("structural", pa.bool_()),
        pa.field("statuses", pa.list_(pa.string())),
        pa.field("mapping", pa.string()),
    ]
)
"""Per upload: its kind (``status_mapping``, ``contacts``, ``orders``…), query parameters as
JSON, valid rows, row errors (a structural one refuses an offline file), the distinct order
statuses it names, and a status mapping's body."""


def partitions_of_numbers(keys: np.ndarray, parts: int) -> np.ndarray:
    """Partition of each ``uint64`` key (a ClientID, an MD5 prefix, a yclid)."""
    hashed = hash_numbers(pa.array(np.asarray(keys, np.uint64), pa.uint64()))
    return (hashed % np.uint64(parts)).astype(np.int32)


def partitions_of_texts(values: pa.Array, parts: int) -> np.ndarray:
    """Partition of each text key (a customer, an offline identifier)."""
    if not len(values):
        return np.zeros(0, np.int32)
    return (hash_strings(values) % np.uint64(parts)).astype(np.int32)


def part_path(root: str | Path, dataset: str, part: int) -> Path:
    return Path(root) / dataset / f"part-{part:05d}.parquet"


def read_part(
    root: str | Path, dataset: str, part: int, columns: list[str] | None = None
) -> pa.Table:
    """One partition of a dataset (an empty table when the partition holds no rows)."""
    path = part_path(root, dataset, part)
    schema = DATASETS[dataset]
    if not path.exists():
        empty = schema.empty_table()
        return empty.select(columns) if columns else empty
    return pq.read_table(path, columns=columns, schema=schema)


def write_manifest(root: str | Path, manifest: dict[str, Any]) -> None:
    text = json.dumps({"format": FORMAT, **manifest}, ensure_ascii=False, sort_keys=True, indent=2)
    (Path(root) / MANIFEST).write_text(text + "\n", encoding="utf-8")


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of a world directory; a clear error when it is not one."""
    path = Path(root) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"{root} is not a Parquet world (no {MANIFEST}); write one with "
            "`crmemu simulate SETTINGS --out DIR --parquet`"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path}: world format {manifest.get('format')}, expected {FORMAT}")
    return manifest
