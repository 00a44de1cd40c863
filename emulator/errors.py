"""The real service's error envelope as an exception (project spec §2.4).

``{"errors":[{"error_type":..,"message":..,"location":..}],"code":<http>,"message":..}``
(https://yandex.ru/dev/metrika/ru/intro/errors). The engine raises :class:`ApiError`; the HTTP
adapter only serialises it, so in-process users see the very same codes and messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from emulator.domain import RowError

HTTP_STATUS_BY_TYPE: dict[str, int] = {
    "backend_error": 503,
    "invalid_parameter": 400,
    "missing_parameter": 400,
    "filter_limits": 400,
    "query_error": 400,
    "too_much_rows": 400,
    "invalid_uploading": 400,
    "invalid_json": 400,
    "limit_exceeded": 400,
    "not_found": 404,
    "access_denied": 403,
    "counter_in_connect": 403,
    "invalid_token": 403,
    "unauthorized": 401,
    "quota_requests_by_uid": 429,
    "quota_delegate_requests": 429,
    "quota_grants_requests": 429,
    "quota_requests_by_ip": 429,
    "quota_parallel_requests": 429,
    "quota_requests_by_counter_id": 429,
    "conflict": 409,
    "not_acceptable": 406,
    "timeout": 504,
    "method_not_allowed": 405,
    "payload_too_large": 413,
}

MAX_REPORTED_ROW_ERRORS = 100
"""How many row errors an ``invalid_uploading`` answer lists (the rest are counted)."""


@dataclass(frozen=True)
class ErrorItem:
    error_type: str
    message: str
    location: str | None = None

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"error_type": self.error_type, "message": self.message}
        if self.location is not None:
            item["location"] = self.location
        return item


@dataclass
class ApiError(Exception):
    """A failure answered in the documented envelope with its HTTP status."""

    error_type: str
    message: str
    location: str | None = None
    items: list[ErrorItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.items:
            self.items = [ErrorItem(self.error_type, self.message, self.location)]

    @property
    def status(self) -> int:
        return HTTP_STATUS_BY_TYPE.get(self.error_type, 400)

    def to_json(self) -> dict[str, Any]:
        return {
            "errors": [item.to_json() for item in self.items],
            "code": self.status,
            "message": self.message,
        }

    @classmethod
    def invalid_uploading(
        cls, errors: Iterable[RowError], total: int | None = None, json_key: str | None = None
    ) -> ApiError:
        """400 ``invalid_uploading`` listing the first row errors where they are: line and
        column in a file, or for a JSON body (``json_key``) the element and key as a path
        such as ``orders[2].id``."""
        listed = list(errors)
        count = total if total is not None else len(listed)
        shown = listed[:MAX_REPORTED_ROW_ERRORS]
        items = [
            ErrorItem("invalid_uploading", row.message, row.location(json_key)) for row in shown
        ]
        first = shown[0].describe(json_key) if shown else "the file is not valid"
        more = f" (and {count - 1} more)" if count > 1 else ""
        return cls("invalid_uploading", f"{first}{more}", items=items)
