"""The CDP attribute catalogue the real service predefines: system attributes and name rules.

Source: https://www.yandex.com/dev/metrika/en/management/openapi/schema/createAttributes and
getAttributes (project spec §4.7, §4.11-§4.13). Custom attribute names must not reuse a system
attribute name and follow ``^[\\w-:]+$`` with 1..255 characters.
"""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"^[\w\-:]{1,255}$")

SYSTEM_ATTRIBUTES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "CONTACT": (
        ("uniq_id", "text", False),
        ("name", "text", False),
        ("create_date_time", "datetime", False),
        ("update_date_time", "datetime", False),
        ("client_ids", "numeric", True),
        ("emails", "email", True),
        ("phones", "phone", True),
        ("emails_md5", "text", True),
        ("phones_md5", "text", True),
        ("birth_date", "date", False),
        ("user_comment", "text", False),
    ),
    "ORDER": (
        ("id", "text", False),
        ("client_uniq_id", "text", False),
        ("client_type", "text", False),
        ("create_date_time", "datetime", False),
        ("update_date_time", "datetime", False),
        ("finish_date_time", "datetime", False),
        ("order_status", "text", False),
        ("revenue", "numeric", False),
        ("cost", "numeric", False),
        ("currency", "text", False),
        ("goals", "text", True),
        ("products", "product", True),
        ("user_comment", "text", False),
    ),
    "SIMPLE_ORDER": (
        ("id", "text", False),
        ("create_date_time", "datetime", False),
        ("client_uniq_id", "text", False),
        ("client_ids", "numeric", True),
        ("emails", "email", True),
        ("phones", "phone", True),
        ("emails_md5", "text", True),
        ("phones_md5", "text", True),
        ("order_status", "text", False),
        ("revenue", "numeric", False),
        ("cost", "numeric", False),
        ("goals", "text", True),
        ("currency", "text", False),
    ),
    "COMPANY": (
        ("uniq_id", "text", False),
        ("name", "text", False),
        ("create_date_time", "datetime", False),
        ("update_date_time", "datetime", False),
    ),
}


def is_valid_name(name: str) -> bool:
    """Attribute, product and status ids: ``^[\\w-:]+$``, 1..255 characters."""
    return bool(NAME_PATTERN.match(name))


def system_attribute_names(entity_type: str) -> frozenset[str]:
    return frozenset(name for name, _, _ in SYSTEM_ATTRIBUTES.get(entity_type, ()))
