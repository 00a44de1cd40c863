"""``crmemu check FILE --kind KIND``: what the real service would reject or silently lose.

Prints every row error (line, column as written in the header, plain message) and the
warnings of :mod:`emulator.formats.lint` and of the validator, then one summary line.
Exit status: 0 when the file has no errors (warnings allowed), 1 when it has errors, 2
when the command itself cannot run (no such file, bad option).

Warnings of one code beyond ``--max-warnings-per-code`` (default 20) are counted, not
printed; errors are always all printed.

``--format json`` writes one JSON document, streamed as the file is read::

    {"file": str, "kind": str,
     "issues": [{"line": int, "column": str|null, "severity": "error"|"warning",
                 "code": str, "message": str}, ...],
     "omitted": {code: int, ...},
     "summary": {"rows": int, "valid_rows": int, "errors": int, "warnings": int,
                 "by_code": {code: int, ...}},
     "ok": bool}

``line`` 0 means the whole file; ``omitted`` counts warnings not listed per code.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TextIO

from emulator.commands.memory import lean_memory
from emulator.dates import EndOfDay, zone
from emulator.domain import RowError, UploadKind
from emulator.formats import (
    FormatOptions,
    UnknownColumns,
    delimiter_from_type,
    parse_columns_mapping,
)
from emulator.formats.checking import CheckSummary, FileCheck

HELP = "check a CRM or offline-conversions CSV as the service would, and warn about silent loss"


def _mapping(text: str) -> dict[str, str]:
    try:
        return parse_columns_mapping(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _zone(name: str) -> str:
    try:
        zone(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now {text!r} is not an ISO date-time like 2024-03-01T12:00"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the CSV file to check")
    parser.add_argument(
        "--kind", required=True, choices=[k.value for k in UploadKind], help="upload kind"
    )
    parser.add_argument(
        "--columns-mapping", type=_mapping, help='orders/contacts: "attr":"Header",... pairs'
    )
    parser.add_argument(
        "--delimiter", default="COMMA", choices=["COMMA", "SEMICOLON"], help="delimiter_type"
    )
    parser.add_argument(
        "--tz", type=_zone, default="Europe/Moscow", help="the counter's IANA time zone"
    )
    parser.add_argument(
        "--now", type=_moment, help="upload moment, ISO (default: now); naive = in --tz"
    )
    parser.add_argument(
        "--end-of-day",
        choices=["metrica", "direct"],
        default="metrica",
        help="date-only means 23:59 (metrica) or 23:59:59 (direct)",
    )
    parser.add_argument(
        "--unknown-columns",
        choices=[u.value for u in UnknownColumns],
        default="warn",
        help="what to do with columns that are no field",
    )
    parser.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    parser.add_argument(
        "--max-warnings-per-code",
        type=int,
        default=20,
        metavar="N",
        help="print at most N warnings of each code (0: all)",
    )


def _options(args: argparse.Namespace) -> FormatOptions:
    now = args.now
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=zone(args.tz))
    return FormatOptions(
        time_zone=args.tz,
        end_of_day=EndOfDay.DIRECT if args.end_of_day == "direct" else EndOfDay.METRICA,
        delimiter=delimiter_from_type(args.delimiter),
        columns_mapping=args.columns_mapping,
        now=now,
        unknown_columns=UnknownColumns(args.unknown_columns),
    )


class _Printer:
    """Writes issues as text lines or as one JSON document streamed as the file is read."""

    def __init__(self, out: TextIO, args: argparse.Namespace) -> None:
        self.out = out
        self.args = args
        self.first = True

    def start(self) -> None:
        if self.args.format == "json":
            head = json.dumps({"file": self.args.file, "kind": self.args.kind}, ensure_ascii=False)
            self.out.write(head[:-1] + ', "issues": [')

    def issue(self, issue: RowError) -> None:
        if self.args.format == "json":
            item = {
                "line": issue.line,
                "column": issue.column,
                "severity": issue.severity.value,
                "code": issue.code,
                "message": issue.message,
            }
            self.out.write(
                ("\n  " if self.first else ",\n  ") + json.dumps(item, ensure_ascii=False)
            )
            self.first = False
            return
        where = f"{self.args.file}:{issue.line}" if issue.line else self.args.file
        column = f" column {issue.column!r}:" if issue.column else ""
        self.out.write(f"{where}: {issue.severity.value} [{issue.code}]{column} {issue.message}\n")

    def finish(self, summary: CheckSummary) -> None:
        counts = summary.as_dict()
        if self.args.format == "json":
            omitted = dict(sorted(summary.omitted.items()))
            tail = {"omitted": omitted, "summary": counts, "ok": summary.errors == 0}
            self.out.write("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")
            return
        for code, count in sorted(summary.omitted.items()):
            self.out.write(
                f"{self.args.file}: ... {count} more warnings [{code}] not shown "
                "(--max-warnings-per-code 0 shows all)\n"
            )
        errors, warnings = summary.errors, summary.warnings
        self.out.write(
            f"{self.args.file}: {counts['rows']} rows ({counts['valid_rows']} valid), "
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}\n"
        )


def run(args: argparse.Namespace) -> int:
    lean_memory()
    try:
        options = _options(args)
        stream = open(args.file, "rb")  # noqa: SIM115 - closed below, after streaming
    except (OSError, ValueError) as exc:
        print(f"crmemu check: {exc}", file=sys.stderr)
        return 2
    printer = _Printer(sys.stdout, args)
    cap = args.max_warnings_per_code or None
    check = FileCheck(UploadKind(args.kind), stream, options, cap)
    with stream:
        printer.start()
        for issue in check:
            printer.issue(issue)
    printer.finish(check.summary)
    return 1 if check.summary.errors else 0
