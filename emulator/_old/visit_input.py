"""Visits for ``POST /_emulator/counters/{id}/visits``: a CSV with a header row or JSON.

Fields (issue 4): ``visit_id, client_id, start_time, duration, traffic_source, source_detail,
utm_source, utm_medium, utm_campaign, utm_term, utm_content, yclid, user_id, purchase_id,
device, region, email_md5, phone_md5``. ``visit_id``, ``client_id`` and ``start_time`` are
required; ``start_time`` is ISO-8601 with an offset or Unix seconds; ``email_md5`` and
``phone_md5`` are lists (a JSON array, or comma-separated values in one cell). An empty CSV
cell or a JSON ``null`` means "not given". Any bad value rejects the whole body with the
first errors (line, column, message) and nothing is loaded; an unknown column is an error.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any

from emulator import Visit
from emulator.domain import RowError
from emulator.errors import ApiError

FIELDS = tuple(f.name for f in dataclasses.fields(Visit))
REQUIRED = ("visit_id", "client_id", "start_time")
INTEGERS = frozenset({"visit_id", "client_id", "duration", "yclid"})
LISTS = frozenset({"email_md5", "phone_md5"})
MAX_ERRORS = 100


def _integer(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"{value!r} is not a whole number")


def _start_time(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset (e.g. 2024-03-20T12:00:00+03:00)")
        return moment
    raise ValueError(f"{value!r} is neither ISO-8601 with an offset nor Unix seconds")


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{value!r} is not a list of strings")


def _convert(name: str, value: Any) -> Any:
    if name in INTEGERS:
        return _integer(value)
    if name == "start_time":
        return _start_time(value)
    if name in LISTS:
        return _strings(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def visit_from(values: Mapping[str, Any], line: int, errors: list[RowError]) -> Visit | None:
    """One visit from its field values, or ``None`` with its problems added to ``errors``."""
    given = {k: v for k, v in values.items() if v is not None and v != ""}
    fields: dict[str, Any] = {}
    problems = [RowError(line, name, "is required") for name in REQUIRED if name not in given]
    for name, value in given.items():
        if name not in FIELDS:
            problems.append(RowError(line, name, "is not a visit field"))
            continue
        try:
            fields[name] = _convert(name, value)
        except (ValueError, OverflowError, OSError) as exc:
            problems.append(RowError(line, name, str(exc)))
    errors.extend(problems)
    return None if problems else Visit(**fields)


def _collect(
    rows: Iterable[tuple[int, Mapping[str, Any]]], errors: list[RowError] | None = None
) -> list[Visit]:
    visits: list[Visit] = []
    errors = [] if errors is None else errors
    for line, values in rows:
        visit = visit_from(values, line, errors)
        if visit is not None:
            visits.append(visit)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ApiError.invalid_uploading(errors)
    return visits


def visits_from_csv(stream: IO[bytes]) -> list[Visit]:
    """Visits of a CSV with a header row (UTF-8, an optional BOM)."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if not header:
            raise ApiError.invalid_uploading([RowError(1, None, "the header row is missing")])
        unknown = [name for name in header if name not in FIELDS]
        if unknown:
            raise ApiError.invalid_uploading(
                [RowError(1, name, "is not a visit field") for name in unknown]
            )

        errors: list[RowError] = []

        def rows() -> Iterable[tuple[int, dict[str, str]]]:
            for cells in reader:
                if len(cells) == len(header):
                    yield reader.line_num, dict(zip(header, cells, strict=True))
                elif cells:
                    message = f"{len(cells)} cells for {len(header)} columns"
                    errors.append(RowError(reader.line_num, None, message))

        return _collect(rows(), errors)
    except UnicodeDecodeError as exc:
        raise ApiError.invalid_uploading([RowError(0, None, f"not UTF-8: {exc}")]) from None
    except csv.Error as exc:
        raise ApiError.invalid_uploading([RowError(0, None, f"not a CSV: {exc}")]) from None
    finally:
        text.detach()


def visits_from_json(body: Any) -> list[Visit]:
    """Visits of ``{"visits": [{...}, ...]}``; the line of an error is the 1-based position."""
    if not isinstance(body, dict) or not isinstance(body.get("visits"), list):
        raise ApiError("invalid_json", 'the body must be {"visits": [...]}')
    items = body["visits"]
    if not all(isinstance(item, dict) for item in items):
        raise ApiError("invalid_parameter", "each visit must be a JSON object", "visits")
    return _collect(enumerate(items, start=1))
