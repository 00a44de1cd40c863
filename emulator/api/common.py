"""Pieces every router shares: parameter declarations, OpenAPI bodies, engine calls off-loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from starlette.concurrency import run_in_threadpool

from emulator.api.guard import MANAGE_SCOPES, READ_SCOPES, WRITE_SCOPES, guard
from emulator.api.quotas import CLIENT_READ, CLIENT_WRITE, REPORT_READ

T = TypeVar("T")

READ = guard(READ_SCOPES, CLIENT_READ)
WRITE = guard(WRITE_SCOPES, CLIENT_WRITE)
MANAGE = guard(MANAGE_SCOPES, CLIENT_WRITE)
REPORT = guard(READ_SCOPES, REPORT_READ)

INT32_MAX = 2**31 - 1
CounterId = Annotated[
    int,
    Path(description="Counter id (int32), e.g. 2215573", examples=[2215573], ge=1, le=INT32_MAX),
]


def text_query(
    description: str, examples: list[str] | None = None, alias: str | None = None
) -> Any:
    """An optional string query parameter whose value the engine itself validates."""
    return Query(None, description=description, examples=examples, alias=alias)


MULTIPART_FILE = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def json_body(schema: dict[str, Any], *extra_types: str) -> dict[str, Any]:
    """An OpenAPI request body of JSON (under ``application/json`` and ``extra_types``)."""
    content = {media: {"schema": schema} for media in ("application/json", *extra_types)}
    return {"requestBody": {"required": True, "content": content}}


def list_body(key: str, item: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"<key>": [<item>, ...]}`` as an OpenAPI JSON body."""
    items = item or {"type": "object"}
    schema = {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": items}},
    }
    return json_body(schema)


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run an engine call in the thread pool: the engine blocks on SQLite and its lock."""
    return await run_in_threadpool(fn, *args)
