"""``run_scenario``: simulate → export → emulator → reports → scorecard, as a user's pipeline would.

Everything crosses the HTTP API, whether the emulator runs in-process (an ASGI client, no
socket) or behind a base URL, so both give the same scorecard for the same seed. Results are
read back through the emulator's control routes (orders and their decisions, goal reaches) and
the Reporting API (``/stat/v1/data``), never from its internals.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from emulator.domain import OrderStatus, StatusType
from emulator.rules import RuleSet
from emulator.scenario.expectations import evaluate
from emulator.scenario.expected import expected_from_fixations, expected_perfect
from emulator.scenario.scoring import scorecard
from emulator.scenario.spec import Scenario
from emulator.sim import ReplayReport, SimulationResult, send_timeline, simulate, truth_orders

ORDER_KINDS = frozenset({"orders", "simple_orders"})
SOURCE_METRICS = (
    "ym:s:cdpOrdersAllOrders",
    "ym:s:cdpOrdersPayed",
    "ym:s:cdpOrders<currency>Revenue",
    "ym:s:cdpOrders<currency>Profit",
)
VIA = ("inprocess", "http")
ATTRIBUTION = "lastsign"
"""The model of the scorecard's source report: the Metrica interface's default."""


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    via: str
    scorecard: dict[str, Any]
    misses: list[str] = field(default_factory=list)
    out: Path | None = None

    @property
    def passed(self) -> bool:
        return not self.misses


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    via: str = "inprocess",
    base_url: str | None = None,
    token: str | None = None,
    out: str | Path | None = None,
    db: str | Path = ":memory:",
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run ``scenario`` end to end and score it; writes scorecard and plots into ``out``.

    ``progress`` hears one line as each phase starts (what ``crmemu run`` prints)."""
    if via not in VIA:
        raise ValueError(f"via must be one of {', '.join(VIA)}")
    say = progress or (lambda line: None)
    seed = scenario.seed if seed is None else seed
    with ExitStack() as stack:
        client = stack.enter_context(client_for(via, base_url, db))
        client.post("/_emulator/reset", json={}).raise_for_status()  # reachable, and clean
        days = scenario.settings.simulation.days
        say(f"[1/5] simulating {days} days of {scenario.name} (seed {seed})")
        result = simulate(scenario.settings, seed)
        where = f" to {base_url}" if via == "http" else " in-process"
        say(f"[2/5] sending {len(result.timeline)} uploads and {len(result.visits)} visits{where}")
        say("[3/5] then moving the clock past the last upload, so that everything is processed")
        replayed = replay(client, result, scenario.rules, token)
        say("[4/5] reading orders, goal reaches and reports; scoring against the truth")
        card = _score(
            client,
            result,
            scenario,
            replayed.counter,
            replayed.counter_id,
            replayed.token,
        )
    card["run"] = {
        "scenario": scenario.name,
        "seed": seed,
        "via": via,
        "uploads": len(result.timeline),
        "uploads_failed": len(replayed.report.failed),
        "visits": len(result.visits),
    }
    run = RunResult(scenario, seed, via, card, evaluate(scenario.expectations, card))
    if out is not None:
        say(f"[5/5] writing the scorecard and plots to {out}")
        run.out = _write(run, Path(out))
    return run


def client_for(via: str, base_url: str | None, db: str | Path) -> Any:
    if via == "http":
        if not base_url:
            raise ValueError("--via http needs --base-url (e.g. http://127.0.0.1:8080)")
        return httpx.Client(base_url=base_url, timeout=120)
    from emulator import Emulator
    from emulator.api import inprocess_client

    return _Owned(inprocess_client(Emulator(db)))


class _Owned:
    """Closes the in-process client (and so its emulator) with the run."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def __enter__(self) -> httpx.Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


@dataclass(frozen=True)
class Replayed:
    """A simulated history sent to an emulator: the counter as configured, and how it went."""

    counter: dict[str, Any]
    counter_id: int
    token: str
    report: ReplayReport


def replay(
    client: httpx.Client, result: SimulationResult, rules: RuleSet, token: str | None = None
) -> Replayed:
    """Send ``result``'s visits and uploads to the emulator behind ``client`` on a counter
    with ``rules``, then move the clock past the last upload and any processing delay, so
    that everything is processed. ``token`` is added to the counter's own tokens."""
    counter = dict(result.counter)
    counter["rules"] = rules.to_mapping()
    counter_id = result.settings.export.counter_id
    own_token = token or next(iter(counter["tokens"]))
    if token:  # added to the server's tokens: the counter PUT merges, it replaces nothing
        counter["tokens"] = {token: ["metrika:read", "metrika:write", "metrika:offline_data"]}
    report = send_timeline(
        result.timeline, client, own_token, counter_id, visits=result.visits, counter=counter
    )
    last = max((u.sent_at for u in result.timeline), default=result.calendar.origin)
    end = last + timedelta(seconds=rules.processing_delay_seconds + 1)
    client.post("/_emulator/clock", json={"now": end.isoformat()}).raise_for_status()
    return Replayed(counter, counter_id, own_token, report)


def get_json(client: httpx.Client, path: str, token: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers={"Authorization": f"OAuth {token}"})
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:500]}")
    return response.json()


