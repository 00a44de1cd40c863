"""The 13 CDP (CRM data) routes under ``/cdp/api/v1/counter/{counterId}`` (spec §3, §4).

Each route reads its parameters and body and hands them to the engine untouched: the engine
validates ``merge_mode``, ``delimiter_type``, ``columns_mapping``, ``entity_type`` and the data,
and raises the documented error when something is wrong. The legacy ``POST data/orders`` and
``POST data/contacts`` (old ``doc/api2`` generation, spec §3) take CSV (multipart) or JSON on
one path, told apart by the content type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from fastapi import APIRouter, Query, Request

from emulator.api.bodies import MULTIPART, json_document, media_type, uploaded_file
from emulator.api.common import (
    MULTIPART_FILE,
    READ,
    WRITE,
    CounterId,
    json_body,
    list_body,
    off_loop,
    text_query,
)
from emulator.api.guard import context
from emulator.api.jsonbody import json_object
from emulator.api.views import UPLOAD_TIME, uploading
from emulator.domain import Uploading
from emulator.errors import ApiError
from emulator.serialize import to_jsonable

router = APIRouter(prefix="/cdp/api/v1/counter/{counterId}", tags=["CDP: CRM data"])

MERGE_MODE = text_query("SAVE, UPDATE or APPEND (required)", ["SAVE"])
DELIMITER = text_query("COMMA (default) or SEMICOLON", ["COMMA"])
COLUMNS_MAPPING = text_query(
    'Pairs "attribute":"Column header" joined by commas', ['"id":"ИД","order_status":"Статус"']
)
ENTITY_TYPE = text_query("CONTACT, COMPANY, ORDER or SIMPLE_ORDER (required)", ["CONTACT"])
ENTITY_SUBTYPE = text_query("Legacy parameter of old SDKs; accepted and ignored")
SUCCESS = {"success": True}


async def _answer(request: Request, counter_id: int, meta: Uploading) -> dict[str, Any]:
    config = await off_loop(context(request).emulator.counter, counter_id)
    return {"uploading": uploading(meta, config.tz)}


async def _csv(request: Request, counter_id: int, upload: Callable[[IO[bytes]], Uploading]):
    async with uploaded_file(request, context(request).settings) as file:
        meta = await off_loop(upload, file)
    return await _answer(request, counter_id, meta)


async def _json(request: Request, counter_id: int, upload: Callable[[Any], Uploading]):
    async with json_document(request, context(request).settings, exact=True) as body:
        meta = await off_loop(upload, json_object(body))
    return await _answer(request, counter_id, meta)


@router.post("/data/simple_orders", dependencies=[WRITE], openapi_extra=MULTIPART_FILE)
async def upload_simple_orders(
    request: Request,
    counterId: CounterId,
    merge_mode: str | None = MERGE_MODE,
    delimiter_type: str | None = DELIMITER,
) -> dict[str, Any]:
    """uploadSimpleOrders (§4.1): customers and orders in one CSV."""
    emu = context(request).emulator
    return await _csv(
        request,
        counterId,
        lambda f: emu.upload_simple_orders(counterId, f, merge_mode, delimiter_type),
    )


def legacy_body(key: str) -> dict[str, Any]:
    """A multipart ``file`` or a JSON ``{"<key>": [...]}`` body on one route."""
    content = {
        **MULTIPART_FILE["requestBody"]["content"],
        **list_body(key)["requestBody"]["content"],
    }
    return {"requestBody": {"required": True, "content": content}}


def _entity_routes(kind: str, csv_doc: str, json_doc: str) -> None:
    """``data/<kind>/csv``, ``data/<kind>/json`` and the legacy ``data/<kind>`` (orders or
    contacts: the same parameters, the engine's ``upload_<kind>_csv``/``_json``)."""

    async def upload_csv(
        request: Request,
        counterId: CounterId,
        merge_mode: str | None = MERGE_MODE,
        columns_mapping: str | None = COLUMNS_MAPPING,
        delimiter_type: str | None = DELIMITER,
    ) -> dict[str, Any]:
        upload = getattr(context(request).emulator, f"upload_{kind}_csv")
        return await _csv(
            request,
            counterId,
            lambda f: upload(counterId, f, merge_mode, columns_mapping, delimiter_type),
        )

    async def upload_json(
        request: Request, counterId: CounterId, merge_mode: str | None = MERGE_MODE
    ) -> dict[str, Any]:
        upload = getattr(context(request).emulator, f"upload_{kind}_json")
        return await _json(request, counterId, lambda body: upload(counterId, body, merge_mode))

    async def upload_legacy(
        request: Request,
        counterId: CounterId,
        merge_mode: str | None = MERGE_MODE,
        columns_mapping: str | None = COLUMNS_MAPPING,
        delimiter_type: str | None = DELIMITER,
    ) -> dict[str, Any]:
        if media_type(request) == MULTIPART:
            return await upload_csv(request, counterId, merge_mode, columns_mapping, delimiter_type)
        return await upload_json(request, counterId, merge_mode)

    for path, endpoint, body, summary in (
        (f"/data/{kind}/csv", upload_csv, MULTIPART_FILE, csv_doc),
        (f"/data/{kind}/json", upload_json, list_body(kind), json_doc),
        (f"/data/{kind}", upload_legacy, legacy_body(kind), "Legacy alias: CSV or JSON"),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            dependencies=[WRITE],
            openapi_extra=body,
            summary=summary,
            name=f"{endpoint.__name__}_{kind}",
        )


_entity_routes("orders", "uploadOrders (§4.2)", "uploadOrdersJson_1 (§4.3)")
_entity_routes("contacts", "uploadContacts (§4.4)", "uploadContactJson_1 (§4.5)")


async def _schema_write(request: Request, write: Callable[[Any], None]) -> dict[str, Any]:
    """Read the JSON body, hand it to the engine, answer ``{"success": true}``."""
    async with json_document(request, context(request).settings) as body:
        await off_loop(write, body)
    return SUCCESS


STATUS_ITEM = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "enum": ["IN_PROGRESS", "PAID", "CANCELLED", "SPAM", "OTHER"]},
        "humanized": {"type": "string"},
        "goal_action_ids": {"type": "array", "items": {"type": "string"}},
    },
}


