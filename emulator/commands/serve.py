"""``crmemu serve``: the HTTP emulator on a local port, with state in an SQLite file.

Without ``--config`` (and on an empty database) it creates one counter with a token, so a new
user can upload at once; it prints the base URL, the counters and their tokens on start.

Bound to a non-loopback address it refuses to start without an admin token (the control
routes could otherwise be driven from the network), and the default counter gets a random
token instead of the public ``crmemu-token``. The protections: :mod:`emulator.api.protect`.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

from emulator import CounterConfig, Emulator, WallClock
from emulator.api import ApiSettings, ServeConfig, create_app, load_config
from emulator.api.protect import ADMIN_HEADER, is_loopback
from emulator.api.server import base_url, bind, make_server
from emulator.commands.memory import lean_memory

HELP = "serve the emulated Metrica CRM and offline-conversion APIs over HTTP"
DEFAULT_DB = "crmemu.sqlite3"
DEFAULT_COUNTER = 2215573
DEFAULT_TOKEN = "crmemu-token"
DEFAULT_SCOPES = ("metrika:read", "metrika:write", "metrika:offline_data")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any)")
    parser.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"SQLite file keeping state across restarts, or :memory: (default ./{DEFAULT_DB})",
    )
    parser.add_argument(
        "--config", type=Path, help="TOML or JSON with [server], [quotas], [[counters]]"
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="do not print a line per request (the inspector at / still lists them)",
    )
    protect = parser.add_argument_group("protection (see README, 'Protections')")
    protect.add_argument(
        "--admin-token",
        help=f"require this token in the {ADMIN_HEADER} header on /_emulator/* "
        "(required with a non-loopback --host)",
    )
    protect.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also serve requests whose Host header is NAME (repeatable)",
    )
    protect.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated proxy addresses whose X-Forwarded-For is believed (default none)",
    )
    protect.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="send CORS headers to this origin, or * (repeatable; default none)",
    )
    protect.add_argument(
        "--query-token",
        action="store_true",
        help="also accept the OAuth token as ?oauth_token= (off: it leaks into URLs)",
    )


def start_emulator(db: str, config: ServeConfig, token: str = DEFAULT_TOKEN) -> Emulator:
    """The engine with the config's counters (or the default one, with ``token``, on an
    empty database)."""
    clock = WallClock() if config.clock == "wall" else None
    emulator = Emulator(db, clock)
    if config.clock == "virtual" and emulator.store.get_setting("clock") is None:
        emulator.set_clock(datetime.now(UTC).replace(microsecond=0))
    for counter in config.counters:
        emulator.put_counter(counter)
    if not emulator.counters():
        emulator.put_counter(CounterConfig(DEFAULT_COUNTER, tokens={token: DEFAULT_SCOPES}))
    return emulator


def banner(url: str, emulator: Emulator, db: str) -> str:
    lines = [f"Metrica emulator on {url}  (state: {db}; clock: {emulator.now().isoformat()})"]
    for counter in emulator.counters():
        for token, scopes in counter.tokens.items():
            lines.append(
                f"  counter {counter.counter_id}  token {token}  scopes {' '.join(scopes)}"
            )
    lines.append(f"  e.g. curl -H 'Authorization: OAuth <token>' {url}/management/v1/counter/<id>")
    lines.append(f"  Inspector: {url}/   OpenAPI: {url}/docs   control routes: {url}/_emulator/...")
    return "\n".join(lines)


def with_flags(settings: ApiSettings, args: argparse.Namespace) -> ApiSettings:
    """The config file's settings with the command line's protection flags on top."""
    bound = [] if args.host in ("0.0.0.0", "::", "") else [args.host]
    forwarded = [ip.strip() for ip in (args.forwarded_allow_ips or "").split(",") if ip.strip()]
    return dataclasses.replace(
        settings,
        admin_token=args.admin_token or settings.admin_token,
        allowed_hosts=(*settings.allowed_hosts, *args.allow_host, *bound),
        forwarded_allow_ips=tuple(forwarded) or settings.forwarded_allow_ips,
        cors_origins=(*settings.cors_origins, *args.cors_origin),
        query_token=args.query_token or settings.query_token,
    )


def run(args: argparse.Namespace) -> int:
    lean_memory()
    try:
        config = load_config(args.config) if args.config else ServeConfig()
    except (OSError, ValueError) as exc:
        print(f"crmemu serve: {exc}", file=sys.stderr)
        return 2
    settings = with_flags(config.settings, args)
    local = is_loopback(args.host)
    if not local and not settings.admin_token:
        print(
            f"crmemu serve: --host {args.host} is reachable from the network: give "
            "--admin-token (or [server] admin_token) to protect the control routes",
            file=sys.stderr,
        )
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"crmemu serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    token = DEFAULT_TOKEN if local else secrets.token_urlsafe(24)
    emulator = start_emulator(args.db, config, token)
    url = base_url(sock)
    print(banner(url, emulator, args.db), flush=True)
    try:
        app = create_app(emulator, settings)
        server = make_server(
            app,
            args.log_level,
            settings.forwarded_allow_ips,
            settings.body_timeout_seconds,
            access_log=not args.no_access_log,
        )
        server.run(sockets=[sock])
    finally:
        sock.close()
        emulator.close()
    return 0
