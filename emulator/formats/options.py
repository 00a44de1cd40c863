"""How a file or body is read: the counter's zone, delimiter, column mapping, clock.

``FormatOptions`` carries every choice the docs leave open (spec §0.1) as a named field
with a documented default, so a test or an emulated counter can pick the other reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from emulator.dates import EndOfDay
from emulator.identity import DEFAULT_COUNTRY_CODE


class UnknownColumns(StrEnum):
    """What to do with a column that is no field of the upload kind (spec ambiguity A4).

    The docs do not say whether unmapped columns are ignored or rejected. ``WARN`` (the
    default) ignores such a column and says so once; ``ERROR`` rejects the file; ``ATTRIBUTE``
    keeps the column as a custom attribute (``attribute_values``) of orders and contacts and
    acts as ``WARN`` for the other kinds. A ``columns_mapping`` entry that names a non-system
    attribute always makes a custom attribute: the user asked for it explicitly.
    """

    WARN = "warn"
    ERROR = "error"
    ATTRIBUTE = "attribute"


_DELIMITERS = {"COMMA": ",", "SEMICOLON": ";"}


def delimiter_from_type(delimiter_type: str) -> str:
    """The character of a ``delimiter_type`` query value (``COMMA`` default, ``SEMICOLON``)."""
    try:
        return _DELIMITERS[delimiter_type]
    except KeyError:
        raise ValueError(f"delimiter_type {delimiter_type!r} is not COMMA or SEMICOLON") from None


_PAIR = r'"([^"]+)":"([^"]+)"'
_MAPPING = re.compile(rf"\s*{_PAIR}(?:\s*,\s*{_PAIR})*\s*")


def parse_columns_mapping(text: str) -> dict[str, str]:
    """``"attr":"Header","attr2":"Header 2"`` → ``{"attr": "Header", ...}``.

    The docs give the pair syntax as the regex ``"([^"]+)":"([^"]+)"`` with pairs joined by
    commas (https://yandex.ru/dev/metrika/en/management/openapi/schema/uploadOrders). Anything
    else, an attribute named twice or two attributes on one header is a ``ValueError``.
    """
    if not _MAPPING.fullmatch(text):
        raise ValueError(
            f'columns_mapping {text!r} is not a list of "attribute":"Column header" pairs '
            'joined by commas, e.g. "id":"ИД","order_status":"Статус"'
        )
    mapping: dict[str, str] = {}
    for attribute, header in re.findall(_PAIR, text):
        if attribute in mapping:
            raise ValueError(f"columns_mapping names attribute {attribute!r} twice")
        if header in mapping.values():
            raise ValueError(f"columns_mapping maps two attributes to column {header!r}")
        mapping[attribute] = header
    return mapping


@dataclass(frozen=True)
class FormatOptions:
    """Reading choices for one upload.

    - ``time_zone``: IANA name of the counter's zone; CRM date-times are read in it.
    - ``end_of_day``: what a date without a time means (:class:`emulator.dates.EndOfDay`).
    - ``delimiter``: ``,`` or ``;``; the ``delimiter_type`` names ``COMMA`` and ``SEMICOLON``
      are accepted too and stored as the character.
    - ``columns_mapping``: attribute name → header as written, for orders and contacts CSV.
    - ``now``: the moment of the upload (aware); an offline ``DateTime`` after it is an
      error and ``check`` measures the 21-day window from it. ``None`` means the wall clock.
    - ``default_country_code``: what a 10-digit national phone number would get in front
      (used only to tell the canonical form in warnings; values are never rewritten).
    - ``unknown_columns``: see :class:`UnknownColumns`.
    """

    time_zone: str = "Europe/Moscow"
    end_of_day: EndOfDay = EndOfDay.METRICA
    delimiter: str = ","
    columns_mapping: dict[str, str] | None = None
    now: datetime | None = None
    default_country_code: str = DEFAULT_COUNTRY_CODE
    unknown_columns: UnknownColumns = UnknownColumns.WARN

    def __post_init__(self) -> None:
        if self.delimiter in _DELIMITERS:  # a delimiter_type name is accepted too
            object.__setattr__(self, "delimiter", _DELIMITERS[self.delimiter])
        if self.delimiter not in _DELIMITERS.values():
            raise ValueError(f"delimiter {self.delimiter!r} is not ',' or ';' (COMMA or SEMICOLON)")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be a timezone-aware datetime")
