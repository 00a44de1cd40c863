"""Read an upload back with the project's own parser, exactly as ``crmemu check`` would.

The counter's zone is the one to read in (not the zone an exporter may have wrongly written in):
that is how the service reads it, and how a time-zone mistake shows up as shifted dates. The
upload's own parameters give the delimiter and ``columns_mapping``; its ``sent_at`` is "now" for
the checks that depend on the upload time (a conversion in the future, the 21-day window).
"""

from __future__ import annotations

import io

from emulator.domain import UploadKind
from emulator.formats import (
    FormatOptions,
    ParseResult,
    delimiter_from_type,
    parse_columns_mapping,
    parse_csv,
    parse_json,
)
from emulator.sim.uploads import Upload

KINDS = {
    "contacts": UploadKind.CONTACTS,
    "orders": UploadKind.ORDERS,
    "simple_orders": UploadKind.SIMPLE_ORDERS,
    "offline_conversions": UploadKind.OFFLINE_CONVERSIONS,
    "calls": UploadKind.CALLS,
}


def parse_upload(upload: Upload, time_zone: str) -> ParseResult:
    """The ``ParseResult`` of an upload's body (not for the status mapping, which is no file)."""
    kind = KINDS[upload.kind]
    params = dict(upload.params)
    mapping = params.get("columns_mapping")
    options = FormatOptions(
        time_zone=time_zone,
        delimiter=delimiter_from_type(params.get("delimiter_type", "COMMA")),
        columns_mapping=parse_columns_mapping(mapping) if mapping else None,
        now=upload.sent_at,
    )
    if upload.multipart:
        return parse_csv(kind, io.BytesIO(upload.body), options)
    return parse_json(kind, upload.body, options)
