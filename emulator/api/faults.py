"""Injected faults: the next N requests on a route answer a given code, or answer late.

``POST /_emulator/faults`` with ``{"path": "/cdp/api/v1/counter/*/data/simple_orders",
"method": "POST", "count": 2, "status": 503, "delay_seconds": 0.5}`` lets an integrator test
retries and timeouts. ``path`` is a shell-style pattern over the request path (``.json``
suffix already removed) or a route template exactly as the OpenAPI document lists it
(``/cdp/api/v1/counter/{counterId}/data/simple_orders``). Faults touch the real routes only,
never ``/_emulator``; the oldest matching fault is used first.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any

from emulator.api.envelope import StatusError, type_for_status
from emulator.errors import HTTP_STATUS_BY_TYPE, ApiError

MAX_DELAY_SECONDS = 120.0


@dataclass
class Fault:
    path: str
    method: str | None = None
    count: int = 1
    status: int | None = None
    delay_seconds: float = 0.0
    error_type: str | None = None
    message: str | None = None

    def matches(self, method: str, path: str, template: str | None) -> bool:
        if self.method is not None and self.method != method:
            return False
        return fnmatchcase(path, self.path) or (template is not None and template == self.path)

    def error(self) -> StatusError | None:
        if self.status is None:
            return None
        error_type = self.error_type or type_for_status(self.status)
        message = self.message or f"injected fault: {self.status} {error_type}"
        retry = {"Retry-After": "1"} if self.status in (429, 503) else None
        return StatusError(error_type, message, code=self.status, headers=retry)

    @classmethod
    def from_body(cls, body: Any) -> Fault:
        """Validate the control route's JSON (400 ``invalid_parameter`` on anything odd)."""
        if not isinstance(body, dict):
            raise ApiError("invalid_json", "the body must be a JSON object")
        unknown = sorted(set(body) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise ApiError("invalid_parameter", f"unknown field(s): {', '.join(unknown)}")
        try:
            fault = cls(**body)
        except TypeError as exc:
            raise ApiError("invalid_parameter", str(exc)) from None
        fault.check()
        if fault.method is not None:
            fault.method = fault.method.upper()
        return fault

    def check(self) -> None:
        problems = []
        if not isinstance(self.path, str) or not self.path.startswith(("/", "*")):
            problems.append("path must be a request path or pattern starting with '/'")
        if self.method is not None and not isinstance(self.method, str):
            problems.append("method must be a string")
        if not _whole(self.count) or self.count < 1:
            problems.append("count must be a whole number >= 1")
        if self.status is not None and (not _whole(self.status) or not 400 <= self.status < 600):
            problems.append("status must be an HTTP error code (400-599)")
        delay = self.delay_seconds
        if not isinstance(delay, int | float) or isinstance(delay, bool):
            problems.append("delay_seconds must be a number")
        elif not 0 <= delay <= MAX_DELAY_SECONDS:
            problems.append(f"delay_seconds must be within 0..{MAX_DELAY_SECONDS:g}")
        if self.status is None and not delay:
            problems.append("give a status, a delay_seconds, or both")
        if self.error_type is not None and self.error_type not in HTTP_STATUS_BY_TYPE:
            problems.append(f"error_type {self.error_type!r} is not a documented type")
        if problems:
            raise ApiError("invalid_parameter", "; ".join(problems))


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str, template: str | None) -> Fault | None:
        """The first fault matching this request, with one use consumed."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, template):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
