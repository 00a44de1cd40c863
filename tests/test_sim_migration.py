"""The three CRM-migration variants produce exactly the collisions and duplicates they should,
read from the exported files themselves (parsed back with the project's parser)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest

from emulator.sim import load_settings, simulate
from emulator.sim.verify import parse_upload

TZ = "Europe/Moscow"
MIGRATION = datetime(2024, 3, 8, 2, 0)


def run(variant: str, fmt: str = "orders_csv"):
    settings = load_settings(
        {
            "simulation": {"days": 12, "traffic": {"visitors_per_day": 1200.0}},
            "export": {
                "exporters": {"crm": {"format": fmt}},
                "migration": {"at": MIGRATION, "variant": variant, "id_prefix": "v2-"},
            },
        }
    )
    return simulate(settings, seed=8)


def exported(result, kind: str):
    """(phase, id, create_date_time) of every row of ``kind`` as parsed from the files;
    phase is ``before``, ``migration`` or ``after``."""
    rows = []
    moment = result.calendar.local(result.calendar.seconds(MIGRATION))
    for upload in result.timeline:
        if upload.kind != kind:
            continue
        if upload.reason == "migration":
            phase = "migration"
        else:
            phase = "before" if upload.collected_at < moment else "after"
        parsed = parse_upload(upload, TZ)
        assert not parsed.errors
        for record in parsed.records:
            key = record.uniq_id if kind == "contacts" else record.id
            rows.append((phase, key, record.create_date_time))
    return rows


def dates_by_id(rows, phases):
    dates = defaultdict(set)
    for phase, key, created in rows:
        if phase in phases:
            dates[key].add(created)
    return dates


def migrated_deals(result):
    moment = result.calendar.seconds(MIGRATION)
    return {d.id for d in result.crm.deals if d.created < moment}


@pytest.mark.parametrize("kind", ["orders", "contacts"])
def test_same_ids_re_uploads_all_history_without_any_collision(kind):
    result = run("same_ids")
    rows = exported(result, kind)
    old = dates_by_id(rows, {"before"})
    mig = dates_by_id(rows, {"migration"})
    if kind == "orders":
        assert set(mig) == migrated_deals(result)
    assert set(old) <= set(mig)
    every = dates_by_id(rows, {"before", "migration", "after"})
    assert all(len(dates) == 1 for dates in every.values())  # one creation date per id


def test_new_dates_collide_on_every_migrated_order_and_contact():
    result = run("new_dates")
    moment = result.calendar.local(result.calendar.seconds(MIGRATION))
    for kind in ("orders", "contacts"):
        rows = exported(result, kind)
        old = dates_by_id(rows, {"before"})
        new = dates_by_id(rows, {"migration", "after"})
        collisions = {key for key in old if new.get(key) and new[key] != old[key]}
        assert collisions == set(old)  # every id sent before now arrives with another date
        assert all(new[key] == {moment} for key in collisions)
    assert set(dates_by_id(exported(result, "orders"), {"migration"})) == migrated_deals(result)


def test_new_ids_duplicate_the_whole_history_under_another_namespace():
    result = run("new_ids")
    for kind in ("orders", "contacts"):
        rows = exported(result, kind)
        old = dates_by_id(rows, {"before"})
        mig = dates_by_id(rows, {"migration"})
        after = dates_by_id(rows, {"after"})
        assert not set(old) & (set(mig) | set(after))  # no id is reused ...
        assert all(key.startswith("v2-") for key in (*mig, *after))
        for key, dates in old.items():  # ... so each old record arrives again as a duplicate
            assert mig["v2-" + key] == dates
    duplicated = {
        key.removeprefix("v2-") for _, key, _ in exported(result, "orders") if key.startswith("v2-")
    }
    assert migrated_deals(result) <= duplicated


def test_simple_orders_migrate_the_same_way():
    rows = exported(run("new_ids", "simple_orders"), "simple_orders")
    old = dates_by_id(rows, {"before"})
    mig = dates_by_id(rows, {"migration"})
    assert old and {"v2-" + key for key in old} <= set(mig)
