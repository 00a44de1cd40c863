"""The ASGI app: the real routes, the control routes and the envelope, over one engine.

``create_app(emulator)`` serves the ``Host`` names :mod:`emulator.api.protect` allows and
accepts a ``.json`` suffix on ``/management/`` and ``/stat/``
paths, which old clients such as yametrikapy append to every path. The OpenAPI document is at
``/openapi.json``, with Swagger UI at ``/docs`` and ReDoc at ``/redoc`` served from assets
installed with the package (``fastapi-offline``), so they work with no internet; the inspector
is at ``/``.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator import CounterConfig, Emulator, __version__
from emulator.api import cdp, control, envelope, inspector, management, offline, stat, yclid
from emulator.api.faults import FaultBook
from emulator.api.guard import ApiContext
from emulator.api.protect import Protect
from emulator.api.quotas import QuotaBook
from emulator.api.settings import ApiSettings, QuotaSettings

JSON_SUFFIX_PREFIXES = ("/management/", "/stat/")
DEFAULT_COUNTER = 2215573
ALL_SCOPES = ("metrika:read", "metrika:write", "metrika:offline_data")
DESCRIPTION = """A reference emulator of Yandex Metrica's CRM data (CDP) and offline-conversion
APIs. Point a client at this server instead of https://api-metrika.yandex.net and send
`Authorization: OAuth <token>` with a token configured on the counter. `/_emulator/*` routes
control the emulator (state, clock, counters, visits, faults, quotas). What is and is not
emulated: docs/FIDELITY.md."""


class JsonSuffix:
    """Strip a trailing ``.json`` from management and report paths before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.endswith(".json")
            and path.startswith(JSON_SUFFIX_PREFIXES)
        ):
            scope = dict(scope)
            scope["path"] = path.removesuffix(".json")
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.endswith(b".json"):
                scope["raw_path"] = raw.removesuffix(b".json")
        await self.app(scope, receive, send)


def create_app(emulator: Emulator, settings: ApiSettings | None = None) -> FastAPI:
    """The HTTP emulator over ``emulator`` (which it shares with any in-process user)."""
    settings = settings or ApiSettings()
    app = FastAPIOffline(
        title="Metrica CRM & offline-conversions emulator",
        version=__version__,
        description=DESCRIPTION,
    )
    app.state.api = ApiContext(emulator, settings, QuotaBook(settings.quotas), FaultBook())
    app.state.baseline_counters = tuple(emulator.counters())  # what a reset sets up again
    envelope.install(app)
    for module in (cdp, offline, yclid, management, stat, control):
        app.include_router(module.router)
    app.add_middleware(JsonSuffix)
    inspector.install(app)
    app.add_middleware(Protect, settings=settings)
    app.openapi = lambda: _openapi_with_auth(app)  # type: ignore[method-assign]
    return app


def _openapi_with_auth(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the ``Authorization: OAuth <token>`` scheme on real routes."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        document.setdefault("components", {})["securitySchemes"] = {
            "OAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "OAuth <token> (a token configured on the counter)",
            }
        }
        for path, operations in document["paths"].items():
            if not path.startswith("/_emulator"):
                for operation in operations.values():
                    operation["security"] = [{"OAuth": []}]
        app.openapi_schema = document
    return app.openapi_schema


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport that runs an ASGI app on a private event-loop thread.

    httpx's own ``ASGITransport`` is async-only; this one lets a plain ``httpx.Client`` (what
    the simulator's exporters and replayer use) call the app without a socket. The loop runs
    in a daemon thread, so a client nobody closed cannot keep the process alive at exit;
    closing the client stops the loop.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=("127.0.0.1", 0)
        )
        ready: queue.Queue[BlockingPortal] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(
            target=anyio.run, args=(self._serve, ready), name="inprocess-portal", daemon=True
        )
        self._thread.start()
        self._portal = ready.get()

    @staticmethod
    async def _serve(ready: queue.Queue[BlockingPortal]) -> None:
        async with BlockingPortal() as portal:
            ready.put(portal)
            await portal.sleep_until_stopped()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._portal.call(call)

    def close(self) -> None:
        if self._thread.is_alive():
            self._portal.call(self._portal.stop)
            self._thread.join()


def inprocess_client(
    emulator: Emulator,
    token: str | None = None,
    settings: ApiSettings | None = None,
    base_url: str = "http://emulator.local",
) -> httpx.Client:
    """A synchronous ``httpx.Client`` talking to an in-process app over ``emulator``.

    No socket and no server: requests go straight to the ASGI app. Use it as a context
    manager (``with inprocess_client(...) as client:``) or close it. Quotas are off unless
    ``settings`` says otherwise, since an in-process caller replays at machine speed.
    ``token`` becomes the default ``Authorization`` header; on an emulator with no counter it
    also sets up counter 2215573 with that token and every scope, as ``crmemu serve`` does, so
    the first request does not answer 401. Server-side failures answer in the envelope, as
    over a socket, instead of raising in the caller.
    """
    settings = settings or ApiSettings(quotas=QuotaSettings(enabled=False))
    if token and not emulator.counters():
        emulator.put_counter(CounterConfig(DEFAULT_COUNTER, tokens={token: ALL_SCOPES}))
    headers: dict[str, Any] = {"Authorization": f"OAuth {token}"} if token else {}
    transport = InProcessTransport(create_app(emulator, settings))
    return httpx.Client(transport=transport, base_url=base_url, headers=headers)
