"""pytest plugin (entry point ``pytest11``): the ``metrica_emulator`` fixture.

One HTTP emulator per test session, on a free loopback port in a background thread, with its
state in an SQLite file under pytest's temporary directory; every test starts from a fresh
state with one counter and a token::

    def test_my_exporter(metrica_emulator):
        metrica_emulator.load_visits([{"visit_id": 1, "client_id": 42,
                                       "start_time": "2024-01-10T10:00:00+03:00"}])
        my_exporter.run(base_url=metrica_emulator.base_url, token=metrica_emulator.token)
        assert metrica_emulator.order("704")["linked_visit_id"] == 1

Quotas are off (turn them on with ``metrica_emulator.client.put("/_emulator/quotas",
json={"enabled": True})``); everything else behaves as ``crmemu serve``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

COUNTER_ID = 2215573
TOKEN = "test-token"
SCOPES = ("metrika:read", "metrika:write", "metrika:offline_data")


class EmulatorClock:
    """The emulator's virtual clock over its control routes."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def now(self) -> datetime:
        return datetime.fromisoformat(_ok(self._client.get("/_emulator/clock"))["now"])

    def set(self, moment: datetime) -> datetime:
        body = _ok(self._client.post("/_emulator/clock", json={"now": moment.isoformat()}))
        return datetime.fromisoformat(body["now"])

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move forward by ``seconds`` plus any ``days=``/``hours=``/``minutes=``."""
        total = seconds + timedelta(**delta).total_seconds()
        body = _ok(self._client.post("/_emulator/clock", json={"advance_seconds": total}))
        return datetime.fromisoformat(body["now"])


class MetricaEmulator:
    """A running emulator: where it is, what to authenticate with, and its control routes.

    ``client`` is an ``httpx.Client`` on ``base_url`` that already sends the token.
    """

    def __init__(self, base_url: str, token: str = TOKEN, counter_id: int = COUNTER_ID) -> None:
        self.base_url = base_url
        self.token = token
        self.counter_id = counter_id
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"OAuth {token}"}, timeout=30
        )
        self.clock = EmulatorClock(self.client)

    def reset(self) -> None:
        """Forget all state and set up the default counter again."""
        _ok(self.client.post("/_emulator/reset", json={}))
        _ok(self.client.put("/_emulator/quotas", json={"enabled": False}))
        self.put_counter()

    def put_counter(self, counter_id: int | None = None, **setup: Any) -> dict[str, Any]:
        """Create or replace a counter (``time_zone``, ``goals``, ``rules``, ``tokens``).

        The fixture's token keeps full access unless ``tokens`` is given.
        """
        setup.setdefault("tokens", {self.token: list(SCOPES)})
        return _ok(
            self.client.put(f"/_emulator/counters/{counter_id or self.counter_id}", json=setup)
        )

    def load_visits(
        self, visits: Iterable[Any] | bytes | str, counter_id: int | None = None
    ) -> int:
        """Load visits: ``Visit`` objects, dicts of the control fields, or CSV text."""
        path = f"/_emulator/counters/{counter_id or self.counter_id}/visits"
        if isinstance(visits, bytes | str):
            data = visits.encode() if isinstance(visits, str) else visits
            response = self.client.post(path, content=data, headers={"Content-Type": "text/csv"})
        else:
            response = self.client.post(path, json={"visits": [_visit_json(v) for v in visits]})
        return int(_ok(response)["loaded"])

    def order(self, order_id: str, counter_id: int | None = None) -> dict[str, Any]:
        """The order's fields, linked visit, decisions and goal reaches."""
        key = quote(order_id, safe="")  # ids such as "#auto:…" need escaping in a path
        return _ok(
            self.client.get(f"/_emulator/counters/{counter_id or self.counter_id}/orders/{key}")
        )

    def goal_reaches(self, counter_id: int | None = None) -> list[dict[str, Any]]:
        path = f"/_emulator/counters/{counter_id or self.counter_id}/goal_reaches"
        return _ok(self.client.get(path))["goal_reaches"]

    def close(self) -> None:
        self.client.close()


def _visit_json(visit: Any) -> Mapping[str, Any]:
    if dataclasses.is_dataclass(visit) and not isinstance(visit, type):
        from emulator.serialize import to_jsonable

        return to_jsonable(visit)
    return visit


def _ok(response: httpx.Response) -> Any:
    if response.is_error:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text}"
        )
    return response.json()


@pytest.fixture(scope="session")
def metrica_emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's emulator server; yields its base URL."""
    from emulator import Emulator
    from emulator.api import ApiSettings, LiveServer, QuotaSettings, create_app

    emulator = Emulator(tmp_path_factory.mktemp("metrica_emulator") / "state.sqlite3")
    app = create_app(emulator, ApiSettings(quotas=QuotaSettings(enabled=False)))
    with LiveServer(app) as server:
        yield server.base_url
    emulator.close()


@pytest.fixture
def metrica_emulator(metrica_emulator_server: str) -> Iterator[MetricaEmulator]:
    """A fresh emulator state for this test: one counter, a token, the virtual clock."""
    handle = MetricaEmulator(metrica_emulator_server)
    handle.reset()
    try:
        yield handle
    finally:
        handle.close()
