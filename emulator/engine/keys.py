"""Identity keys as ``uint64``: what the link indexes store (spec §5.1, §7.1).

A ClientID or a yclid is its own key. An MD5 (of an e-mail or a phone, sent or captured by
advanced matching) is keyed by its first 16 hex digits, and a free-text identifier (UserID,
PurchaseId) by the MD5 of its text, so keys of one kind compare as fixed-width integers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from emulator.identity import IdentityError, md5_hex

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


def plain_keys(
    values: pa.Array, clean: Callable[[str], str], normalize: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Keys of plain e-mails or phones (``clean`` normalises one) and which values are
    usable: with ``normalize`` a value that cannot be normalised is skipped.

    The docs ask for normalised values before hashing
    (https://yandex.ru/dev/metrika/ru/data-import/hashing); with ``normalize`` off a value is
    hashed as sent. MD5 runs once per value: only the values sent pay for it.
    """
    keys = np.zeros(len(values), np.uint64)
    usable = np.ones(len(values), bool)
    for row, value in enumerate(values.to_pylist()):
        try:
            keys[row] = md5_key(md5_hex(clean(value) if normalize else value))
        except IdentityError:
            usable[row] = False
    return keys, usable
