"""Yclid conversions, the older generation of offline conversions, under
``/management/v1/counter/{counterId}/yclid_conversions`` (not under ``offline_conversions``).

https://tech.yandex.com/dev/metrika/doc/api2/management/yclid_conversion/upload.html:
``POST upload`` (multipart ``file``, query ``comment``) answers ``{"uploading": …}``; the list
(``limit``, ``offset``) and get-by-id routes answer ``{"uploadings": […]}`` and
``{"uploading": …}``. A ``YclidConversionUploading`` has ``id``, ``create_time``,
``source_quantity``, ``line_quantity``, ``comment`` and ``status`` (UPLOADED, EXPORTED,
MATCHED, PROCESSED, LINKAGE_FAILURE; https://tech.yandex.com.tr/dev/metrika/doc/api2/management/
yclid_conversion/class_yclidconversionuploading.html): no ``type``, ``client_id_type`` nor
PREPARED, so a waiting upload shows UPLOADED where the current routes show PREPARED.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from emulator import OfflineUploading
from emulator.api.bodies import uploaded_file
from emulator.api.common import MULTIPART_FILE, READ, WRITE, CounterId, off_loop, text_query
from emulator.api.guard import context
from emulator.api.offline import LIMIT, OFFSET
from emulator.api.views import iso_utc

router = APIRouter(
    prefix="/management/v1/counter/{counterId}/yclid_conversions", tags=["Yclid conversions"]
)
FIELDS = ("id", "source_quantity", "line_quantity", "comment")


def yclid_uploading(meta: OfflineUploading) -> dict[str, Any]:
    status = meta.status.value
    return {name: getattr(meta, name) for name in FIELDS} | {
        "create_time": iso_utc(meta.create_time),
        "status": "UPLOADED" if status == "PREPARED" else status,
    }


@router.post("/upload", dependencies=[WRITE], openapi_extra=MULTIPART_FILE)
async def upload(
    request: Request,
    counterId: CounterId,
    comment: str | None = text_query("Up to 255 characters", ["Direct clicks"]),
) -> dict[str, Any]:
    """A CSV of ``Yclid,Target,DateTime[,Price,Currency]`` rows; a row without ``Yclid`` is a
    row error, other identifier columns are not read."""
    api = context(request)
    async with uploaded_file(request, api.settings) as file:
        meta = await off_loop(api.emulator.upload_yclid_conversions, counterId, file, comment)
    return {"uploading": yclid_uploading(meta)}


@router.get("/uploadings", dependencies=[READ])
def uploadings(
    request: Request, counterId: CounterId, limit: int = LIMIT, offset: int = OFFSET
) -> dict[str, Any]:
    """The yclid uploadings, oldest first."""
    metas = context(request).emulator.yclid_uploadings(counterId, limit, offset)
    return {"uploadings": [yclid_uploading(m) for m in metas]}


@router.get("/uploading/{id}", dependencies=[READ])
def uploading(request: Request, counterId: CounterId, id: int) -> dict[str, Any]:
    """One yclid uploading; 404 ``not_found`` when the counter has none with this id."""
    return {"uploading": yclid_uploading(context(request).emulator.yclid_uploading(counterId, id))}
