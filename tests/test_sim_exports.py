"""Exported uploads: every file passes the project's own parser, faults warn, mistakes show."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from emulator.sim import load_settings, simulate
from emulator.sim.settings import CHANNEL_NAMES
from emulator.sim.verify import parse_upload

EXPORTERS = {
    "orders_csv_daily": {"format": "orders_csv"},
    "orders_json_hourly": {"format": "orders_json", "schedule": "hourly"},
    "simple_realtime": {"format": "simple_orders", "schedule": "realtime", "merge_mode": "UPDATE"},
    "weekly_semicolon": {
        "format": "orders_csv",
        "schedule": "weekly",
        "delimiter": "SEMICOLON",
        "russian_headers": False,
        "status_mapping": False,
    },
    "offline_daily": {"format": "offline_conversions"},
    "calls_daily": {"format": "calls"},
    "history_dump": {"format": "simple_orders", "schedule": "dump"},
}
TZ = "Europe/Moscow"


def settings_with(**simulation):
    base = {
        "days": 8,
        "traffic": {"visitors_per_day": 1500.0},
        "crm": {"pipeline": "dental_clinic"},
    }
    return load_settings({"simulation": base | simulation, "export": {"exporters": EXPORTERS}})


@pytest.fixture(scope="module")
def result():
    return simulate(settings_with(), seed=21)


def warning_codes(parsed):
    return Counter(e.code for e in parsed.warnings)


def test_every_kind_of_upload_is_exported(result):
    kinds = Counter(u.kind for u in result.timeline)
    assert set(kinds) == {
        "status_mapping",
        "contacts",
        "orders",
        "simple_orders",
        "offline_conversions",
        "calls",
    }


def test_every_exported_file_passes_check_without_errors_and_reads_back_as_sent(result):
    for upload in result.timeline:
        if upload.kind == "status_mapping":
            continue
        parsed = parse_upload(upload, TZ)
        assert not parsed.errors, (
            upload.stored_name,
            [e.describe() for e in parsed.errors[:3]],
        )
        assert tuple(parsed.records) == upload.records, upload.stored_name


def test_faulty_phones_and_emails_warn_and_clean_ones_do_not(result):
    warned = Counter()
    for upload in result.timeline:
        if upload.kind == "contacts" and upload.multipart:
            warned += warning_codes(parse_upload(upload, TZ))
    assert warned["phone_not_canonical"] > 0
    assert warned["email_not_canonical"] > 0

    clean = {name: {"local_phone_format": 0.0, "uppercase_email": 0.0} for name in CHANNEL_NAMES}
    tidy = simulate(settings_with(days=3, channels=clean), seed=21)
    for upload in tidy.timeline:
        if upload.kind in ("contacts", "simple_orders") and upload.multipart:
            codes = warning_codes(parse_upload(upload, TZ))
            assert not codes["phone_not_canonical"] and not codes["email_not_canonical"]


def test_uploads_are_in_time_order_with_the_mapping_first_and_contacts_before_orders(result):
    times = [u.sent_at for u in result.timeline]
    assert times == sorted(times)
    assert [u.seq for u in result.timeline] == list(range(1, len(result.timeline) + 1))
    mapped = [u for u in result.timeline if u.exporter == "orders_csv_daily"]
    assert mapped[0].kind == "status_mapping"
    for contacts, orders in zip(mapped[1::2], mapped[2::2], strict=True):
        assert (contacts.kind, orders.kind) == ("contacts", "orders")
        assert contacts.collected_at == orders.collected_at
        assert {o.client_uniq_id for o in orders.records} <= {c.uniq_id for c in contacts.records}


def test_routes_and_parameters_are_the_real_ones(result):
    by_kind = {(u.exporter, u.kind): u for u in result.timeline}
    csv_orders = by_kind["orders_csv_daily", "orders"]
    assert csv_orders.path == "/cdp/api/v1/counter/2215573/data/orders/csv"
    params = dict(csv_orders.params)
    assert params["merge_mode"] == "SAVE" and params["delimiter_type"] == "COMMA"
    assert '"id":"ИД"' in params["columns_mapping"]
    assert csv_orders.body.decode().splitlines()[0].startswith("ИД,")
    json_orders = by_kind["orders_json_hourly", "orders"]
    assert json_orders.path.endswith("/data/orders/json") and not json_orders.multipart
    assert set(json.loads(json_orders.body)) == {"orders"}
    assert by_kind["orders_json_hourly", "contacts"].path.endswith("/data/contacts/json")
    weekly = by_kind["weekly_semicolon", "orders"]
    assert dict(weekly.params)["delimiter_type"] == "SEMICOLON"
    assert "columns_mapping" not in dict(weekly.params)
    simple = by_kind["simple_realtime", "simple_orders"]
    assert (
        simple.path.endswith("/data/simple_orders")
        and dict(simple.params)["merge_mode"] == "UPDATE"
    )
    offline = by_kind["offline_daily", "offline_conversions"]
    assert offline.path == "/management/v1/counter/2215573/offline_conversions/upload"
    assert by_kind["calls_daily", "calls"].path.endswith("/offline_conversions/upload_calls")
    mapping = by_kind["orders_csv_daily", "status_mapping"]
    assert mapping.path.endswith("/schema/order_statuses")
    ids = {s["id"] for s in json.loads(mapping.body)["order_statuses"]}
    assert {"new_lead", "zapis1", "CANCELLED", "zapis2", "paid_in_filial2"} <= ids


def test_simple_orders_send_js_goal_statuses_and_their_extra_goals(result):
    rows = [r for u in result.timeline if u.kind == "simple_orders" for r in u.records]
    booked = [r for r in rows if r.order_status == "zapis1"]
    assert booked
    assert all([g.goal_action_id for g in r.goals] == ["vse_zapisi"] for r in booked)
    assert {r.order_status for r in rows} <= {
        "IN_PROGRESS",
        "PAID",
        "CANCELLED",
        "SPAM",
        "zapis1",
        "zapis2",
    }


def test_offline_conversions_carry_a_visitor_id_and_are_not_in_the_future(result):
    assert "crm_paid" in {g["identifier"] for g in result.counter["goals"]}
    for upload in result.timeline:
        if upload.kind in ("offline_conversions", "calls"):
            for row in upload.records:
                assert row.client_id is not None or row.yclid is not None
                assert row.date_time <= upload.sent_at


def test_the_history_dump_sends_every_deal_once_at_the_end(result):
    (dump,) = [u for u in result.timeline if u.exporter == "history_dump"]
    assert [r.id for r in dump.records] == [d.id for d in result.crm.deals]
    assert dump.collected_at == result.calendar.local(result.calendar.end)


def test_a_time_zone_mistake_writes_every_time_three_hours_early():
    mistaken = {
        "days": 3,
        "traffic": {"visitors_per_day": 800.0},
    }
    settings = load_settings(
        {
            "simulation": mistaken,
            "export": {"exporters": {"utc": {"format": "orders_csv", "time_zone_mistake": True}}},
        }
    )
    result = simulate(settings, seed=2)
    orders = [u for u in result.timeline if u.kind == "orders"]
    assert orders
    for upload in orders:
        parsed = parse_upload(upload, TZ)
        assert not parsed.errors
        for read, sent in zip(parsed.records, upload.records, strict=True):
            assert sent.create_date_time - read.create_date_time == timedelta(hours=3)


def test_a_late_uploader_sends_orders_older_than_the_21_day_window():
    settings = load_settings(
        {
            "simulation": {"days": 6, "traffic": {"visitors_per_day": 800.0}},
            "export": {"exporters": {"late": {"format": "simple_orders", "delay_days": 25.0}}},
        }
    )
    result = simulate(settings, seed=3)
    assert result.timeline
    for upload in result.timeline:
        assert upload.sent_at - upload.collected_at == timedelta(days=25)
        oldest = min(r.create_date_time for r in upload.records)
        assert upload.sent_at - oldest > timedelta(days=21)
