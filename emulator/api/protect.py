"""What keeps a web page in the user's browser, and a stalled client, from abusing the server.

An emulator on 127.0.0.1 is reachable from every page the user opens: a page may send
"simple" cross-site requests (no preflight) and, through DNS rebinding, may even read answers
under a name of its own that resolves to 127.0.0.1. :class:`Protect` stands before every route:

- **Host allow-list** (every route): the ``Host`` header must name ``localhost``,
  ``127.0.0.1``, ``[::1]``, the address the connection reached, or a name in
  ``allowed_hosts`` (``crmemu serve --allow-host``); otherwise 400 ``invalid_parameter``.
- **Control routes** (``/_emulator/*``) refuse what a page can send without a preflight
  (https://fetch.spec.whatwg.org/#cors-safelisted-request-header): a ``POST``, ``PUT`` or
  ``PATCH`` must declare ``Content-Type: application/json`` (``text/csv`` also on the visits
  route), else 415; a page cannot set that type cross-site without a preflight, which gets
  no CORS answer. (A ``DELETE`` is always preflighted, so it needs no type.) With an
  ``admin_token`` every control request also needs the header :data:`ADMIN_HEADER` (else
  401).
- **No CORS** headers unless ``cors_origins`` names origins (``*`` for any).
- **Stalled bodies**: a request body that sends nothing for ``body_timeout_seconds`` is
  answered 408 ``timeout`` (the docs name no code; HTTP's own code for it).

The real routes need no more: their token travels in a header no cross-site page can set
without a preflight, as long as ``?oauth_token=`` stays off (``query_token``).
"""

from __future__ import annotations

import hmac
import ipaddress
import re

import anyio
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.api.envelope import StatusError, error_response
from emulator.api.settings import ApiSettings
from emulator.errors import ApiError

ADMIN_HEADER = "X-Emulator-Admin-Token"
"""The header carrying the admin token to ``/_emulator/*`` (when one is configured)."""
CONTROL_PREFIX = "/_emulator"
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
JSON = "application/json"
CSV = "text/csv"
CSV_ROUTE = re.compile(r"^/_emulator/counters/[^/]+/visits/?$")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:80`` → ``::1``, ``a.b:8080`` → ``a.b``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def content_types(path: str) -> tuple[str, ...]:
    """The body types a control route takes on ``POST``, ``PUT`` and ``PATCH``."""
    return (JSON, CSV) if CSV_ROUTE.match(path) else (JSON,)


class BodyTimeout(StatusError):
    """Raised from ``receive`` when the client stops sending its body."""


class Protect:
    """The protections of the module docstring, as one ASGI middleware."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.settings = settings
        self.names = LOCAL_NAMES | {host_name(h) for h in settings.allowed_hosts}
        self.app: ASGIApp = app
        if settings.cors_origins:
            self.app = CORSMiddleware(
                app,
                allow_origins=list(settings.cors_origins),
                allow_methods=["*"],
                allow_headers=["*"],
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        error = self._host_error(scope, headers) or self._control_error(scope, headers)
        if error is not None:
            await error_response(error, getattr(error, "headers", None))(scope, receive, send)
            return
        await self.app(scope, self._timed(receive), send)

    def _host_error(self, scope: Scope, headers: Headers) -> ApiError | None:
        name = host_name(headers.get("host", ""))
        server = scope.get("server") or ("",)
        if name in self.names or name == str(server[0]).lower():
            return None
        shown = name[:100] or "(none)"
        return ApiError(
            "invalid_parameter",
            f"Host {shown!r} is not served here (DNS rebinding protection); "
            f"allow it with crmemu serve --allow-host {shown}",
            "Host",
        )

    def _control_error(self, scope: Scope, headers: Headers) -> ApiError | None:
        path: str = scope.get("path", "")
        if not path.startswith(CONTROL_PREFIX):
            return None
        if self.settings.cors_origins and _preflight(scope, headers):
            return None  # the CORS layer answers it; the real request is checked again
        token = self.settings.admin_token
        if token and not hmac.compare_digest(
            headers.get(ADMIN_HEADER, "").encode(), token.encode()
        ):
            return ApiError(
                "unauthorized", f"the control routes need the {ADMIN_HEADER} header", ADMIN_HEADER
            )
        if scope["method"] in WITH_BODY:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            accepted = content_types(path)
            if kind not in accepted:
                return StatusError(
                    "invalid_parameter",
                    f"send Content-Type: {' or '.join(accepted)} (got {kind or 'none'}); control "
                    "routes refuse the types a web page can send cross-site",
                    "Content-Type",
                    code=415,
                )
        return None

    def _timed(self, receive: Receive) -> Receive:
        """``receive`` with an idle limit while the request body is still arriving."""
        seconds = self.settings.body_timeout_seconds
        done = False

        async def timed() -> Message:
            nonlocal done
            if done or not seconds:
                return await receive()
            try:
                with anyio.fail_after(seconds):
                    message = await receive()
            except TimeoutError:
                done = True
                raise BodyTimeout(
                    "timeout",
                    f"no part of the request body arrived for {seconds:g} s",
                    code=408,
                    headers={"Connection": "close"},
                ) from None
            done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        return timed


def _preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers
