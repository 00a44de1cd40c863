"""Identifier rules: phones, e-mails, their MD5s and Metrica ClientIDs.

Source: https://yandex.ru/dev/metrika/ru/data-import/hashing and the field tables of
https://yandex.ru/dev/metrika/en/data-import/simple-orders-data (project spec §2.6):

- a phone is sent as digits only, a mobile number with its country code (``79995551111``);
- an e-mail is sent trimmed and lower-case (``mail@yandex.ru``);
- a hash is the lower-hex MD5 of the normalised value, one value at a time;
- a ClientID is the numeric ``_ym_uid`` cookie value (e.g. ``1551977723718998723``).

The service itself never repairs a value; these functions tell what the canonical form is
so that ``check`` can warn about values that would silently never match.
"""

from __future__ import annotations

import hashlib
import re

UINT64_MAX = 2**64 - 1
MIN_PHONE_DIGITS = 10
MAX_PHONE_DIGITS = 15  # E.164
DEFAULT_COUNTRY_CODE = "7"

_NON_DIGITS = re.compile(r"[^0-9]+")  # ASCII digits only: "٧٩٩٩..." is no phone
_EMAIL = re.compile(r"^[^@\s,;\"]+@[^@\s,;\"]+\.[^@\s,;\"]+$")
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_CLIENT_ID = re.compile(r"^[0-9]{1,20}$")


class IdentityError(ValueError):
    """A value that cannot be an identifier of its kind."""


def normalize_phone(raw: str, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """Digits with the country code: ``8 (999) 555-11-11`` → ``79995551111``.

    Russian trunk prefix ``8`` on an 11-digit number becomes ``7`` and a bare 10-digit
    national number gets ``country_code`` in front (the rule of the docs' examples and of
    the public Direct clients, spec §8). Fewer than 10 digits cannot be a mobile number.
    """
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) < MIN_PHONE_DIGITS:
        raise IdentityError(f"phone {raw!r} has {len(digits)} digits, at least 10 are needed")
    if len(digits) > MAX_PHONE_DIGITS:
        raise IdentityError(f"phone {raw!r} has {len(digits)} digits, at most 15 are possible")
    if len(digits) == MIN_PHONE_DIGITS:
        return country_code + digits
    if len(digits) == 11 and digits[0] == "8" and country_code == "7":
        return "7" + digits[1:]
    return digits


def is_canonical_phone(raw: str) -> bool:
    """True when ``raw`` is already what Metrica expects (digits with country code)."""
    try:
        return normalize_phone(raw) == raw
    except IdentityError:
        return False


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased; raises when it is not ``local@domain.tld``."""
    email = raw.strip().lower()
    if not _EMAIL.match(email):
        raise IdentityError(f"e-mail {raw!r} is not an address like name@example.com")
    return email


def md5_hex(normalized: str) -> str:
    """Lower-hex MD5 of an already normalised phone or e-mail."""
    return hashlib.md5(normalized.encode("utf-8")).hexdigest()


def normalize_md5(raw: str) -> str:
    """A 32-hex-digit hash, lower-cased.

    The docs show only lower-case hashes and do not say whether upper case is accepted
    (spec ambiguity A21); hashes are compared case-insensitively here and stored lower-case.
    """
    value = raw.strip()
    if not _MD5.match(value):
        raise IdentityError(f"{raw!r} is not an MD5 hash (32 hexadecimal digits)")
    return value.lower()


def parse_client_id(raw: str | int) -> int:
    """A ClientID: a positive integer that fits in uint64.

    The JSON schema types ``client_ids`` as integers while the docs' samples send strings
    (spec ambiguity A7): both are accepted.
    """
    if isinstance(raw, bool):
        raise IdentityError(f"ClientID {raw!r} is not a number")
    if isinstance(raw, int):
        value = raw
    else:
        text = raw.strip()
        if not _CLIENT_ID.match(text):
            raise IdentityError(f"ClientID {raw!r} is not a positive whole number")
        value = int(text)
    if not 0 < value <= UINT64_MAX:
        raise IdentityError(f"ClientID {raw!r} is outside 1..{UINT64_MAX}")
    return value
