"""The timeline: every request an integrator's pipeline would send, as pure data, in order.

Batches collected by the exporter jobs become :class:`Upload`s here: the real path under the API
root with the counter id filled in, the query parameters, and the body serialised by
``emulator.formats`` (the project's one set of CSV/JSON writers). Responses never feed back into
the world, so the timeline can be sent anywhere, any number of times.

Routes and parameters: spec §3, §4.1–4.6 (CDP) and §7.3, §7.7 (offline conversions, calls).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.domain import UploadKind
from emulator.formats import (
    FormatOptions,
    delimiter_from_type,
    status_mapping_to_json,
    to_json,
    write_csv,
)
from emulator.sim.calendar import DAY, SimCalendar
from emulator.sim.exporters import Batch
from emulator.sim.settings import Exporter, Settings

CDP = "/cdp/api/v1/counter/{counter_id}"
OFFLINE = "/management/v1/counter/{counter_id}/offline_conversions"

# The Russian headers of the docs' orders sample (spec §4.2) and their contact counterparts.
RUSSIAN_ORDER_HEADERS = {
    "id": "ИД",
    "client_uniq_id": "ИД клиента",
    "client_type": "Тип клиента",
    "order_status": "Статус",
    "create_date_time": "Дата создания",
    "update_date_time": "Дата изменения",
    "finish_date_time": "Дата завершения",
    "revenue": "Сумма",
    "cost": "Себестоимость",
    "currency": "Валюта",
    "goals": "Цели",
    "products": "Товары",
    "attribute_values": "Атрибуты",
    "user_comment": "Комментарий",
}
RUSSIAN_CONTACT_HEADERS = {
    "uniq_id": "ИД",
    "name": "ФИО",
    "create_date_time": "Дата создания",
    "update_date_time": "Дата изменения",
    "client_ids": "ClientID",
    "emails": "Email",
    "phones": "Телефоны",
    "emails_md5": "Email MD5",
    "phones_md5": "Телефоны MD5",
    "birth_date": "Дата рождения",
    "user_comment": "Комментарий",
    "attribute_values": "Атрибуты",
}

CSV = "text/csv"
JSON = "application/json"


@dataclass(frozen=True)
class Upload:
    """One request of the timeline.

    ``path`` is relative to the API root (``https://api-metrika.yandex.net`` or an emulator's base
    URL). A ``text/csv`` body is sent as the multipart part ``file`` named ``file_name``; an
    ``application/json`` body is the request body itself.
    """

    seq: int
    sent_at: datetime
    kind: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str
    records: tuple[Any, ...]
    exporter: str
    reason: str
    collected_at: datetime
    file_name: str = "data.csv"

    @property
    def multipart(self) -> bool:
        return self.content_type == CSV

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def stored_name(self) -> str:
        """The file name under ``uploads/`` in a run's output."""
        extension = "csv" if self.multipart else "json"
        return f"{self.seq:06d}-{self.kind}.{extension}"


def build_timeline(
    batches: Sequence[Batch], settings: Settings, calendar: SimCalendar
) -> tuple[Upload, ...]:
    """Serialise batches into uploads, ordered by the time they are sent."""
    order = sorted(range(len(batches)), key=lambda i: (send_time(batches[i], settings), i))
    return tuple(
        upload_of(seq, batches[index], settings, calendar)
        for seq, index in enumerate(order, start=1)
    )


def send_time(batch: Batch, settings: Settings) -> float:
    """Sim time at which ``batch`` is sent: when it was collected plus its exporter's delay."""
    return batch.at + settings.export.exporters[batch.exporter].delay_days * DAY


def upload_of(seq: int, batch: Batch, settings: Settings, calendar: SimCalendar) -> Upload:
    """The request that sends ``batch`` as the ``seq``-th upload of the timeline."""
    return _upload(seq, batch, settings.export.exporters[batch.exporter], settings, calendar)


def counter_config(settings: Settings) -> dict[str, Any]:
    """The counter a run needs (``PUT /_emulator/counters/{id}``): zone, token and JS goals."""
    sim, export = settings.simulation, settings.export
    goals = [
        {"id": g.id, "name": g.name, "identifier": g.identifier}
        for g in sim.crm.pipeline_spec().goals
    ]
    targets = sorted(
        {e.target for e in export.exporters.values() if e.format == "offline_conversions"}
    )
    for offset, target in enumerate(targets):
        if target not in {g["identifier"] for g in goals}:
            goals.append(
                {"id": export.offline_goal_id + offset, "name": target, "identifier": target}
            )
    return {
        "time_zone": sim.time_zone,
        "tokens": {export.token: ["metrika:read", "metrika:write", "metrika:offline_data"]},
        "goals": goals,
        "rules": {},
    }


