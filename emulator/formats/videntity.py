"""Column-at-a-time identifier checks, with :mod:`emulator.identity` as the only judge.

Each function takes one flat Arrow string array of identifier values (one value per item,
as split from the cells) and answers which are usable, what they normalise to and what to
tell the user. The common, already-canonical shapes are recognised with Arrow kernels; every
other value goes to the scalar function of :mod:`emulator.identity`, which decides and
words the message. A property test shows that the fast path accepts nothing the scalar
rule would judge differently.

What the service does with a value that is not canonical (spec §2.6): it does not repair
it. Phones and e-mails are therefore kept as sent and only get a warning; MD5 hashes are
compared case-insensitively (ambiguity A21) and lower-cased; ClientIDs become integers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.formats.arrowbits import mask, take_strings
from emulator.identity import (
    MAX_PHONE_DIGITS,
    MIN_PHONE_DIGITS,
    IdentityError,
    normalize_email,
    normalize_md5,
    normalize_phone,
    parse_client_id,
)

# ASCII whitespace as Python's str.isspace() sees it, spelled out for RE2.
_WS = r"\t\n\x0b\x0c\r\x1c-\x1f "
_EMAIL_PART = rf'[^@A-Z{_WS},;"]+'
_CANONICAL_EMAIL = rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"


@dataclass
class ItemCheck:
    """The verdict on a flat array of identifier values.

    ``values`` holds the value to keep for every usable item (null for the others);
    ``errors`` and ``warnings`` map an item's index to a plain message.
    """

    values: pa.Array
    ok: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)
    warnings: dict[int, str] = field(default_factory=dict)


Scalar = Callable[[str], tuple[Any, str | None]]


def _judge(
    texts: pa.Array,
    fast: np.ndarray,
    scalar: Scalar,
    fast_values: pa.Array | None = None,
    warnings: dict[int, str] | None = None,
) -> ItemCheck:
    """Fast-accepted items keep ``fast_values`` (default: the text), with the ``warnings``
    already found for some of them; the rest go to ``scalar``."""
    values = texts if fast_values is None else fast_values
    rest = np.flatnonzero(~fast)
    check = ItemCheck(values=values, ok=fast.copy(), warnings=dict(warnings or {}))
    if len(rest) == 0:
        return check
    replaced: list[Any] = []
    for index, raw in zip(rest.tolist(), take_strings(texts, rest), strict=True):
        try:
            value, warning = scalar(raw)
        except IdentityError as exc:
            check.errors[index] = str(exc)
            replaced.append(None)
            continue
        check.ok[index] = True
        replaced.append(value)
        if warning:
            check.warnings[index] = warning
    rest_mask = np.zeros(len(texts), bool)
    rest_mask[rest] = True
    check.values = pc.replace_with_mask(
        values, pa.array(rest_mask), pa.array(replaced, values.type)
    )
    return check


def _kept_as_sent(normalize: Callable[[str], str], warning: str) -> Scalar:
    """A scalar judge for values the service keeps as sent (spec §2.6): an error when
    ``normalize`` refuses the value, a ``warning`` when its canonical form differs."""

    def judge(raw: str) -> tuple[str, str | None]:
        canonical = normalize(raw)
        return raw, None if canonical == raw else _warned(warning, raw, canonical)

    return judge


def _warned(warning: str, raw: str, canonical: str) -> str:
    text = warning.format(raw=raw, canonical=canonical)
    return f"{text}; the service does not repair it, so it will never match"


_PHONE_WARNING = (
    "phone {raw!r} is not written as Metrica matches it ({canonical}: digits with the country code)"
)


def check_phones(items: pa.Array, country_code: str) -> ItemCheck:
    """Phones: errors below 10 or above 15 digits; a warning when not digits-with-country-code.

    Besides the canonical shape, ASCII phones in a local format (``8 (999) 555-11-11``)
    are recognised column-wise too, since a CRM export often writes every phone so.
    """
    length = pc.utf8_length(items)
    ascii_ = mask(pc.string_is_ascii(items))
    fast = mask(pc.utf8_is_digit(items)) & ascii_
    fast &= mask(pc.and_(pc.greater_equal(length, 11), pc.less_equal(length, 15)))
    if country_code == "7":  # an 11-digit 8XXXXXXXXXX is a Russian trunk-prefixed number
        fast &= ~mask(pc.and_(pc.equal(length, 11), pc.starts_with(items, "8")))
    local = np.flatnonzero(ascii_ & ~fast)
    judge = _kept_as_sent(lambda raw: normalize_phone(raw, country_code), _PHONE_WARNING)
    warnings: dict[int, str] = {}
    if len(local):
        raws = items.take(pa.array(local))
        canonical, usable = _canonical_phones(raws, country_code)
        for index, raw, text in zip(
            local[usable].tolist(),
            take_strings(raws, np.flatnonzero(usable)),
            take_strings(canonical, np.flatnonzero(usable)),
            strict=True,
        ):
            warnings[index] = _warned(_PHONE_WARNING, raw, text)
        fast[local[usable]] = True
    return _judge(items, fast, judge, warnings=warnings)


def _canonical_phones(raws: pa.Array, country_code: str) -> tuple[pa.Array, np.ndarray]:
    """:func:`emulator.identity.normalize_phone` for ASCII phones, column-wise: the digits
    with the country code, and whether the digit count (10 to 15) makes a phone at all."""
    digits = pc.replace_substring_regex(raws, "[^0-9]+", "")
    count = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    national = pa.array(count == 10)
    trunk = (count == 11) & mask(pc.starts_with(digits, "8")) & (country_code == "7")
    canonical = pc.if_else(
        national,
        pc.binary_join_element_wise(country_code, digits, ""),
        pc.if_else(
            pa.array(trunk),
            pc.binary_join_element_wise("7", pc.utf8_slice_codeunits(digits, 1), ""),
            digits,
        ),
    )
    return canonical, (count >= MIN_PHONE_DIGITS) & (count <= MAX_PHONE_DIGITS)


def check_emails(items: pa.Array) -> ItemCheck:
    """E-mails: an error when not an address; a warning for upper case or surrounding spaces."""
    fast = pc.and_(pc.string_is_ascii(items), pc.match_substring_regex(items, _CANONICAL_EMAIL))

    return _judge(
        items,
        mask(fast),
        _kept_as_sent(
            normalize_email,
            "e-mail {raw!r} has upper-case letters or spaces ({canonical!r} is the form "
            "Metrica matches)",
        ),
    )


def check_md5s(items: pa.Array) -> ItemCheck:
    """MD5 hashes: 32 hex digits; upper case is accepted and lower-cased (ambiguity A21)."""
    fast = pc.match_substring_regex(items, "^[0-9a-f]{32}$")
    return _judge(items, mask(fast), lambda raw: (normalize_md5(raw), None))


def check_client_ids(items: pa.Array) -> ItemCheck:
    """ClientIDs: positive integers that fit in uint64 (strings or JSON numbers, A7)."""
    fast = mask(pc.match_substring_regex(items, "^[1-9][0-9]{0,18}$"))
    numbers = pc.cast(pc.if_else(pa.array(fast), items, "0"), pa.uint64())
    return _judge(items, fast, lambda raw: (parse_client_id(raw), None), numbers)
