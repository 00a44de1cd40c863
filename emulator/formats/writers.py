"""Writers: domain records to the CSV files and JSON bodies a CRM would send.

Each field is written by its rule (:mod:`emulator.formats.cellrules`), the same object
that reads it, so writing then parsing gives the records back (a property test checks
this for every kind). Date-times are written ``yyyy-MM-dd HH:mm:ss`` in the counter's zone
(``FormatOptions.time_zone``); offline ``DateTime`` as Unix seconds; amounts with a dot.

A column is written when it is required or at least one record has a value for it; custom
attributes (``attribute_values``) become one column each. For orders and contacts the
headers are renamed through ``FormatOptions.columns_mapping`` (e.g. the Russian headers
of the docs' sample). Values the CSV syntax cannot carry (a comma inside a goal id) raise
``ValueError`` rather than write a file that would be read differently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from operator import attrgetter
from typing import IO, Any

from emulator.domain import UploadKind
from emulator.formats.fields import SPECS, Field, KindSpec
from emulator.formats.options import FormatOptions


def _columns(spec: KindSpec, records: list[Any]) -> tuple[dict[Field, list[Any]], list[str]]:
    """The values of each field worth a column (required, or sent by some record), and the
    custom attribute names in order."""
    fields = {}
    for f in spec.fields:
        values = list(map(attrgetter(f.name), records))
        if f.required or values.count(None) != len(values):
            fields[f] = values
    attributes: set[str] = set()
    if spec.attributes:
        for record in records:
            attributes.update(name for name, _ in record.attribute_values or ())
    return fields, sorted(attributes)


def write_csv(
    kind: UploadKind,
    records: Iterable[Any],
    stream: IO[str] | IO[bytes],
    options: FormatOptions | None = None,
) -> None:
    """Write ``records`` of ``kind`` as a CSV file (header first) to a text or binary stream."""
    options = options or FormatOptions()
    spec = SPECS[UploadKind(kind)]
    rows = list(records)
    fields, attributes = _columns(spec, rows)
    mapping = options.columns_mapping or {}
    header = [mapping.get(f.name, f.column) for f in fields]
    header += [mapping.get(name, name) for name in attributes]
    columns = [f.rule.to_cells(values, options) for f, values in fields.items()]
    if attributes:
        given = [dict(r.attribute_values or ()) for r in rows]
        columns += [[_text(g.get(name)) for g in given] for name in attributes]
    text = stream if isinstance(stream, io.TextIOBase) else _utf8(stream)  # type: ignore[arg-type]
    try:
        writer = csv.writer(text, delimiter=options.delimiter, lineterminator="\n")
        writer.writerow(header)
        if not any("\r" in "".join(column) for column in columns):
            writer.writerows(zip(*columns, strict=True))
        else:
            # csv quotes a cell holding "\n" but not one holding a lone "\r"; such rows are
            # written fully quoted so the "\r" cannot be read as a line break.
            quoted = csv.writer(
                text, delimiter=options.delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL
            )
            for cells in zip(*columns, strict=True):
                (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
    finally:
        if text is not stream:
            text.flush()
            text.detach()  # type: ignore[union-attr]


def _utf8(stream: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, "utf-8", newline="")  # type: ignore[arg-type]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def to_json(
    kind: UploadKind, records: Iterable[Any], options: FormatOptions | None = None
) -> dict[str, Any]:
    """The JSON body (``{"orders": [...]}`` or ``{"contacts": [...]}``) for ``records``.

    Date-times are written in ``options.time_zone`` when given, else in each value's own
    zone. The result holds only JSON types (amounts as int or float, 15 significant digits
    exact), ready for ``json.dumps``.
    """
    spec = SPECS[UploadKind(kind)]
    if spec.json_key is None:
        raise ValueError(f"{kind} has no JSON form; only orders and contacts do")
    items = []
    for record in records:
        item: dict[str, Any] = {}
        for f in spec.fields:
            value = getattr(record, f.name)
            if value is not None:
                item[f.name] = f.rule.to_json(value, options)
        if record.attribute_values is not None:
            item["attribute_values"] = dict(record.attribute_values)
        items.append(item)
    return {spec.json_key: items}