def _score(
    client: httpx.Client,
    result: SimulationResult,
    scenario: Scenario,
    counter: Mapping[str, Any],
    counter_id: int,
    token: str,
) -> dict[str, Any]:
    truth = truth_orders(result)
    orders = get_json(client, f"/_emulator/counters/{counter_id}/orders", token)["orders"]
    reaches = get_json(client, f"/_emulator/counters/{counter_id}/goal_reaches", token)[
        "goal_reaches"
    ]
    fired = Counter(r["goal"] for r in reaches if r["subject_type"] == "order")
    js_goals = {g["identifier"]: g["name"] for g in counter["goals"] if g.get("identifier")}
    statuses = result.pipeline.order_statuses()
    base = f"/_emulator/counters/{counter_id}/orders"
    histories = {
        o["order_id"]: get_json(client, f"{base}/{o['order_id']}", token)["decisions"]
        for o in orders
        if o["linked_visit_id"] is not None
    }
    checked = expected_from_fixations(
        histories, _counter_statuses(client, counter_id, token), js_goals, scenario.rules
    )
    return scorecard(
        truth,
        orders,
        _deal_of(result),
        _first_sent(result),
        dict(fired),
        expected_perfect(truth, statuses, js_goals, scenario.rules),
        checked,
        _sources(client, result, counter_id, token),
        _offline(client, counter_id, token),
        currency=result.settings.simulation.crm.currency,
        attribution=ATTRIBUTION,
    )


def _counter_statuses(client: httpx.Client, counter_id: int, token: str) -> list[OrderStatus]:
    """The status mapping the counter holds (what the engine resolved statuses with)."""
    body = get_json(client, f"/cdp/api/v1/counter/{counter_id}/schema/order_statuses", token)
    return [
        OrderStatus(
            s["id"], StatusType(s["type"]), goal_action_ids=tuple(s.get("goal_action_ids") or ())
        )
        for s in body["order_statuses"]
    ]


def _offline(client: httpx.Client, counter_id: int, token: str) -> dict[str, Any]:
    """Rows sent and linked per kind, from the offline uploadings the API lists."""
    base = f"/management/v1/counter/{counter_id}/offline_conversions"
    summary = {}
    for name, path in (("conversions", "uploadings"), ("calls", "calls_uploadings")):
        uploadings = get_json(client, f"{base}/{path}", token)["uploadings"]
        rows = sum(u["line_quantity"] for u in uploadings)
        linked = sum(u.get("linked_quantity") or 0 for u in uploadings)
        summary[name] = {
            "uploadings": len(uploadings),
            "rows": rows,
            "linked": linked,
            "link_rate": round(linked / rows, 4) if rows else None,
        }
    return summary


def _deal_of(result: SimulationResult) -> Callable[[str], str | None]:
    """Which CRM deal an emulator order is: its id, or its id under the migration's prefix."""
    deals = {deal.id for deal in result.crm.deals}
    migration = result.settings.export.migration
    prefix = migration.id_prefix if migration.variant == "new_ids" else ""

    def deal_of(order_id: str) -> str | None:
        if order_id in deals:
            return order_id
        if prefix and order_id.startswith(prefix) and order_id[len(prefix) :] in deals:
            return order_id[len(prefix) :]
        return None

    return deal_of


def _first_sent(result: SimulationResult) -> dict[str, datetime]:
    deal_of = _deal_of(result)
    first: dict[str, datetime] = {}
    for upload in result.timeline:
        if upload.kind not in ORDER_KINDS:
            continue
        for record in upload.records:
            deal = deal_of(record.id) if record.id else None
            if deal is not None and deal not in first:
                first[deal] = upload.sent_at
    return first


def _sources(
    client: httpx.Client, result: SimulationResult, counter_id: int, token: str
) -> list[dict[str, Any]]:
    """ "Order sources from CRM" by attributed traffic source, over the whole run."""
    report = by_source(client, result, counter_id, token, SOURCE_METRICS)
    rows = []
    for row in report["data"]:
        values = dict(zip(SOURCE_METRICS, row["metrics"], strict=True))
        dimension = row["dimensions"][0]
        rows.append(
            {
                "source": dimension.get("id") or dimension.get("name"),
                "orders": values["ym:s:cdpOrdersAllOrders"] or 0,
                "paid": values["ym:s:cdpOrdersPayed"] or 0,
                "revenue": values["ym:s:cdpOrders<currency>Revenue"] or 0,
                "profit": values["ym:s:cdpOrders<currency>Profit"] or 0,
            }
        )
    return rows


def by_source(
    client: httpx.Client,
    result: SimulationResult,
    counter_id: int,
    token: str,
    metrics: Sequence[str],
) -> dict[str, Any]:
    """``/stat/v1/data`` by the attributed traffic source over the whole run (two months of
    margin either side, so late orders and early visits count)."""
    start = result.calendar.origin.date() - timedelta(days=60)
    end = result.calendar.origin.date() + timedelta(days=result.settings.simulation.days + 60)
    return get_json(
        client,
        "/stat/v1/data",
        token,
        ids=counter_id,
        metrics=",".join(metrics),
        dimensions=f"ym:s:{ATTRIBUTION}TrafficSource",
        date1=start.isoformat(),
        date2=end.isoformat(),
        attribution=ATTRIBUTION,
        limit=1000,
    )


def _write(run: RunResult, out: Path) -> Path:
    from emulator.scenario.plots import draw_all

    out.mkdir(parents=True, exist_ok=True)
    card = dict(run.scorecard)
    card["expectations"] = {
        "checked": [e.describe() for e in run.scenario.expectations],
        "misses": run.misses,
    }
    (out / "scorecard.json").write_text(
        json.dumps(card, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    draw_all(run.scorecard, out, title=run.scenario.name)
    return out
