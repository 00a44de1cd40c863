"""The rules of the ``docs-current`` pack, one test each, with the page that states them.

The status → goal examples (good_lead, dental, simple orders) are in test_engine_examples.py,
the windows and contacts-first in test_engine_windows.py; these are the remaining rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from emulator import ApiError, Contact, Goal, OrderGoal, RuleSet, UploadKind
from emulator.packs import PACKS, pack_rules
from emulator.rules import CustomerCap
from tests.engine_support import COUNTER, goal_names, make_emulator, msk, order, visit

CREATED = msk(2024, 3, 1, 10)


def _setup(tmp_path, rules: RuleSet | None = None, goals=()):
    """Contact c1 (ClientID 111) uploaded first, then a visit of 111; the clock at 2 March."""
    emu = make_emulator(tmp_path, goals, rules, now=msk(2024, 2, 28))
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("c1", client_ids=(111,))], "SAVE")
    emu.set_clock(msk(2024, 3, 2))
    emu.load_visits(COUNTER, [visit(1, 111, msk(2024, 3, 1, 9))])
    return emu


def _send(emu, status: str, **fields) -> None:
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("o", CREATED, status, **fields)], "SAVE")


def test_docs_current_is_the_default_and_every_pack_states_its_sources():
    assert pack_rules("docs-current") == RuleSet()
    for pack in PACKS.values():
        assert pack.rules().pack == pack.name
        assert all(choice.source for choice in pack.choices.values()), pack.name
    with pytest.raises(ValueError, match="unknown rule pack"):
        RuleSet.from_mapping({"pack": "nope"})


def test_a_counter_picks_a_pack_with_overrides():
    rules = RuleSet.from_mapping({"pack": "help-es", "spam_goal": False})
    assert (rules.pack, rules.goal_names.value, rules.spam_goal) == ("help-es", "es", False)
    assert RuleSet().replace(pack="emulator-0.1") == pack_rules("emulator-0.1")
    assert RuleSet.from_mapping({"processing_delay": "2h"}).processing_delay_seconds == 7200


def test_order_paid_is_reached_at_every_fixation_into_paid(tmp_path):
    """Every fixation of an order in a status counts ("учитывается каждая фиксация заказа в
    определенном статусе", https://yandex.ru/support/metrica/crm/about.html): PAID, back in
    progress, PAID again reaches "CRM: Order paid" twice."""
    emu = _setup(tmp_path)
    for status in ("PAID", "IN_PROGRESS", "PAID"):
        _send(emu, status)
    assert goal_names(emu, "o").count("CRM: Order paid") == 2


def test_cancelled_reaches_order_canceled(tmp_path):
    """https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about: CANCELLED →
    "CRM: Заказ отменен" (EN "CRM: Order canceled"), and no "Order created"."""
    emu = _setup(tmp_path)
    _send(emu, "CANCELLED")
    assert goal_names(emu, "o") == ["CRM: Order canceled"]


def test_cell_goals_fire_again_at_each_fixation(tmp_path):
    """The ``goals`` cell counts at every fixation like the status goals (rule
    ``cell_goals_repeat``; the 0.1 engine fired it once per order)."""
    goals = (OrderGoal("bonus", Decimal(5)),)
    for pack, times in (("docs-current", 2), ("emulator-0.1", 1)):
        emu = _setup(
            tmp_path / pack, RuleSet.from_mapping({"pack": pack}), (Goal(9, "Bonus", "bonus"),)
        )
        _send(emu, "IN_PROGRESS", goals=goals)
        _send(emu, "PAID", goals=goals)
        assert goal_names(emu, "o").count("Bonus") == times, pack


def test_finish_and_update_dates_are_filled(tmp_path):
    """https://yandex.ru/dev/metrika/ru/data-import/orders-data: without ``finish_date_time``
    it is "the date of the first upload of the deal in a PAID-group status"; without
    ``update_date_time`` "the value is set automatically"."""
    emu = _setup(tmp_path)
    _send(emu, "IN_PROGRESS")
    first = emu.order(COUNTER, "o").order
    assert first["finish_date_time"] is None
    assert datetime.fromisoformat(first["update_date_time"]) == msk(2024, 3, 2)
    emu.set_clock(msk(2024, 3, 3))
    _send(emu, "PAID")
    emu.set_clock(msk(2024, 3, 4))
    _send(emu, "PAID")
    paid = emu.order(COUNTER, "o").order
    assert datetime.fromisoformat(paid["finish_date_time"]) == msk(2024, 3, 3)
    assert datetime.fromisoformat(paid["update_date_time"]) == msk(2024, 3, 2)


def test_a_realistic_processing_delay_and_a_polling_client(tmp_path):
    """Processing takes up to 2 hours (https://yandex.ru/dev/metrika/ru/management/openapi/
    offline_conversions/upload_1; A16): with ``processing_delay = "2h"`` the upload passes at
    once and its order appears only once the clock has passed the delay."""
    emu = _setup(tmp_path, RuleSet.from_mapping({"processing_delay": "2h"}))
    uploading = emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", CREATED, "PAID")], "SAVE"
    )
    assert uploading.api_validation_status == "PASSED"
    seen = []
    for _ in range(5):  # a client polling every 30 minutes
        seen.append("o" in emu.order_ids(COUNTER))
        emu.advance(1800)
    assert seen == [False, False, False, False, True]
    assert emu.order(COUNTER, "o").linked_visit_id == 1


def test_the_processing_time_decides_even_after_a_clock_jump(tmp_path):
    """An upload is processed at its processing time, however far the clock then jumps: a
    20-day-old order uploaded with a 2 h delay still links when the clock jumps 5 days."""
    emu = _setup(tmp_path, RuleSet.from_mapping({"processing_delay": "2h"}))
    emu.set_clock(CREATED + timedelta(days=20))
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("o", CREATED, "PAID")], "SAVE")
    emu.advance(5 * 86_400)
    assert emu.order(COUNTER, "o").linked_visit_id == 1


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("PurchaseId,Target,DateTime", "p-1,buy,{ts}", "CLIENT_ID"),
        (
            "Yclid,ClientId,Target,DateTime",
            "55,,buy,{ts}\n56,,buy,{ts}\n,111,buy,{ts}",
            "CLIENT_ID",
        ),
        ("UserId,Yclid,Target,DateTime", "u1,,buy,{ts}\n,5,buy,{ts}", "USER_ID"),
    ],
)
def test_client_id_type_is_one_of_the_documented_values(tmp_path, header, row, expected):
    """``client_id_type`` takes USER_ID, CLIENT_ID or YCLID (https://yandex.ru/dev/metrika/en/
    management/openapi/offline_conversions/upload_1), never PURCHASE_ID (A14)."""
    emu = _setup(tmp_path, goals=(Goal(7, "Buy", "buy"),))
    ts = int(msk(2024, 3, 1, 12).timestamp())
    body = f"{header}\n{row.format(ts=ts)}\n".encode()
    assert emu.upload_offline_conversions(COUNTER, body).client_id_type == expected


@pytest.mark.parametrize(
    ("age", "linked"), [(timedelta(days=21), True), (timedelta(days=21, seconds=1), False)]
)
def test_offline_visits_count_back_21_days_from_processing(tmp_path, age, linked):
    """At most 21 days between the visit and *processing* of the file
    (https://yandex.ru/dev/metrika/ru/management/conversion), whenever the conversion itself
    happened."""
    emu = _setup(tmp_path, goals=(Goal(7, "Buy", "buy"),))
    emu.set_clock(msk(2024, 3, 1, 9) + age)
    ts = int(msk(2024, 3, 1, 10).timestamp())
    body = f"ClientId,Target,DateTime\n111,buy,{ts}\n".encode()
    uploading = emu.upload_offline_conversions(COUNTER, body)
    assert (emu.offline_rows(COUNTER, uploading.id)[0]["visit_id"] == 1) is linked


def test_the_legacy_extended_threshold_changes_the_offline_window(tmp_path):
    """The old API: 16 hours unless the extended threshold is on, then 21 days for visits that
    started after it went on (https://yandex.com/dev/metrika/doc/api2/management/
    offline_conversion/enablecallsextendedthreshold.html)."""
    rules = RuleSet(offline_window="legacy_threshold")  # type: ignore[arg-type]
    rules = RuleSet.from_mapping(rules.to_mapping())
    emu = _setup(tmp_path, rules, goals=(Goal(7, "Buy", "buy"),))
    ts = int(msk(2024, 3, 1, 10).timestamp())
    body = f"ClientId,Target,DateTime\n111,buy,{ts}\n".encode()
    emu.set_clock(msk(2024, 3, 2, 3))  # 18 h after the visit
    late = emu.upload_offline_conversions(COUNTER, body)
    assert emu.offline_rows(COUNTER, late.id)[0]["code"] == "NOT_LINKED_NO_VISIT"
    emu.set_clock(msk(2024, 2, 29))
    emu.set_extended_threshold(COUNTER, True)
    emu.set_clock(msk(2024, 3, 5))
    extended = emu.upload_offline_conversions(COUNTER, body)
    assert emu.offline_rows(COUNTER, extended.id)[0]["visit_id"] == 1


def test_json_body_errors_name_the_element_and_the_key(tmp_path):
    emu = _setup(tmp_path)
    body = {
        "orders": [
            {
                "id": "a",
                "client_uniq_id": "c1",
                "client_type": "CONTACT",
                "order_status": "PAID",
                "create_date_time": "2024-03-01 10:00:00",
            },
            {
                "id": "b",
                "client_uniq_id": "c1",
                "client_type": "CONTACT",
                "order_status": "nope",
                "create_date_time": "2024-03-01 10:00:00",
            },
        ]
    }
    with pytest.raises(ApiError) as error:
        emu.upload_orders_json(COUNTER, body, "SAVE")
    assert error.value.items[0].location == "orders[1].order_status"
    assert error.value.message.startswith("orders[1].order_status:")


def test_append_keeps_stored_names_and_takes_sent_values(tmp_path):
    """APPEND (https://yandex.ru/dev/metrika/en/data-import/modes): the union of old and new;
    for a product or attribute sent again, the upload's value."""
    emu = _setup(tmp_path)
    _send(emu, "PAID", products=(("pear", 1), ("plum", 2)))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", CREATED, "PAID", products=(("pear", 5),))], "APPEND"
    )
    assert emu.order(COUNTER, "o").order["products"] == [["pear", 5], ["plum", 2]]


def test_ecommerce_preference_picks_the_purchase_visit(tmp_path):
    """With the e-commerce preference (support page crm/about: "the best-fitting session with
    e-commerce data"), the latest visit with a purchase wins over a later plain visit."""
    preferring = RuleSet.from_mapping({"ecommerce_preference": True})
    for where, rules, linked in (("preferring", preferring, 2), ("plain", None, 3)):
        emu = _setup(tmp_path / where, rules)
        emu.load_visits(
            COUNTER,
            [
                visit(2, 111, msk(2024, 3, 1, 9, 30), purchase_id="buy-1"),
                visit(3, 111, msk(2024, 3, 1, 9, 45)),
            ],
        )
        _send(emu, "PAID")
        assert emu.order(COUNTER, "o").linked_visit_id == linked


def test_customer_cap_rule_names():
    assert RuleSet().customer_cap is CustomerCap.FAIL_UPLOAD
    assert pack_rules("emulator-0.1").customer_cap is CustomerCap.REFUSE_ROWS


def test_offline_linked_rows_use_utc_dates(tmp_path):
    emu = _setup(tmp_path, goals=(Goal(7, "Buy", "buy"),))
    ts = int(datetime(2024, 3, 1, 12, tzinfo=UTC).timestamp())
    uploading = emu.upload_offline_conversions(
        COUNTER, f"ClientId,Target,DateTime\n111,buy,{ts}\n".encode()
    )
    assert (
        emu.offline_rows(COUNTER, uploading.id)[0]["row"]["date_time"]
        == "2024-03-01T12:00:00+00:00"
    )
