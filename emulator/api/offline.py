"""Offline conversions and calls under ``/management/v1/counter/{counterId}/offline_conversions``.

Current routes (spec §7.3-§7.5, §7.7): ``upload``, ``uploadings``, ``uploading/{id}``,
``upload_calls``, ``calls_uploadings``, ``calls_uploading/{id}``. Legacy routes of the old docs
and SDKs (§7.6): ``[calls_]extended_threshold`` (POST on, DELETE off, ``{"success": true}``)
and ``[calls_]visit_join_threshold`` (``{"date": ...}``, the shape an R SDK reads). The legacy
``client_id_type`` query parameter (A14) is passed to the engine, which echoes it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from emulator.api.bodies import uploaded_file
from emulator.api.common import MULTIPART_FILE, READ, WRITE, CounterId, off_loop, text_query
from emulator.api.guard import context
from emulator.api.views import iso_utc, offline_uploading

router = APIRouter(
    prefix="/management/v1/counter/{counterId}/offline_conversions",
    tags=["Offline conversions and calls"],
)

COMMENT = text_query("Up to 255 characters", ["CRM export"])
CLIENT_ID_TYPE = text_query("Legacy: CLIENT_ID, USER_ID or YCLID (echoed back)", ["CLIENT_ID"])
LIMIT = Query(10_000, ge=0, le=2**31 - 1)
OFFSET = Query(0, ge=0, le=2**31 - 1)
SUCCESS = {"success": True}


@router.post("/upload", dependencies=[WRITE], openapi_extra=MULTIPART_FILE)
async def upload(
    request: Request,
    counterId: CounterId,
    comment: str | None = COMMENT,
    upload_type: str | None = text_query("BASIC (default), CALLS or CHATS", ["BASIC"], "type"),
    client_id_type: str | None = CLIENT_ID_TYPE,
) -> dict[str, Any]:
    """upload_1 (§7.3)."""
    api = context(request)
    async with uploaded_file(request, api.settings) as file:
        meta = await off_loop(
            api.emulator.upload_offline_conversions,
            counterId,
            file,
            comment,
            upload_type,
            client_id_type,
        )
    return {"uploading": offline_uploading(meta)}


@router.post("/upload_calls", dependencies=[WRITE], openapi_extra=MULTIPART_FILE)
async def upload_calls(
    request: Request,
    counterId: CounterId,
    comment: str | None = COMMENT,
    new_goal_name: str | None = text_query("Goal the calls count against (created if missing)"),
    client_id_type: str | None = CLIENT_ID_TYPE,
) -> dict[str, Any]:
    """uploadCalls (§7.7)."""
    api = context(request)
    async with uploaded_file(request, api.settings) as file:
        meta = await off_loop(
            api.emulator.upload_calls, counterId, file, comment, new_goal_name, client_id_type
        )
    return {"uploading": offline_uploading(meta)}


def _list(request: Request, counter_id: int, limit: int, offset: int, calls: bool):
    metas = context(request).emulator.offline_uploadings(counter_id, limit, offset, calls)
    return {"uploadings": [offline_uploading(m) for m in metas]}


def _one(request: Request, counter_id: int, uploading_id: int, calls: bool):
    meta = context(request).emulator.offline_uploading(counter_id, uploading_id, calls)
    return {"uploading": offline_uploading(meta)}


@router.get("/uploadings", dependencies=[READ])
def uploadings(
    request: Request, counterId: CounterId, limit: int = LIMIT, offset: int = OFFSET
) -> dict[str, Any]:
    """findAll_1 (§7.4)."""
    return _list(request, counterId, limit, offset, calls=False)


@router.get("/uploading/{id}", dependencies=[READ])
def uploading_by_id(request: Request, counterId: CounterId, id: int) -> dict[str, Any]:
    """findById_1 (§7.5)."""
    return _one(request, counterId, id, calls=False)


@router.get("/calls_uploadings", dependencies=[READ])
def calls_uploadings(
    request: Request, counterId: CounterId, limit: int = LIMIT, offset: int = OFFSET
) -> dict[str, Any]:
    """Calls uploadings (§7.6, §7.7)."""
    return _list(request, counterId, limit, offset, calls=True)


@router.get("/calls_uploading/{id}", dependencies=[READ])
def calls_uploading_by_id(request: Request, counterId: CounterId, id: int) -> dict[str, Any]:
    """One calls uploading (§7.6, §7.7)."""
    return _one(request, counterId, id, calls=True)


def _switch(request: Request, counter_id: int, enabled: bool, calls: bool) -> dict[str, Any]:
    context(request).emulator.set_extended_threshold(counter_id, enabled, calls)
    return SUCCESS


def _threshold(request: Request, counter_id: int, calls: bool) -> dict[str, Any]:
    found = context(request).emulator.visit_join_threshold(counter_id, calls)
    enabled_at = found["enabled_at"]
    return {
        "date": iso_utc(found["date"]),
        "extended_threshold": found["extended_threshold"],
        "enabled_at": None if enabled_at is None else iso_utc(enabled_at),
    }


@router.post("/extended_threshold", dependencies=[WRITE])
def enable_extended_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
    """Legacy enableExtendedThreshold (§7.6)."""
    return _switch(request, counterId, True, calls=False)


@router.delete("/extended_threshold", dependencies=[WRITE])
def disable_extended_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
    """Legacy disableExtendedThreshold (§7.6)."""
    return _switch(request, counterId, False, calls=False)


@router.get("/visit_join_threshold", dependencies=[READ])
def visit_join_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
    """Legacy getVisitJoinThreshold (§7.6)."""
    return _threshold(request, counterId, calls=False)


@router.post("/calls_extended_threshold", dependencies=[WRITE])
def enable_calls_extended_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
    """Legacy enableCallsExtendedThreshold (§7.6)."""
    return _switch(request, counterId, True, calls=True)


@router.delete("/calls_extended_threshold", dependencies=[WRITE])
def disable_calls_extended_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
    """Legacy disableCallsExtendedThreshold (§7.6)."""
    return _switch(request, counterId, False, calls=True)


@router.get("/calls_visit_join_threshold", dependencies=[READ])
def calls_visit_join_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
    """Legacy getCallsVisitJoinThreshold (§7.6)."""
    return _threshold(request, counterId, calls=True)
