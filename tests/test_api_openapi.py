"""The OpenAPI document is served, and a property-based run over it finds no 5xx.

schemathesis generates requests for every operation of the app's own document and sends them
to a live server on loopback with a token that holds every scope. The counter id is pinned to
the seeded counter (or one the token cannot open), so most requests get past auth and reach
the engine. The default run is small; ``pytest -m slow`` runs a bigger one.
"""

from __future__ import annotations

import copy

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from emulator import CounterConfig, Emulator
from emulator.api import ApiSettings, LiveServer, QuotaSettings, create_app

COUNTER = 2215573
TOKEN = "fuzz-token"
SCOPES = ("metrika:read", "metrika:write", "metrika:offline_data")
# Real routes hit the seeded counter (or one the token cannot open); control routes a counter
# of their own, so a random counter setup never takes the run's token away.
PINNED = {"counterId": [COUNTER, 1], "counter_id": [COUNTER + 1]}
EXCLUDED = {
    # Injected faults answer 5xx on purpose, and a reset forgets the counter the run uses.
    ("POST", "/_emulator/faults"),
    ("POST", "/_emulator/reset"),
}


def fuzz_document() -> dict:
    """The app's document with counter ids pinned and the excluded operations removed."""
    document = copy.deepcopy(create_app(Emulator()).openapi())
    for path, operations in document["paths"].items():
        for method in list(operations):
            if (method.upper(), path) in EXCLUDED:
                del operations[method]
                continue
            for parameter in operations[method].get("parameters", []):
                if parameter["name"] in PINNED:
                    parameter["schema"] = {"type": "integer", "enum": PINNED[parameter["name"]]}
    return document


# Fuzzing only: the coverage and examples phases multiply the requests without finding more.
FUZZ_ONLY = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}, "examples": {"enabled": False}}}
)
schema = schemathesis.openapi.from_dict(fuzz_document(), config=FUZZ_ONLY)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("openapi") / "state.sqlite3")
    emu.put_counter(CounterConfig(COUNTER, tokens={TOKEN: SCOPES}))
    app = create_app(emu, ApiSettings(quotas=QuotaSettings(enabled=False)))
    with LiveServer(app) as server, requests.Session() as session:
        yield server.base_url, session
    emu.close()


def test_openapi_document_and_docs_are_served(live):
    base_url, _ = live
    document = httpx.get(f"{base_url}/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/cdp/api/v1/counter/{counterId}/data/simple_orders" in document["paths"]
    security = document["paths"]["/stat/v1/data"]["get"]["security"]
    assert security == [{"OAuth": []}]
    assert "security" not in document["paths"]["/_emulator/clock"]["get"]
    assert httpx.get(f"{base_url}/docs").status_code == 200


REACHED: dict[str, set[int]] = {}
"""Statuses each real operation answered during the run (for the last test below)."""


def _call(case, live) -> None:
    base_url, _ = live
    # Set on the case itself: a case whose generated headers are empty sent none at all.
    case.headers = {**(case.headers or {}), "Authorization": f"OAuth {TOKEN}"}
    response = case.call(base_url=base_url)
    if not case.path.startswith("/_emulator"):
        REACHED.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
    case.validate_response(response, checks=[not_a_server_error])


FAST = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FAST
def test_no_server_errors(case, live):
    _call(case, live)


@pytest.mark.slow
@schema.parametrize()
@settings(FAST, max_examples=150, derandomize=False, phases=list(Phase))
def test_no_server_errors_long_run(case, live):
    _call(case, live)


def test_authenticated_routes_were_reached_past_auth():
    """The pinned counter id takes the run past 401/403 on every real operation."""
    if not REACHED:
        pytest.skip("run together with test_no_server_errors")
    stopped = sorted(op for op, statuses in REACHED.items() if statuses <= {401, 403})
    assert not stopped, f"only 401/403 on: {stopped}"
