"""The ``crmemu`` command line: one sub-command per module ``emulator.commands.<name>``.

Each command module exposes ``add_arguments(parser)`` and ``run(args) -> int`` and a
one-line ``HELP``; this file only wires them together so commands stay independent.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from emulator import __version__

COMMANDS = ("check", "serve", "simulate", "run", "rules", "batch")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``only`` that one (its module alone is imported:
    ``crmemu check`` on a huge file should not pay for the simulator's imports)."""
    parser = argparse.ArgumentParser(
        prog="crmemu",
        description="Reference emulator and simulator of Yandex Metrica's CRM data uploads.",
    )
    parser.add_argument("--version", action="version", version=f"crmemu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (only,) if only else COMMANDS:
        module = importlib.import_module(f"emulator.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    chosen = words[0] if words and words[0] in COMMANDS else None
    args = build_parser(chosen).parse_args(words)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1


if __name__ == "__main__":
    sys.exit(main())
