"""Domain records ↔ plain JSON values, for the store and for the control API.

Date-times become ISO-8601 strings with their offset, money becomes a decimal string (exact),
tuples become lists and nested records (``OrderGoal``) become objects. ``from_jsonable`` is the
exact inverse for every type in :mod:`emulator.domain`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of a record, tuple, date-time or money value."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _CONVERTERS.get(kind)
    if convert is not None:
        return convert(value)
    names = _field_names(kind)
    if names is not None:
        return {name: to_jsonable(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})
_CONVERTERS: dict[type, Any] = {
    datetime: datetime.isoformat,
    date: date.isoformat,
    Decimal: str,
    tuple: lambda items: [to_jsonable(item) for item in items],
    list: lambda items: [to_jsonable(item) for item in items],
}


@cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type (looked up once per type), else ``None``."""
    if dataclasses.is_dataclass(kind):
        return tuple(f.name for f in dataclasses.fields(kind))
    return None


def from_jsonable(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a record of type ``cls`` from :func:`to_jsonable` output."""
    hints = _hints(cls)
    return cls(**{name: _decode(hints[name], raw) for name, raw in data.items()})


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(hint: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(options[0], raw)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in raw)
        return tuple(_decode(a, item) for a, item in zip(args, raw, strict=True))
    if dataclasses.is_dataclass(hint):
        return from_jsonable(hint, raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint is date:
        return date.fromisoformat(raw)
    if hint is Decimal:
        return Decimal(raw)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    return raw
