"""Offline conversions and calls under ``/management/v1/counter/{counterId}/offline_conversions``.

Current routes (spec §7.3-§7.5, §7.7): ``upload`` (``type`` ``BASIC``, ``CALLS`` or ``CHATS``),
``uploadings`` (of one ``type``, ``BASIC`` by default), ``uploading/{id}``, ``upload_calls``,
``calls_uploadings``, ``calls_uploading/{id}``. Legacy routes of the old docs
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


def _family_routes(prefix: str, calls: bool, what: str) -> None:
    """The list, get-by-id and legacy threshold routes of offline conversions (``prefix``
    empty) or of calls (``calls_``): the same shapes over the engine's two families."""

    def list_uploadings(
        request: Request, counterId: CounterId, limit: int = LIMIT, offset: int = OFFSET
    ) -> dict[str, Any]:
        metas = context(request).emulator.offline_uploadings(counterId, limit, offset, calls)
        return {"uploadings": [offline_uploading(m) for m in metas]}

    def get_uploading(request: Request, counterId: CounterId, id: int) -> dict[str, Any]:
        meta = context(request).emulator.offline_uploading(counterId, id, calls)
        return {"uploading": offline_uploading(meta)}

    def enable_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
        context(request).emulator.set_extended_threshold(counterId, True, calls)
        return SUCCESS

    def disable_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
        context(request).emulator.set_extended_threshold(counterId, False, calls)
        return SUCCESS

    def visit_join_threshold(request: Request, counterId: CounterId) -> dict[str, Any]:
        found = context(request).emulator.visit_join_threshold(counterId, calls)
        enabled_at = found["enabled_at"]
        return {
            "date": iso_utc(found["date"]),
            "extended_threshold": found["extended_threshold"],
            "enabled_at": None if enabled_at is None else iso_utc(enabled_at),
        }

    listing = [("GET", "uploadings", list_uploadings, READ, f"{what} uploadings, oldest first")]
    for method, path, endpoint, access, summary in (
        *(listing if calls else []),
        ("GET", "uploading/{id}", get_uploading, READ, f"One {what} uploading"),
        ("POST", "extended_threshold", enable_threshold, WRITE, "Legacy: extended period on"),
        ("DELETE", "extended_threshold", disable_threshold, WRITE, "Legacy: extended period off"),
        ("GET", "visit_join_threshold", visit_join_threshold, READ, "Legacy: earliest visit"),
    ):
        router.add_api_route(
            f"/{prefix}{path}",
            endpoint,
            methods=[method],
            dependencies=[access],
            summary=f"{summary} (§7.4-§7.7)",
            name=f"{endpoint.__name__}_{what}",
        )


@router.get("/uploadings", dependencies=[READ], summary="offline uploadings, oldest first")
def list_offline_uploadings(
    request: Request,
    counterId: CounterId,
    limit: int = LIMIT,
    offset: int = OFFSET,
    upload_type: str | None = text_query("BASIC (default), CALLS or CHATS", ["CHATS"], "type"),
) -> dict[str, Any]:
    """findAll_1 with its ``type`` filter (https://yandex.com.tr/dev/metrika/en/management/
    openapi/offline_conversions/findAll_1): the uploadings of one type, whichever upload route
    took them; chats are ``type=CHATS`` (https://yandex.com/dev/metrika/en/management/openapi/
    chats/upload_chats.md)."""
    metas = context(request).emulator.offline_uploadings(
        counterId, limit, offset, upload_type=upload_type or "BASIC"
    )
    return {"uploadings": [offline_uploading(m) for m in metas]}


_family_routes("", calls=False, what="offline")
_family_routes("calls_", calls=True, what="calls")
