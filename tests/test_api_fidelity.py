"""docs/FIDELITY.md is true: its routes and parameters are exactly what the app serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.api import create_app, inprocess_client

LEDGER = Path(__file__).resolve().parents[1] / "docs" / "FIDELITY.md"
METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}
SERVED = {"implemented", "partial"}
PARAMETER_STATUSES = {"implemented", "partial", "ignored", "not"}
FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def sections() -> dict[str, list[list[str]]]:
    """Table rows (cells stripped of backticks) under each ``## `` heading of the ledger."""
    found: dict[str, list[list[str]]] = {}
    current = ""
    for line in LEDGER.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            found[current] = []
        elif line.startswith("|") and not re.fullmatch(r"\|[-| ]+\|", line):
            cells = [cell.strip().replace("`", "") for cell in line.strip("|").split("|")]
            found[current].append(cells)
    return found


LEDGER_SECTIONS = sections()


def operations() -> dict[tuple[str, str], dict]:
    document = create_app(Emulator()).openapi()
    return {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        if path not in FRAMEWORK
        for method, operation in methods.items()
    }


OPERATIONS = operations()


def real(key: tuple[str, str]) -> bool:
    return not key[1].startswith("/_emulator")


def parameters(operation: dict) -> set[tuple[str, str]]:
    """(name, in) of an operation, the body as ``file``/multipart or its JSON keys/body."""
    found = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        found.add(("file", "multipart"))
    elif "application/json" in content:
        properties = content["application/json"]["schema"].get("properties", {})
        found |= {(name, "body") for name in properties}
    return found


def route_rows() -> dict[tuple[str, str], str]:
    rows = [r for r in LEDGER_SECTIONS["Real routes"] if r[0] in METHODS]
    table = {(r[0], r[1]): r[2] for r in rows}
    assert len(table) == len(rows), "a route is listed twice"
    return table


def test_every_status_is_known():
    assert set(route_rows().values()) <= SERVED | {"not"}
    statuses = {r[3] for r in LEDGER_SECTIONS["Parameters"] if r[0] != "Route"}
    assert statuses <= PARAMETER_STATUSES


def test_served_routes_are_exactly_the_apps_real_routes():
    ledger = {key for key, status in route_rows().items() if status in SERVED}
    app = {key for key in OPERATIONS if real(key)}
    assert ledger - app == set(), "listed as served but missing from the app"
    assert app - ledger == set(), "served by the app but missing from the ledger"


def test_routes_marked_not_are_not_served():
    unserved = {key for key, status in route_rows().items() if status == "not"}
    assert unserved
    assert unserved & set(OPERATIONS) == set()


@pytest.mark.parametrize(
    "key", sorted(k for k, s in route_rows().items() if s == "not"), ids=" ".join
)
def test_routes_marked_not_answer_404_or_405_in_the_envelope(key):
    method, path = key
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    with inprocess_client(Emulator(), "any") as client:
        response = client.request(method, concrete)
    assert response.status_code in (404, 405)
    assert response.json()["code"] == response.status_code


def test_parameters_are_exactly_the_apps():
    listed: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for route, name, where, *_ in LEDGER_SECTIONS["Parameters"]:
        if route == "Route":
            continue
        method, path = route.split(" ", 1)
        listed.setdefault((method, path), set()).add((name, where))
    served = {key for key, status in route_rows().items() if status in SERVED}
    assert set(listed) <= served, "parameters of a route that is not served"
    for key, operation in OPERATIONS.items():
        if real(key):
            assert listed.get(key, set()) == parameters(operation), key


def test_control_routes_are_exactly_the_apps():
    rows = {
        (r[0], r[1]) for r in LEDGER_SECTIONS["Control routes (emulator only)"] if r[0] in METHODS
    }
    assert rows == {key for key in OPERATIONS if not real(key)}
