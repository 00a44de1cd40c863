"""Identity keys as ``uint64``: what the link indexes store (spec §5.1, §7.1).

A ClientID or a yclid is its own key. An MD5 (of an e-mail or a phone, sent or captured by
advanced matching) is keyed by its first 16 hex digits, and a free-text identifier (UserID,
PurchaseId) by the MD5 of its text, so keys of one kind compare as fixed-width integers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.identity import IdentityError, md5_hex, normalize_email, normalize_phone

_NIBBLE = np.full(256, 0, np.uint64)
_NIBBLE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10, dtype=np.uint64)
_NIBBLE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16, dtype=np.uint64)
_NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16, dtype=np.uint64)


def md5_key(hex_digest: str) -> int:
    """The key of one MD5 given as hex."""
    return int(hex_digest[:16], 16)


def hex_keys(digests: pa.Array) -> np.ndarray:
    """Keys of MD5 hex strings (validated upstream: 32 hex digits each)."""
    if not len(digests):
        return np.zeros(0, np.uint64)
    prefix = pc.utf8_slice_codeunits(digests, 0, 16).to_numpy(zero_copy_only=False)
    raw = np.frombuffer(prefix.astype("S16").tobytes(), np.uint8).reshape(-1, 16)
    nibbles = _NIBBLE[raw]
    keys = np.zeros(len(digests), np.uint64)
    for column in range(16):
        keys = (keys << np.uint64(4)) | nibbles[:, column]
    return keys


def text_keys(values: pa.Array) -> np.ndarray:
    """Keys of free-text identifiers: the MD5 of each value's text."""
    return np.array([md5_key(md5_hex(v)) for v in values.to_pylist()], np.uint64)


def contact_hash_keys(
    emails: list[str], phones: list[str], normalize: bool
) -> list[tuple[int, str]]:
    """Keys, with a label for the decision log, of plain e-mails and phones.

    The docs ask for normalised values before hashing
    (https://yandex.ru/dev/metrika/ru/data-import/hashing); with ``normalize`` off a value is
    hashed as sent, and one that cannot be normalised is skipped when it is on.
    """
    found: list[tuple[int, str]] = []
    for values, label, clean in (
        (emails, "email", normalize_email),
        (phones, "phone", normalize_phone),
    ):
        for value in values:
            text = value
            if normalize:
                try:
                    text = clean(value)
                except IdentityError:
                    continue
            found.append((md5_key(md5_hex(text)), f"{label} {value}"))
    return found
