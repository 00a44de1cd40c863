"""The ``metrica_emulator`` pytest fixture and the in-process client, as their users use them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator import Emulator, Visit
from emulator.api import inprocess_client
from emulator.sim import load_settings_file, send_timeline, simulate

SIMPLE = b"id,create_date_time,client_ids,order_status,revenue\nA1,02.01.2024 10:00,9,PAID,100\n"


def upload(emulator) -> None:
    response = emulator.client.post(
        f"/cdp/api/v1/counter/{emulator.counter_id}/data/simple_orders?merge_mode=SAVE",
        files={"file": SIMPLE},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("run", [1, 2])
def test_every_test_starts_from_a_fresh_state(metrica_emulator, run):
    path = f"/cdp/api/v1/counter/{metrica_emulator.counter_id}/last_uploadings"
    assert metrica_emulator.client.get(path).json() == {"uploadings": []}
    assert metrica_emulator.goal_reaches() == []
    metrica_emulator.clock.advance(days=run)
    upload(metrica_emulator)


def test_the_handle_drives_clock_visits_and_orders(metrica_emulator):
    emulator = metrica_emulator
    assert emulator.base_url.startswith("http://127.0.0.1:")
    assert emulator.token and emulator.counter_id == 2215573
    start = emulator.clock.set(datetime(2024, 1, 2, 12, tzinfo=UTC))
    assert emulator.clock.advance(hours=1) == start.replace(hour=13)
    assert emulator.clock.now() == start.replace(hour=13)
    loaded = emulator.load_visits([Visit(1, 9, datetime(2024, 1, 2, 6, tzinfo=UTC), 30, "organic")])
    assert loaded == 1
    assert emulator.load_visits("visit_id,client_id,start_time\n2,9,1704100000\n") == 1
    upload(emulator)
    assert emulator.order("A1")["linked_visit_id"] == 1
    with pytest.raises(AssertionError, match="404"):
        emulator.order("missing")
    emulator.reset()
    assert emulator.client.get(f"/management/v1/counter/{emulator.counter_id}").status_code == 200
    with pytest.raises(AssertionError, match="404"):
        emulator.order("A1")


def test_a_simulated_timeline_replays_through_the_in_process_client():
    """The simulator's replayer talks HTTP to an in-process emulator, no socket involved."""
    settings = load_settings_file("scenarios/sim/default.toml").with_overrides(
        days=10, visitors_per_day=30
    )
    result = simulate(settings, seed=1)
    emulator = Emulator()
    with inprocess_client(emulator) as client:
        report = send_timeline(
            result.timeline,
            client,
            settings.export.token,
            settings.export.counter_id,
            visits=result.visits,
            counter=result.counter,
            sleep=lambda seconds: None,
        )
    assert report.ok, [e for e in report.exchanges if e.status != 200][:3]
    counter = settings.export.counter_id
    last_sent = result.timeline[-1].sent_at.timestamp()
    due = sum(1 for start in result.visits.columns["start"] if start <= last_sent)
    assert len(emulator.visits(counter)) == due
    linked = [k for k in emulator.order_ids(counter) if emulator.order(counter, k).linked_visit_id]
    assert linked, "the simulated orders link to the simulated visits"
    uploads = [e for e in report.exchanges if e.seq is not None]
    assert len(uploads) == len(result.timeline)


def test_in_process_client_answers_errors_in_the_envelope():
    emulator = Emulator()
    with inprocess_client(emulator) as client:
        response = client.get(
            "/management/v1/counter/1/goals", headers={"Authorization": "OAuth nobody"}
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["error_type"] == "unauthorized"
