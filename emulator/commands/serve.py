"""``crmemu serve``: the HTTP emulator on a local port, with state in an SQLite file.

Without ``--config`` (and on an empty database) it creates one counter with a token, so a new
user can upload at once; it prints the base URL, the counters and their tokens on start.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from emulator import CounterConfig, Emulator, WallClock
from emulator.api import ServeConfig, create_app, load_config
from emulator.api.server import base_url, bind, make_server

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


def start_emulator(db: str, config: ServeConfig) -> Emulator:
    """The engine with the config's counters (or the default one on an empty database)."""
    clock = WallClock() if config.clock == "wall" else None
    emulator = Emulator(db, clock)
    if config.clock == "virtual" and emulator.store.get_setting("clock") is None:
        emulator.set_clock(datetime.now(UTC).replace(microsecond=0))
    for counter in config.counters:
        emulator.put_counter(counter)
    if not emulator.counters():
        emulator.put_counter(CounterConfig(DEFAULT_COUNTER, tokens={DEFAULT_TOKEN: DEFAULT_SCOPES}))
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


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config) if args.config else ServeConfig()
    except (OSError, ValueError) as exc:
        print(f"crmemu serve: {exc}", file=sys.stderr)
        return 2
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(f"crmemu serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    emulator = start_emulator(args.db, config)
    url = base_url(sock)
    print(banner(url, emulator, args.db), flush=True)
    try:
        app = create_app(emulator, config.settings)
        make_server(app, args.log_level, not args.no_access_log).run(sockets=[sock])
    finally:
        sock.close()
        emulator.close()
    return 0
