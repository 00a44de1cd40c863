"""The HTTP emulator: the real API's routes and the ``/_emulator`` control routes.

A thin adapter over :class:`emulator.Emulator` (no rule lives here): it reads requests, calls
the engine and writes its answers and errors in the real service's shapes. Use
:func:`create_app` for an ASGI app, :class:`LiveServer` to serve one on loopback in a thread,
and :func:`inprocess_client` for an ``httpx.Client`` that talks to an in-process app without
a socket.
"""

from emulator.api.app import create_app, inprocess_client
from emulator.api.config import ServeConfig, counter_config, load_config
from emulator.api.server import LiveServer
from emulator.api.settings import ApiSettings, QuotaSettings

__all__ = [
    "ApiSettings",
    "LiveServer",
    "QuotaSettings",
    "ServeConfig",
    "counter_config",
    "create_app",
    "inprocess_client",
    "load_config",
]
