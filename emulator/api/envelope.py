"""Every failure as the documented error envelope (project spec §2.4), framework ones included.

``{"errors":[{"error_type","message","location"}],"code":<http>,"message":..}``
(https://yandex.ru/dev/metrika/ru/intro/errors). The engine raises
:class:`~emulator.errors.ApiError`; these handlers only serialise it. The framework's own
failures are translated: an unknown route is ``not_found`` (404), a wrong method 405 with an
``Allow`` header, a query parameter of the wrong type ``invalid_parameter`` or
``missing_parameter`` (400, never FastAPI's 422), and any unexpected exception
``backend_error`` with its documented 503 — never a stack trace. A client that disconnects
mid-request is one line in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from emulator.errors import HTTP_STATUS_BY_TYPE, ApiError

log = logging.getLogger(__name__)


@dataclass
class StatusError(ApiError):
    """An envelope with an explicit HTTP status (faults, framework codes without a type)."""

    code: int = 503
    headers: dict[str, str] | None = None

    @property
    def status(self) -> int:
        return self.code


def type_for_status(status: int) -> str:
    """The first documented error type answered with ``status`` (``backend_error`` if none)."""
    return next((t for t, s in HTTP_STATUS_BY_TYPE.items() if s == status), "backend_error")


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.to_json(), status_code=error.status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc, getattr(exc, "headers", None))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        message = f"no such resource: {request.method} {request.url.path}"
        return error_response(ApiError("not_found", message, "path"))
    if status == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
        error = StatusError(type_for_status(405), message, "method", code=405)
        return error_response(error, dict(exc.headers or {}))
    return error_response(StatusError(type_for_status(status), str(exc.detail), code=status))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = list(exc.errors())
    first = errors[0] if errors else {"type": "value_error", "loc": (), "msg": "invalid request"}
    location = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    error_type = "missing_parameter" if first.get("type") == "missing" else "invalid_parameter"
    message = f"{location or 'request'}: {first.get('msg', 'invalid value')}"
    return error_response(ApiError(error_type, message, location))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected failure on %s %s", request.method, request.url.path)
    error = ApiError("backend_error", "internal error of the emulator; see the server log")
    return error_response(error)


async def _disconnected(request: Request, exc: Exception) -> JSONResponse:
    """A client gone mid-request: one log line (nobody reads the answer)."""
    client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
    log.warning("%s disconnected during %s %s", client, request.method, request.url.path)
    return error_response(ApiError("invalid_uploading", "the client disconnected"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ClientDisconnect, _disconnected)
    app.add_exception_handler(Exception, _unexpected)
