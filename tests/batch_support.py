"""What the engine decides about a simulated world when an integrator replays it over HTTP, and
the same read from a batch run's Parquet, in one comparable shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from emulator.batch.replay import read_results
from emulator.batch.run import SUMMARY
from emulator.rules import RuleSet
from emulator.sim import SimulationResult, send_timeline


@dataclass(frozen=True)
class Outcome:
    """Linked orders (order id → visit id), decision codes per order, goal reaches and offline
    rows, each in a canonical order, and the uploads the service refused."""

    refused: list[int]
    links: dict[str, int | None]
    decisions: dict[str, tuple[str, ...]]
    reaches: list[tuple[Any, ...]]
    offline: list[tuple[Any, ...]]


def _reach(row: dict[str, Any]) -> tuple[Any, ...]:
    names = ("subject_type", "subject_key", "goal_id", "visit_id", "revenue", "currency", "at")
    return tuple(row[n] for n in names)


def _outcome(
    refused: list[int], orders: list[dict], reaches: list[dict], offline: list[dict]
) -> Outcome:
    return Outcome(
        refused=sorted(refused),
        links={o["order_id"]: o["linked_visit_id"] for o in orders},
        decisions={o["order_id"]: tuple(o["decisions"]) for o in orders},
        reaches=sorted(map(_reach, reaches), key=repr),
        offline=sorted((r["uploading_id"], r["line"], r["code"], r["visit_id"]) for r in offline),
    )


def replayed(
    result: SimulationResult, rules: RuleSet, client: httpx.Client, offline_ids: list[int]
) -> Outcome:
    """Replay ``result`` through ``client`` (an emulator's HTTP API) under ``rules``, move the
    clock past every processing time as ``crmemu run`` does, and read back the outcome."""
    counter = dict(result.counter) | {"rules": rules.to_mapping()}
    counter_id = result.settings.export.counter_id
    token = next(iter(counter["tokens"]))
    auth = {"Authorization": f"OAuth {token}"}
    report = send_timeline(
        result.timeline, client, token, counter_id, visits=result.visits, counter=counter
    )
    last = max(u.sent_at for u in result.timeline)
    end = last + timedelta(seconds=rules.processing_delay_seconds + 1)
    client.post("/_emulator/clock", json={"now": end.isoformat()}, headers=auth).raise_for_status()
    base = f"/_emulator/counters/{counter_id}"
    orders = client.get(f"{base}/orders", headers=auth).json()["orders"]
    reaches = client.get(f"{base}/goal_reaches", headers=auth).json()["goal_reaches"]
    offline = []
    for uid in offline_ids:
        rows = client.get(f"{base}/offline_conversions/{uid}/rows", headers=auth).json()["rows"]
        offline += [r | {"uploading_id": uid} for r in rows]
    return _outcome(report.failed, orders, reaches, offline)


def batched(out: Path) -> Outcome:
    """The outcome a batch run wrote under ``out``."""
    summary = json.loads((out / SUMMARY).read_text())
    return _outcome(
        summary["refused_uploads"],
        read_results(out, "orders").to_pylist(),
        read_results(out, "goal_reaches").to_pylist(),
        read_results(out, "offline_rows").to_pylist(),
    )
