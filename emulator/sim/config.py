"""A strict reader that turns plain mappings (parsed TOML) into frozen settings dataclasses.

Why a reader of our own: the settings are nested frozen dataclasses with defaults, and a typo in
a scenario file must fail loudly with the dotted path of the key (``simulation.trafic``) instead
of being ignored. The rules are few and uniform:

- a table given for a dataclass field starts from that field's default value and replaces only
  the keys it names, so ``[simulation.channels.call]`` with one key changes one number;
- a table given for a ``dict[str, X]`` field replaces the whole default dict (named sources and
  exporters are a set the file defines entirely; ``scenarios/sim/default.toml`` lists the defaults);
- arrays become tuples; TOML dates and date-times are accepted, and so are ISO strings;
- ``Literal`` fields accept only their listed values.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


class SettingsError(ValueError):
    """A settings file or mapping that does not fit the schema; the message names the key."""


def build(cls: type[T], value: Any, path: str, base: T | None = None) -> T:
    """An instance of dataclass ``cls`` from ``value``, on top of ``base`` (or the defaults)."""
    if not isinstance(value, Mapping):
        raise SettingsError(f"{path}: expected a table, got {type(value).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        raise SettingsError(
            f"unknown key {_join(path, unknown[0])!r}; known keys here: {', '.join(sorted(known))}"
        )
    changes: dict[str, Any] = {}
    for key, raw in value.items():
        current = getattr(base, key) if base is not None else _default(cls, key)
        changes[key] = convert(hints[key], raw, _join(path, key), current)
    try:
        if base is not None:
            return dataclasses.replace(base, **changes)  # type: ignore[type-var]
        return cls(**changes)
    except TypeError as exc:
        missing = [
            f.name
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.name not in changes
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise SettingsError(f"{_join(path, missing[0])!r} is required") from None
        raise SettingsError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def convert(tp: Any, raw: Any, path: str, current: Any = None) -> Any:
    """``raw`` read as type ``tp`` (a type hint), merging into ``current`` for dataclasses."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if raw is None and type(None) in options:
            return None
        inner = [option for option in options if option is not type(None)]
        errors = []
        for option in inner:
            try:
                return convert(option, raw, path, current)
            except SettingsError as exc:
                errors.append(str(exc))
        raise SettingsError(errors[0])
    if origin is Literal:
        allowed = get_args(tp)
        if raw not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise SettingsError(f"{path}: {raw!r} is not one of {choices}")
        return raw
    if origin is tuple:
        return _tuple(tp, raw, path)
    if origin is dict:
        key_type, value_type = get_args(tp)
        if not isinstance(raw, Mapping):
            raise SettingsError(f"{path}: expected a table, got {type(raw).__name__}")
        return {
            convert(key_type, key, path): convert(value_type, item, _join(path, str(key)))
            for key, item in raw.items()
        }
    if dataclasses.is_dataclass(tp):
        base = current if isinstance(current, tp) else None  # type: ignore[arg-type]
        return build(tp, raw, path, base)  # type: ignore[arg-type]
    return _scalar(tp, raw, path)


def to_plain(value: Any) -> Any:
    """A JSON-ready form of a settings value (dates as ISO strings, tuples as lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _tuple(tp: Any, raw: Any, path: str) -> tuple[Any, ...]:
    if not isinstance(raw, list | tuple):
        raise SettingsError(f"{path}: expected an array, got {type(raw).__name__}")
    args = get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(convert(args[0], item, f"{path}[{i}]") for i, item in enumerate(raw))
    if len(args) != len(raw):
        raise SettingsError(f"{path}: expected {len(args)} items, got {len(raw)}")
    return tuple(
        convert(arg, item, f"{path}[{i}]")
        for i, (arg, item) in enumerate(zip(args, raw, strict=True))
    )


def _scalar(tp: Any, raw: Any, path: str) -> Any:
    if tp is bool:
        if not isinstance(raw, bool):
            raise SettingsError(f"{path}: expected true or false, got {raw!r}")
        return raw
    if tp is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise SettingsError(f"{path}: expected a whole number, got {raw!r}")
        return raw
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise SettingsError(f"{path}: expected a number, got {raw!r}")
        return float(raw)
    if tp is str:
        if not isinstance(raw, str):
            raise SettingsError(f"{path}: expected a string, got {raw!r}")
        return raw
    if tp is datetime:
        return _datetime(raw, path)
    if tp is date:
        if isinstance(raw, date) and not isinstance(raw, datetime):
            return raw
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        raise SettingsError(f"{path}: expected a date like 2024-03-01, got {raw!r}")
    raise SettingsError(f"{path}: unsupported settings type {tp!r}")  # pragma: no cover


def _datetime(raw: Any, path: str) -> datetime:
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    raise SettingsError(f"{path}: expected a date-time like 2024-03-20T02:00:00, got {raw!r}")


def _default(cls: type, key: str) -> Any:
    for f in dataclasses.fields(cls):
        if f.name == key:
            if f.default is not dataclasses.MISSING:
                return f.default
            if f.default_factory is not dataclasses.MISSING:
                return f.default_factory()
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
