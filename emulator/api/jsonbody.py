"""JSON request bodies parsed into Python values, refusing what would break the code after.

Every JSON route reads its body here, so each refusal below is a 400 ``invalid_json``
(https://yandex.ru/dev/metrika/ru/intro/errors) rather than a failure deeper in:

- text that is not JSON, or not UTF-8, or empty;
- ``NaN`` and ``Infinity``, which Python reads but JSON (RFC 8259 §6) does not have;
- nesting deeper than :data:`MAX_DEPTH` levels. No documented body nests deeper than 5;
  the real service's parser stops at 1000 (Jackson's default), but values that deep make
  Python's own recursion fail in messages and checks, so the emulator stops earlier;
- a lone UTF-16 surrogate (``"\\ud800"``), which is no Unicode character: RFC 8259 §8.2
  calls such strings unpredictable and I-JSON (RFC 7493 §2.1) forbids them; nothing can
  store or print them as UTF-8.

Parsing runs off the event loop (:func:`parse_body` is synchronous), so a large body does not
stall the other requests.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from emulator.errors import ApiError
from emulator.formats.cells import lone_surrogate

MAX_DEPTH = 100
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_OPENERS = (b"[", b"{")


def parse_body(raw: bytes, exact: bool = False) -> Any:
    """The JSON value of ``raw``; ``exact`` reads numbers with a fraction as ``Decimal``."""
    if not raw.strip():
        raise ApiError("invalid_json", "the body is empty; a JSON object is expected")
    try:
        document = json.loads(
            raw, parse_float=Decimal if exact else float, parse_constant=_no_constant
        )
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("invalid_json", f"the body is not valid JSON: {exc}") from None
    if sum(raw.count(opener) for opener in _OPENERS) > MAX_DEPTH and _depth(document) > MAX_DEPTH:
        raise _too_deep()
    if _SURROGATE_ESCAPE.search(raw) and (where := _lone_surrogate(document)) is not None:
        raise ApiError(
            "invalid_json",
            f"the body holds a lone UTF-16 surrogate ({where}), which is not a character",
        )
    return document


def json_object(document: Any) -> dict[str, Any]:
    """``document`` when it is a JSON object, else 400 ``invalid_json``.

    The shape of the request is the protocol's business: a body that is JSON but not an
    object is refused here, whatever a counter's rules say about bad data inside one.
    """
    if not isinstance(document, dict):
        name = type(document).__name__
        raise ApiError("invalid_json", f"the body must be a JSON object, not {name}")
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _too_deep() -> ApiError:
    return ApiError("invalid_json", f"the body nests deeper than {MAX_DEPTH} levels")


def _children(value: Any) -> list[Any]:
    items = value.values() if isinstance(value, dict) else value
    return [item for item in items if isinstance(item, dict | list)]


def _depth(document: Any) -> int:
    """How deep ``document`` nests (1 for a flat object), without recursion; stops past
    :data:`MAX_DEPTH`."""
    deepest = 0
    stack = [(document, 1)] if isinstance(document, dict | list) else []
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in _children(value))
    return deepest


def _lone_surrogate(document: Any) -> str | None:
    """A short description of the first string (or key) holding a lone surrogate."""
    stack = [document]
    while stack:
        value = stack.pop()
        strings = [value] if isinstance(value, str) else []
        if isinstance(value, dict):
            strings += [key for key in value if isinstance(key, str)]
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        for text in strings:
            if (where := lone_surrogate(text)) is not None:
                return where
    return None