@router.post(
    "/schema/order_statuses",
    dependencies=[WRITE],
    openapi_extra=list_body("order_statuses", STATUS_ITEM),
)
async def map_order_statuses(request: Request, counterId: CounterId) -> dict[str, Any]:
    """mapOrderStatuses (§4.6): an upsert by status id."""
    emu = context(request).emulator
    return await _schema_write(
        request, lambda body: emu.map_order_statuses(counterId, json_object(body))
    )


@router.get("/schema/order_statuses", dependencies=[READ])
def get_order_statuses(request: Request, counterId: CounterId) -> dict[str, Any]:
    """getOrderStatuses (§4.6)."""
    statuses = context(request).emulator.order_statuses(counterId)
    return {"order_statuses": to_jsonable(statuses)}


@router.post("/schema/attributes", dependencies=[WRITE], openapi_extra=list_body("attributes"))
async def create_attributes(
    request: Request,
    counterId: CounterId,
    entity_type: str | None = ENTITY_TYPE,
    entity_subtype: str | None = ENTITY_SUBTYPE,
) -> dict[str, Any]:
    """createAttributes (§4.7)."""
    emu = context(request).emulator
    return await _schema_write(
        request, lambda body: emu.create_attributes(counterId, entity_type, body)
    )


@router.get("/schema/attributes", dependencies=[READ])
def get_attributes(
    request: Request,
    counterId: CounterId,
    entity_type: str | None = ENTITY_TYPE,
    entity_subtype: str | None = ENTITY_SUBTYPE,
) -> dict[str, Any]:
    """getAttributes (§4.7)."""
    return context(request).emulator.attributes(counterId, entity_type)


PRODUCTS_BODY = json_body(
    {
        "type": "object",
        "required": ["attributes"],
        "properties": {
            "attributes": {"type": "array", "items": {"type": "object"}},
            "items": {"type": "array", "items": {"type": "object"}},
        },
    }
)


@router.post("/schema/products", dependencies=[WRITE], openapi_extra=PRODUCTS_BODY)
async def create_products(request: Request, counterId: CounterId) -> dict[str, Any]:
    """createProducts (§4.8)."""
    emu = context(request).emulator
    return await _schema_write(request, lambda body: emu.create_products(counterId, body))


@router.get("/schema/types", dependencies=[READ])
def get_types(request: Request, counterId: CounterId) -> dict[str, Any]:
    """getTypes (§4.9): the body is not documented; see docs/FIDELITY.md."""
    return {"types": context(request).emulator.attribute_types(custom=False)}


@router.get("/schema/predefined_types", dependencies=[READ])
def get_predefined_types(request: Request, counterId: CounterId) -> dict[str, Any]:
    """getPredefinedTypes (§4.9): the body is not documented; see docs/FIDELITY.md."""
    return {"types": context(request).emulator.attribute_types(custom=True)}


@router.get("/last_uploadings", dependencies=[READ])
def last_uploadings(
    request: Request,
    counterId: CounterId,
    limit: int = Query(10, description="1..1000"),
    datetime_offset: str | None = text_query(
        "Only uploads strictly before this yyyy-MM-dd HH:mm:ss (counter's zone)",
        ["2020-02-10 10:00:00"],
    ),
    source: str | None = text_query("API (the only value)", ["API"]),
) -> dict[str, Any]:
    """getLastUploadings (§4.10): newest first."""
    emu = context(request).emulator
    tz = emu.counter(counterId).tz
    if source is not None and source != "API":
        raise ApiError("invalid_parameter", f"source {source!r} is not API", "source")
    offset = None
    if datetime_offset:
        try:
            offset = datetime.strptime(datetime_offset, UPLOAD_TIME).replace(tzinfo=tz)
        except ValueError:
            raise ApiError(
                "invalid_parameter",
                f"datetime_offset {datetime_offset!r} is not yyyy-MM-dd HH:mm:ss",
                "datetime_offset",
            ) from None
    metas = emu.last_uploadings(counterId, limit, offset)
    return {"uploadings": [uploading(m, tz) for m in metas]}
