"""A run's files: byte-identical for one seed, different for another, in the documented layout,
written by ``crmemu simulate``."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from emulator.cli import main
from emulator.sim import CONTROL_FIELDS, load_settings, simulate, write_run

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = load_settings(
    {
        "simulation": {
            "days": 4,
            "traffic": {"visitors_per_day": 900.0},
            "crm": {"pipeline": "eshop"},
            "call_tracking": {"pool_size": 5},  # often exhausted: static calls,
        },
        "export": {
            "exporters": {
                "daily": {"format": "orders_csv"},
                "json": {"format": "orders_json", "schedule": "hourly"},
                "simple": {"format": "simple_orders", "schedule": "realtime"},
                "offline": {"format": "offline_conversions"},
                "calls": {"format": "calls"},
            },
            "migration": {"at": "2024-03-03T12:00:00", "variant": "new_ids"},
        },
    }
)


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folders = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        folder = tmp_path_factory.mktemp(name)
        write_run(simulate(SETTINGS, seed), folder)
        folders[name] = folder
    return folders


def test_one_seed_gives_byte_identical_files(runs):
    first, second = hashes(runs["a"]), hashes(runs["b"])
    assert len(first) > 20
    assert first == second


def test_another_seed_gives_other_files(runs):
    first, other = hashes(runs["a"]), hashes(runs["c"])
    assert first.keys() - {k for k in first if k.startswith("uploads/")} <= other.keys()
    assert first["visits.csv"] != other["visits.csv"]
    assert first["truth/orders.jsonl"] != other["truth/orders.jsonl"]


def test_the_layout_and_the_manifest(runs):
    folder = runs["a"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert manifest["settings"]["simulation"]["crm"]["pipeline"] == "eshop"
    assert {"simpy", "faker", "numpy", "python"} <= set(manifest["versions"])
    assert manifest["files"] == {k: v for k, v in hashes(folder).items() if k != "manifest.json"}
    for name in (
        "counter.json",
        "visits.csv",
        "visits.parquet",
        "crm/contacts.jsonl",
        "crm/deals.jsonl",
        "crm/status_history.csv",
        "uploads.jsonl",
        "truth/orders.jsonl",
        "truth/uploads.jsonl",
        "truth/ad_costs.csv",
    ):
        assert (folder / name).is_file(), name

    with (folder / "visits.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CONTROL_FIELDS
    assert (
        len(rows)
        == manifest["counts"]["visits"]
        == pq.read_table(folder / "visits.parquet").num_rows
    )

    lines = [json.loads(x) for x in (folder / "uploads.jsonl").read_text().splitlines()]
    assert len(lines) == manifest["counts"]["uploads"]
    for line in lines:
        body = (folder / line["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == line["sha256"]
        assert line["path"].startswith(("/cdp/api/v1/counter/", "/management/v1/counter/"))
    assert {Path(line["file"]).name[:6] for line in lines} == {
        f"{i:06d}" for i in range(1, len(lines) + 1)
    }


def test_the_truth_names_each_orders_person_visit_and_channel(runs):
    folder = runs["a"]
    truth = [json.loads(x) for x in (folder / "truth/orders.jsonl").read_text().splitlines()]
    visits = {r["visit_id"]: r for r in csv.DictReader((folder / "visits.csv").open(newline=""))}
    deals = [json.loads(x) for x in (folder / "crm/deals.jsonl").read_text().splitlines()]
    assert [t["order_id"] for t in truth] == [d["id"] for d in deals]
    for order in truth:
        visit = visits[str(order["visit_id"])]
        assert int(visit["client_id"]) == order["true_client_id"]
        assert order["lead_channel"] and order["traffic_source"] == visit["traffic_source"]
        assert order["status_history"][-1][0] == order["status"]
    uploads = [json.loads(x) for x in (folder / "truth/uploads.jsonl").read_text().splitlines()]
    assert {u["reason"] for u in uploads} >= {"setup", "scheduled", "migration"}


def test_every_uploaded_csv_file_passes_crmemu_check(runs, capsys):
    folder = runs["a"]
    lines = [json.loads(x) for x in (folder / "uploads.jsonl").read_text().splitlines()]
    checked = 0
    for line in lines:
        if line["content_type"] != "text/csv":
            continue
        params = dict(line["params"])
        argv = [
            "check",
            str(folder / line["file"]),
            "--kind",
            line["kind"],
            "--now",
            line["sent_at"],
        ]
        if "delimiter_type" in params:
            argv += ["--delimiter", params["delimiter_type"]]
        if "columns_mapping" in params:
            argv += ["--columns-mapping", params["columns_mapping"]]
        assert main(argv) == 0, (line["file"], capsys.readouterr().out[-2000:])
        checked += 1
    kinds = {line["kind"] for line in lines if line["content_type"] == "text/csv"}
    assert kinds == {"contacts", "orders", "simple_orders", "offline_conversions", "calls"}
    assert checked > 10


def test_the_command_writes_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "simulate",
            str(ROOT / "scenarios/sim/default.toml"),
            "--seed",
            "3",
            "--out",
            str(out),
            "--days",
            "2",
            "--visitors-per-day",
            "300",
        ]
    )
    assert code == 0
    assert "visits" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["simulation"]["days"] == 2
    assert manifest["settings"]["simulation"]["traffic"]["visitors_per_day"] == 300.0
    assert (out / "uploads.jsonl").is_file()


def test_the_command_names_a_bad_key(tmp_path, capsys):
    settings = tmp_path / "bad.toml"
    settings.write_text("[simulation]\nvisitors = 3\n")
    assert main(["simulate", str(settings), "--out", str(tmp_path / "o")]) == 2
    assert "simulation.visitors" in capsys.readouterr().err
