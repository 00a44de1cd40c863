"""uvicorn on a bound socket: in the foreground (``crmemu serve``) or in a background thread.

Binding the socket first lets port 0 pick a free port and makes the base URL known before the
first request; the pytest plugin and the HTTP tests use :class:`LiveServer`.

``X-Forwarded-For`` is believed only from the proxies named in ``forwarded_allow_ips``
(none by default): the per-IP quota counts the connection's address, which a client cannot
rotate. A request uvicorn cannot parse is answered in the error envelope by
:class:`EnvelopeH11Protocol`.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from types import TracebackType
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from emulator.api.envelope import StatusError
from emulator.api.inspector.requestlog import ACCESS_LOGGER
from emulator.errors import ApiError

STARTUP_TIMEOUT = 10.0
LINGER_SECONDS = 5.0


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it a kept-alive connection waits ~40 ms per
    # answer (Nagle against the client's delayed ACK), as uvicorn writes headers and body apart.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class EnvelopeH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, answering what it cannot serve in the error envelope.

    Headers over h11's limit (16 KiB) get 431, anything else malformed 400
    ``invalid_parameter``, and a request whose headers are not complete within
    ``header_timeout`` seconds of its first byte (or of the connection) 408 ``timeout``: a
    client must not hold a connection by sending its headers a byte at a time. Then the
    connection reads and drops what the client is still sending for up to
    :data:`LINGER_SECONDS` before it closes: closing with unread data would reset the
    connection, and the client would never see the answer.
    """

    header_timeout = 30.0
    _dropping = False
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        if not self._dropping:
            super().data_received(data)
            self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        limit = getattr(self.conn, "_max_incomplete_event_size", None)
        if limit is not None and len(self.conn.trailing_data[0]) > limit:
            message = f"the request line and headers are larger than {limit} bytes"
            self._refuse(StatusError("invalid_parameter", message, "headers", code=431))
        else:
            self._refuse(ApiError("invalid_parameter", "the request is not valid HTTP/1.1"))

    def _watch_headers(self) -> None:
        """Time the headers of the next request while they are incomplete (0: never)."""
        waiting = (
            bool(self.header_timeout)
            and self.conn.their_state is h11.IDLE
            and (self.cycle is None or bool(self.conn.trailing_data[0]))
        )
        if waiting and self._header_timer is None and not self._dropping:
            self._header_timer = self.loop.call_later(self.header_timeout, self._too_slow)
        elif not waiting and self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        message = f"the request headers did not arrive within {self.header_timeout:g} s"
        self._refuse(StatusError("timeout", message, code=408))

    def _refuse(self, error: ApiError) -> None:
        """Answer ``error`` (written as is: h11 may be in no state to frame it) and close."""
        body = json.dumps(error.to_json()).encode()
        head = (
            f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self._dropping = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def make_server(
    app: ASGIApp,
    log_level: str = "warning",
    forwarded_allow_ips: Sequence[str] = (),
    header_timeout: float = EnvelopeH11Protocol.header_timeout,
    access_log: bool = False,
) -> uvicorn.Server:
    """uvicorn for ``app`` with the envelope protocol; ``access_log`` prints the app's own line
    per request on stderr (method, path, status, time taken, counter), whatever ``log_level``
    says."""
    protocol = type("Protocol", (EnvelopeH11Protocol,), {"header_timeout": header_timeout})
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        http=protocol,
        proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=list(forwarded_allow_ips) or None,
        log_config=logging_config(access_log),
    )
    return uvicorn.Server(config)


def logging_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging setup plus the emulator's access logger, on or off."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"][ACCESS_LOGGER] = {
        "handlers": ["default"],
        "level": "INFO" if access_log else "WARNING",
        "propagate": False,
    }
    return config


class LiveServer:
    """The app served on ``host`` (a free port by default) by a daemon thread."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        forwarded_allow_ips: Sequence[str] = (),
    ) -> None:
        self._socket = bind(host, port)
        self.base_url = base_url(self._socket)
        self._server = make_server(app, forwarded_allow_ips=forwarded_allow_ips)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
