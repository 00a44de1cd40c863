"""Yclid conversions, the older generation of offline conversions: the offline-conversions file
with ``Yclid`` as the only visitor identifier.

https://tech.yandex.com/dev/metrika/doc/api2/management/yclid_conversion/upload.html: routes
under ``/management/v1/counter/{counterId}/yclid_conversions/``, a CSV such as
``Yclid,Target,DateTime,Price,Currency``. Rows are checked, recorded and linked as offline
conversions are (a Direct click id finds its visit, :mod:`.offline`); their uploadings are a
family of their own, listed apart from ``offline_conversions/uploadings``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from emulator.domain import RowError
from emulator.engine.accept import Parsed

YCLID = "yclid"
"""The uploadings family of yclid conversions."""
OTHER_IDENTIFIERS = ("client_id", "user_id", "purchase_id")


def yclid_only(batches: Iterable[Parsed]) -> Iterator[Parsed]:
    """Rows without a ``Yclid`` become row errors; other identifier columns are not read."""
    for batch in batches:
        rows = batch.rows
        sent = pc.is_valid(rows.column("yclid"))
        missing = rows.filter(pc.invert(sent)).column("line").to_pylist()
        errors = [RowError(line, "Yclid", "a yclid conversion needs a Yclid") for line in missing]
        kept = rows.filter(sent)
        for name in OTHER_IDENTIFIERS:
            column = kept.schema.get_field_index(name)
            kept = kept.set_column(
                column, kept.schema.field(name), pa.nulls(len(kept), kept.schema.field(name).type)
            )
        yield Parsed(kept, [*batch.errors, *errors], batch.seen)
