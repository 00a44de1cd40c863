"""The inspector: a web page at ``/`` showing what a pipeline sent and what the engine decided.

Counters, uploadings with their status walk, orders with their linked visit, decisions and goal
reaches, the visits of a ClientID, the reports by attribution model, the virtual clock and a
live request log. Server-rendered (Jinja2 templates, a little JavaScript, no build step and no
CDN): its templates and assets ship inside the package.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from emulator.api.inspector.pages import POLL_PATH, PREFIX, router
from emulator.api.inspector.requestlog import RequestLog, RequestLogMiddleware

STATIC = f"{PREFIX}/static"
QUIET_PREFIXES = (POLL_PATH, STATIC)
"""Paths neither logged nor recorded: the inspector's polling and its assets."""
OWN_PREFIXES = (PREFIX, "/docs", "/redoc", "/openapi.json", "/static-offline-docs", "/favicon")
"""Paths logged but kept out of the live log: what a browser asks for the inspector and the
API docs, never a pipeline."""


def _own(path: str) -> bool:
    return path == "/" or path.startswith(OWN_PREFIXES)


def install(app: FastAPI) -> None:
    """Serve the inspector on ``app`` and record every request in its live log."""
    log = RequestLog()
    app.state.request_log = log
    app.include_router(router)
    static = resources.files(__package__) / "static"
    app.mount(STATIC, StaticFiles(directory=str(static)), name="inspector-static")
    app.add_middleware(
        RequestLogMiddleware,
        log=log,
        clock=lambda: app.state.api.emulator.now(),
        skip=lambda path: path.startswith(QUIET_PREFIXES),
        keep=lambda path: not _own(path),
    )


__all__ = ["RequestLog", "install"]
