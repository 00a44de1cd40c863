"""A counter with visits and simple orders behind an in-process client, for report tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from emulator import Emulator
from emulator.api import inprocess_client


def visit(visit_id: int, client_id: int, start: str, source: str, **extra: Any) -> dict:
    """A visit of the control route (``start`` in Moscow time, ``YYYY-MM-DDTHH:MM``)."""
    return {
        "visit_id": visit_id,
        "client_id": client_id,
        "start_time": f"{start}:00+03:00",
        "traffic_source": source,
        **extra,
    }


@contextmanager
def report_client(
    db: Path,
    counter: int,
    token: str,
    visits: Sequence[dict],
    orders: str,
    now: str,
    goals: Sequence[dict] = (),
) -> Iterator[httpx.Client]:
    """The counter set up, its clock at ``now``, ``visits`` loaded and ``orders`` (a
    simple-orders CSV) uploaded."""
    emu = Emulator(db)
    with inprocess_client(emu, token) as http:
        setup = {"tokens": {token: ["metrika:read", "metrika:write"]}, "goals": list(goals)}
        http.put(f"/_emulator/counters/{counter}", json=setup).raise_for_status()
        http.post("/_emulator/clock", json={"now": now}).raise_for_status()
        loaded = http.post(f"/_emulator/counters/{counter}/visits", json={"visits": visits})
        assert loaded.json() == {"loaded": len(visits)}, loaded.text
        uploaded = http.post(
            f"/cdp/api/v1/counter/{counter}/data/simple_orders?merge_mode=SAVE",
            files={"file": orders.encode()},
        )
        assert uploaded.status_code == 200, uploaded.text
        yield http
    emu.close()
