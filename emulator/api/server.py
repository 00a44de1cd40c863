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
import json
import socket
import threading
import time
from collections.abc import Sequence
from http import HTTPStatus
from types import TracebackType

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from emulator.api.envelope import StatusError
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
    """uvicorn's HTTP/1.1 protocol, answering a request it cannot parse in the envelope.

    Headers over h11's limit (16 KiB) get 431, anything else malformed 400
    ``invalid_parameter``. Then the connection reads and drops what the client is still
    sending for up to :data:`LINGER_SECONDS` before it closes: closing with unread data would
    reset the connection, and the client would never see the answer.
    """

    _dropping = False

    def send_400_response(self, msg: str) -> None:
        limit = getattr(self.conn, "_max_incomplete_event_size", None)
        buffered = len(getattr(self.conn, "_receive_buffer", b""))
        error: ApiError
        if limit is not None and buffered > limit:
            message = f"the request line and headers are larger than {limit} bytes"
            error = StatusError("invalid_parameter", message, "headers", code=431)
        else:
            error = ApiError("invalid_parameter", "the request is not valid HTTP/1.1")
        body = json.dumps(error.to_json()).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (
            h11.Response(
                status_code=error.status, headers=headers, reason=HTTPStatus(error.status).phrase
            ),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self._dropping = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if not self._dropping:
            super().data_received(data)


def make_server(
    app: ASGIApp, log_level: str = "warning", forwarded_allow_ips: Sequence[str] = ()
) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        http=EnvelopeH11Protocol,
        proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=list(forwarded_allow_ips) or None,
    )
    return uvicorn.Server(config)


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
