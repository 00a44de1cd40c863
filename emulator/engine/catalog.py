"""The counter's CDP catalogue: order-status mapping, custom attributes, products, types.

Sources: spec §4.6-§4.9 (``schema/order_statuses``, ``schema/attributes``, ``schema/products``,
``schema/types``); system attributes and name rules are in :mod:`emulator.attributes`.
"""

from __future__ import annotations

from typing import Any

from emulator import attributes as schema
from emulator import formats
from emulator.domain import OrderStatus
from emulator.engine.params import entity_type, list_of_objects
from emulator.errors import ApiError
from emulator.serialize import from_jsonable, to_jsonable
from emulator.store import Session

PREDEFINED_TYPES = ("numeric", "date", "datetime", "email", "text")
"""Custom attribute ``type_name`` values of the PREDEFINED group (spec §4.7)."""


def map_statuses(session: Session, counter_id: int, body: Any) -> None:
    """``POST schema/order_statuses`` (spec §4.6): an upsert by status id."""
    statuses, errors = formats.parse_status_mapping(body)
    if errors:
        raise ApiError.invalid_uploading(errors)
    session.counters.upsert_statuses(counter_id, [(s.id, to_jsonable(s)) for s in statuses])


def statuses(session: Session, counter_id: int) -> dict[str, OrderStatus]:
    records = (from_jsonable(OrderStatus, r) for r in session.counters.status_mapping(counter_id))
    return {s.id: s for s in records}


def check_attributes(entity_type_: str | None, body: Any) -> tuple[str, list[dict[str, Any]]]:
    """``POST schema/attributes`` (spec §4.7): names, flags and no system names."""
    entity = entity_type(entity_type_)
    attributes = list_of_objects(body, "attributes")
    for i, attribute in enumerate(attributes, start=1):
        name = attribute.get("name")
        if not isinstance(name, str) or not schema.is_valid_name(name):
            raise ApiError(
                "invalid_parameter",
                f"attributes[{i}].name {name!r} must match ^[\\w-:]+$ (1..255)",
                f"attributes[{i}].name",
            )
        if not isinstance(attribute.get("multivalued"), bool):
            raise ApiError(
                "invalid_parameter",
                f"attributes[{i}].multivalued must be true or false",
                f"attributes[{i}].multivalued",
            )
        if name in schema.system_attribute_names(entity):
            raise ApiError(
                "invalid_parameter",
                f"{name!r} is a system attribute of {entity}",
                f"attributes[{i}].name",
            )
    return entity, attributes


def attributes(session: Session, counter_id: int, entity_type_: str | None) -> dict[str, Any]:
    entity = entity_type(entity_type_)
    system = [
        {"name": name, "type_name": type_name, "multivalued": multi, "type_group": "PREDEFINED"}
        for name, type_name, multi in schema.SYSTEM_ATTRIBUTES[entity]
    ]
    return {
        "system_attributes": system,
        "custom_attributes": session.counters.attributes(counter_id, entity),
    }


def check_products(body: Any) -> list[dict[str, Any]]:
    """``POST schema/products`` (spec §4.8)."""
    if not isinstance(body, dict):
        raise ApiError("invalid_json", "the body must be a JSON object")
    list_of_objects(body, "attributes", required=True, maximum=160_000)
    items = list_of_objects(body, "items", required=False, maximum=160_000)
    for i, item in enumerate(items, start=1):
        name = item.get("name")
        if not isinstance(name, str) or not schema.is_valid_name(name):
            raise ApiError(
                "invalid_parameter",
                f"items[{i}].name {name!r} must match ^[\\w-:]+$ (1..255)",
                f"items[{i}].name",
            )
    return items


def attribute_types(custom: bool = False) -> list[dict[str, Any]]:
    """``GET schema/types`` (system attribute types) or ``schema/predefined_types`` (those a
    custom attribute may take). The docs show neither body (spec §4.9); these are the
    ``type_name`` values of spec §4.7 and of the system attributes."""
    names = (
        PREDEFINED_TYPES
        if custom
        else sorted({t for attrs in schema.SYSTEM_ATTRIBUTES.values() for _, t, _ in attrs})
    )
    return [
        {"name": name, "type_group": "SYSTEM_LIST" if name == "product" else "PREDEFINED"}
        for name in names
    ]