def columns_mapping_param(mapping: Mapping[str, str]) -> str:
    """``"attr":"Header",...`` as the ``columns_mapping`` query parameter (spec §4.2)."""
    return ",".join(f'"{attr}":"{header}"' for attr, header in mapping.items())


def _upload(
    seq: int, batch: Batch, spec: Exporter, settings: Settings, calendar: SimCalendar
) -> Upload:
    counter = {"counter_id": settings.export.counter_id}
    sent_at = calendar.local(batch.at + spec.delay_days * DAY)
    route = _route(batch.kind, spec)
    path = route.path.format(**counter)
    params = list(route.params(spec))
    options = _options(settings, spec, route.headers if spec.russian_headers else None)
    if route.upload_kind is None:
        body = _json(status_mapping_to_json(list(batch.records)))
    elif route.content_type == JSON:
        body = _json(to_json(route.upload_kind, batch.records, options))
    else:
        body = _csv(route.upload_kind, batch.records, options)
        if options.columns_mapping:
            written = _written_mapping(body, options.columns_mapping, options.delimiter)
            params.append(("columns_mapping", columns_mapping_param(written)))
    return Upload(
        seq=seq,
        sent_at=sent_at,
        kind=batch.kind,
        method="POST",
        path=path,
        params=tuple(params),
        body=body,
        content_type=route.content_type,
        records=batch.records,
        exporter=batch.exporter,
        reason=batch.reason,
        collected_at=calendar.local(batch.at),
    )


@dataclass(frozen=True)
class _Route:
    path: str
    content_type: str
    upload_kind: UploadKind | None
    headers: Mapping[str, str] | None = None
    crm: bool = True

    def params(self, spec: Exporter) -> list[tuple[str, str]]:
        if self.upload_kind is None:
            return []
        if not self.crm:
            extra = (
                [("type", "BASIC")] if self.upload_kind is UploadKind.OFFLINE_CONVERSIONS else []
            )
            return [("comment", spec.comment), *extra]
        params = [("merge_mode", spec.merge_mode)]
        if self.content_type == CSV:
            params.append(("delimiter_type", spec.delimiter))
        return params


def _route(kind: str, spec: Exporter) -> _Route:
    as_json = spec.format == "orders_json"
    if kind == "status_mapping":
        return _Route(CDP + "/schema/order_statuses", JSON, None)
    if kind in ("contacts", "orders"):
        upload_kind = UploadKind.CONTACTS if kind == "contacts" else UploadKind.ORDERS
        suffix = "json" if as_json else "csv"
        headers = RUSSIAN_CONTACT_HEADERS if kind == "contacts" else RUSSIAN_ORDER_HEADERS
        return _Route(f"{CDP}/data/{kind}/{suffix}", JSON if as_json else CSV, upload_kind, headers)
    if kind == "simple_orders":
        return _Route(CDP + "/data/simple_orders", CSV, UploadKind.SIMPLE_ORDERS)
    if kind == "offline_conversions":
        return _Route(OFFLINE + "/upload", CSV, UploadKind.OFFLINE_CONVERSIONS, crm=False)
    if kind == "calls":
        return _Route(OFFLINE + "/upload_calls", CSV, UploadKind.CALLS, crm=False)
    raise ValueError(f"unknown batch kind {kind!r}")


def _options(
    settings: Settings, spec: Exporter, mapping: Mapping[str, str] | None
) -> FormatOptions:
    zone = "UTC" if spec.time_zone_mistake else settings.simulation.time_zone
    return FormatOptions(
        time_zone=zone,
        delimiter=delimiter_from_type(spec.delimiter),
        columns_mapping=dict(mapping) if mapping else None,
    )


def _csv(kind: UploadKind, records: Sequence[Any], options: FormatOptions) -> bytes:
    stream = io.StringIO(newline="")
    write_csv(kind, records, stream, options)
    return stream.getvalue().encode("utf-8")


def _written_mapping(body: bytes, mapping: Mapping[str, str], delimiter: str) -> dict[str, str]:
    """The mapping entries for the columns the writer actually wrote (it leaves out columns
    no record has a value for), so ``columns_mapping`` names only headers of the file."""
    first_line = body.split(b"\n", 1)[0].decode("utf-8")
    header = set(next(csv.reader([first_line], delimiter=delimiter)))
    return {attr: column for attr, column in mapping.items() if column in header}


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
