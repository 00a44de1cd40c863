"""Both sides of every window: 21 days to link, 21 days of visit age, the update window,
date-only orders at the end of the day, and the processing delay."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from emulator import Contact, Goal, RuleSet, UploadKind
from emulator.rules import CreateDateConflict, CustomerCap, DuplicateIdOrder, UpdateWindowAnchor
from tests.engine_support import (
    COUNTER,
    codes,
    goal_names,
    make_emulator,
    msk,
    order,
    simple,
    visit,
)

SECOND = timedelta(seconds=1)
DAYS_21 = timedelta(days=21)


VISIT_START = msk(2024, 3, 1, 9)
SETUP_NOW = msk(2024, 3, 1, 12)


def _linked_setup(tmp_path, rules=None, visit_start=VISIT_START, now=SETUP_NOW):
    """A visit of ClientID 111 and its contact, uploaded a day before the visit as the docs
    ask (contacts first: orders link only to visits made after the first contacts upload)."""
    emu = make_emulator(tmp_path, rules=rules, now=visit_start - timedelta(days=1))
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("c1", client_ids=(111,))], "SAVE")
    emu.set_clock(now)
    emu.load_visits(COUNTER, [visit(1, 111, visit_start)])
    return emu


@pytest.mark.parametrize(("extra", "linked"), [(timedelta(0), True), (SECOND, False)])
def test_order_links_when_processed_exactly_21_days_after_creation(tmp_path, extra, linked):
    created = msk(2024, 3, 1, 10)
    # The visit starts with the order, so only the order's own age can stop the link.
    emu = _linked_setup(tmp_path, visit_start=created, now=created + DAYS_21 + extra)
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("o", created, "PAID")], "SAVE")
    view = emu.order(COUNTER, "o")
    assert (view.linked_visit_id == 1) is linked
    if not linked:
        assert codes(emu, "o")[-1] == "NOT_LINKED_ORDER_TOO_OLD"
        assert goal_names(emu, "o") == []


@pytest.mark.parametrize(("extra", "linked"), [(timedelta(0), True), (SECOND, False)])
def test_visit_must_start_at_most_21_days_before_processing(tmp_path, extra, linked):
    start = msk(2024, 3, 1, 9)
    now = start + DAYS_21 + extra
    emu = _linked_setup(tmp_path, visit_start=start, now=now)
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", now - timedelta(hours=1), "PAID")], "SAVE"
    )
    assert (emu.order(COUNTER, "o").linked_visit_id == 1) is linked
    if not linked:
        assert codes(emu, "o")[-1] == "NOT_LINKED_NO_VISIT"


def test_visit_after_the_order_is_never_linked(tmp_path):
    emu = _linked_setup(tmp_path, visit_start=msk(2024, 3, 1, 11), now=msk(2024, 3, 2))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID")], "SAVE"
    )
    assert codes(emu, "o")[-1] == "NOT_LINKED_NO_VISIT"


def test_visit_starting_exactly_at_the_order_time_links(tmp_path):
    emu = _linked_setup(tmp_path, visit_start=msk(2024, 3, 1, 10), now=msk(2024, 3, 2))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID")], "SAVE"
    )
    assert emu.order(COUNTER, "o").linked_visit_id == 1


def test_latest_visit_before_the_order_wins(tmp_path):
    emu = _linked_setup(tmp_path, now=msk(2024, 3, 5))
    emu.load_visits(COUNTER, [visit(2, 111, msk(2024, 3, 2)), visit(3, 111, msk(2024, 3, 4))])
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 3), "PAID")], "SAVE")
    assert emu.order(COUNTER, "o").linked_visit_id == 2


@pytest.mark.parametrize(
    ("rules", "limit_from_visit"),
    [(RuleSet(), True), (RuleSet.support_page_variant(), False)],
    ids=["111-days-from-visit", "90-days-from-order"],
)
@pytest.mark.parametrize(("extra", "applied"), [(timedelta(0), True), (SECOND, False)])
def test_update_window_both_sides(tmp_path, rules, limit_from_visit, extra, applied):
    visit_start = msk(2024, 3, 1, 9)
    created = msk(2024, 3, 1, 10)
    emu = _linked_setup(tmp_path, rules=rules, visit_start=visit_start, now=msk(2024, 3, 1, 12))
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("o", created, "IN_PROGRESS")], "SAVE")
    anchor = visit_start if limit_from_visit else created
    window = timedelta(days=111 if limit_from_visit else 90)
    emu.set_clock(anchor + window + extra)
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", created, "PAID", revenue="5")], "SAVE"
    )
    view = emu.order(COUNTER, "o")
    assert (view.status_type == "PAID") is applied
    assert ("CRM: Order paid" in goal_names(emu, "o")) is applied
    if not applied:
        assert codes(emu, "o")[-1] == "UPDATE_WINDOW_EXPIRED"
    assert rules.update_window_anchor is (
        UpdateWindowAnchor.VISIT_START if limit_from_visit else UpdateWindowAnchor.ORDER_CREATED
    )


def test_date_only_order_is_end_of_day_in_the_counter_zone_around_dst(tmp_path):
    """A date-only simple order in a DST zone: 23:59 local on the day clocks jump forward."""
    from emulator import CounterConfig

    emu = make_emulator(tmp_path, now=msk(2024, 4, 1))
    emu.put_counter(CounterConfig(77, "Europe/Berlin", RuleSet()))
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    from datetime import datetime

    emu.load_visits(77, [visit(1, 5, datetime(2024, 3, 31, 23, 58, tzinfo=berlin))])
    emu.upload_simple_orders(77, b"id,create_date_time,client_ids\nx,31.03.2024,5\n", "SAVE")
    view = emu.order(77, "x")
    assert datetime.fromisoformat(view.order["create_date_time"]) == datetime(
        2024, 3, 31, 23, 59, tzinfo=berlin
    )
    assert view.linked_visit_id == 1
    emu.load_visits(77, [visit(2, 6, datetime(2024, 4, 1, 0, 0, tzinfo=berlin))])
    emu.upload_simple_orders(77, b"id,create_date_time,client_ids\ny,31.03.2024,6\n", "SAVE")
    assert emu.order(77, "y").linked_visit_id is None


def test_processing_delay_links_at_processing_time(tmp_path):
    rules = RuleSet(processing_delay_seconds=7200)
    created = msk(2024, 3, 1, 10)
    emu = _linked_setup(
        tmp_path,
        rules=rules,
        visit_start=created - timedelta(hours=1),
        now=created + DAYS_21 - timedelta(hours=1),
    )
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("o", created, "PAID")], "SAVE")
    with pytest.raises(Exception, match="unknown"):
        emu.order(COUNTER, "o")
    emu.advance(7200)
    # Processed two hours later: 21 days and one hour after creation → too old.
    assert codes(emu, "o")[-1] == "NOT_LINKED_ORDER_TOO_OLD"


def test_rows_sharing_an_id_are_applied_in_seeded_random_order(tmp_path):
    rows = [
        order("o", msk(2024, 3, 1, 10), status)
        for status in ("IN_PROGRESS", "PAID", "CANCELLED", "SPAM")
    ]
    finals = set()
    for seed in range(8):
        emu = _linked_setup(tmp_path / str(seed), rules=RuleSet(duplicate_id_seed=seed))
        emu.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
        finals.add(emu.order(COUNTER, "o").status_type)
        assert codes(emu, "o").count("DUPLICATE_ID_IN_UPLOAD") == 4
    assert len(finals) > 1  # the order really depends on the seed
    again = _linked_setup(tmp_path / "again", rules=RuleSet(duplicate_id_seed=3))
    again.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
    first = _linked_setup(tmp_path / "first", rules=RuleSet(duplicate_id_seed=3))
    first.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
    assert again.order(COUNTER, "o").status_type == first.order(COUNTER, "o").status_type


def test_last_wins_option_applies_rows_in_file_order(tmp_path):
    emu = _linked_setup(tmp_path, rules=RuleSet(duplicate_id_order=DuplicateIdOrder.LAST_WINS))
    rows = [order("o", msk(2024, 3, 1, 10), s) for s in ("IN_PROGRESS", "SPAM", "PAID")]
    emu.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
    assert emu.order(COUNTER, "o").status_type == "PAID"


def test_an_upload_over_the_customer_order_limit_fails_and_names_the_customer(tmp_path):
    """At most 100,000 orders per customer
    (https://yandex.ru/dev/metrika/ru/management/openapi/schema/uploadOrders); what happens
    above it is undocumented (A20), so nothing is dropped while the upload says PASSED."""
    from emulator import ApiError

    emu = _linked_setup(tmp_path, rules=RuleSet(orders_per_customer_limit=2))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o0", msk(2024, 3, 1, 10), "PAID")], "SAVE"
    )
    rows = [order(f"o{i}", msk(2024, 3, 1, 10), "PAID") for i in range(3)]
    with pytest.raises(ApiError) as error:
        emu.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
    assert error.value.items[0].location == "line 3, column client_uniq_id"
    assert "'c1'" in error.value.items[0].message
    assert emu.order_ids(COUNTER) == ["o0"]
    emu.upload_records(COUNTER, UploadKind.ORDERS, rows[:2], "SAVE")  # o0 is an update
    assert emu.order_ids(COUNTER) == ["o0", "o1"]


def test_customers_sharing_a_hash_do_not_share_the_cap(tmp_path, monkeypatch):
    """The tally of orders per customer is kept by 64-bit hash; when two customers' hashes
    meet, it only chooses whom to count, and the cap still counts each customer's own orders."""
    from emulator.engine import cap, records, work

    for module in (cap, records, work):  # every key hashes alike: every count collides
        monkeypatch.setattr(module, "hash_strings", lambda v: np.zeros(len(v), np.uint64))
    emu = _linked_setup(tmp_path, rules=RuleSet(orders_per_customer_limit=2))
    at = msk(2024, 3, 1, 10)
    first = [order("a", at, "PAID", "c1"), order("b", at, "PAID", "c1")]
    emu.upload_records(COUNTER, UploadKind.ORDERS, first, "SAVE")
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("c", at, "PAID", "c2")], "SAVE")
    assert emu.order_ids(COUNTER) == ["a", "b", "c"]


@pytest.mark.parametrize("restart", [False, True])
def test_the_cap_counts_orders_that_moved_to_another_customer(tmp_path, restart):
    """The cap counts a customer's current orders: an update naming another customer moves
    the order, and the count follows it, whether kept in memory or rebuilt after a restart."""
    from emulator import ApiError

    emu = _linked_setup(tmp_path, rules=RuleSet(orders_per_customer_limit=2))
    at = msk(2024, 3, 1, 10)
    first = [order("a", at, "PAID", "c1"), order("b", at, "PAID", "c1")]
    emu.upload_records(COUNTER, UploadKind.ORDERS, first, "SAVE")
    with pytest.raises(ApiError):
        emu.upload_records(COUNTER, UploadKind.ORDERS, [order("c", at, "PAID", "c1")], "SAVE")
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("b", at, "PAID", "c2")], "SAVE")
    if restart:
        emu.close()
        emu = make_emulator(tmp_path, rules=RuleSet(orders_per_customer_limit=2), now=emu.now())
    emu.upload_records(COUNTER, UploadKind.ORDERS, [order("c", at, "PAID", "c1")], "SAVE")
    with pytest.raises(ApiError) as error:
        emu.upload_records(COUNTER, UploadKind.ORDERS, [order("d", at, "PAID", "c2")], "SAVE")
        emu.upload_records(COUNTER, UploadKind.ORDERS, [order("e", at, "PAID", "c2")], "SAVE")
    assert "'c2'" in error.value.items[0].message
    assert emu.order_ids(COUNTER) == ["a", "b", "c", "d"]


def test_customer_order_limit_refuses_further_rows_under_the_01_rule(tmp_path):
    rules = RuleSet(orders_per_customer_limit=2, customer_cap=CustomerCap.REFUSE_ROWS)
    emu = _linked_setup(tmp_path, rules=rules)
    rows = [order(f"o{i}", msk(2024, 3, 1, 10), "PAID") for i in range(3)]
    emu.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
    assert emu.order_ids(COUNTER) == ["o0", "o1"]
    assert codes(emu, "o2") == ["CUSTOMER_ORDER_LIMIT"]


def test_unknown_status_is_an_upload_error_by_default(tmp_path):
    from emulator import ApiError

    emu = _linked_setup(tmp_path)
    with pytest.raises(ApiError) as error:
        emu.upload_records(
            COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "nonsense")], "SAVE"
        )
    assert error.value.status == 400
    assert error.value.error_type == "invalid_uploading"
    assert error.value.items[0].location == "line 1, column order_status"
    assert emu.order_ids(COUNTER) == []


def test_unknown_status_can_be_kept_unlinked(tmp_path):
    emu = _linked_setup(tmp_path, rules=RuleSet(unknown_status="accept_unlinked"))  # type: ignore[arg-type]
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "nonsense")], "SAVE"
    )
    assert codes(emu, "o")[-1] == "NOT_LINKED_UNKNOWN_STATUS"


def test_goals_never_disappear_when_the_order_turns_spam(tmp_path):
    emu = _linked_setup(tmp_path)
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID", revenue="9")], "SAVE"
    )
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "SPAM")], "SAVE"
    )
    assert goal_names(emu, "o") == ["CRM: Order created", "CRM: Order paid", "CRM: Spam order"]
    report = {row.dimension: row.metrics for row in emu.order_sources(COUNTER)}
    assert report["organic"]["ym:s:cdpOrdersAllOrders"] == 0
    assert report["organic"]["ym:s:cdpOrdersSpam"] == 1


def test_resending_the_same_status_is_not_a_new_fixation(tmp_path):
    emu = _linked_setup(tmp_path)
    for _ in range(3):
        emu.upload_records(
            COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID")], "SAVE"
        )
    assert goal_names(emu, "o") == ["CRM: Order created", "CRM: Order paid"]
    assert codes(emu, "o").count("UNCHANGED") == 2


def test_create_date_overwrite_option_relinks_to_the_new_visit(tmp_path):
    emu = _linked_setup(
        tmp_path,
        rules=RuleSet(create_date_conflict=CreateDateConflict.OVERWRITE),
        now=msk(2024, 3, 2),
    )
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID")], "SAVE"
    )
    emu.load_visits(COUNTER, [visit(2, 111, msk(2024, 3, 5))])
    emu.set_clock(msk(2024, 3, 6))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 5, 10), "PAID")], "SAVE"
    )
    assert emu.order(COUNTER, "o").linked_visit_id == 2


def _late_contact(tmp_path, rules: RuleSet | None = None):
    emu = make_emulator(tmp_path, rules=rules, now=msk(2024, 3, 2))
    emu.load_visits(COUNTER, [visit(1, 111, msk(2024, 3, 1, 9))])
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID", "late")], "SAVE"
    )
    assert codes(emu, "o")[-1] == "NOT_LINKED_NO_IDENTITY"
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("late", client_ids=(111,))], "SAVE")
    return emu


def test_a_late_first_contact_upload_never_links_to_earlier_visits(tmp_path):
    """Orders link only to visits made after the first successful contacts upload
    (https://yandex.ru/dev/metrika/ru/data-import/data, step 3): the re-link a contact
    triggers follows the same rule as a first link."""
    emu = _late_contact(tmp_path)
    assert emu.order(COUNTER, "o").linked_visit_id is None
    assert codes(emu, "o")[-1] == "NOT_LINKED_BEFORE_CONTACTS"


def test_contacts_after_the_visit_link_its_orders_without_the_contacts_first_rule(tmp_path):
    emu = _late_contact(tmp_path, RuleSet(contacts_first=False))
    assert emu.order(COUNTER, "o").linked_visit_id == 1
    assert goal_names(emu, "o") == ["CRM: Order created", "CRM: Order paid"]


def test_orders_wait_for_a_later_contact_of_a_counter_with_contacts(tmp_path):
    """A counter that already has contacts: an order whose own contact comes later links
    when it arrives (orders link "to sessions and customers", uploadOrdersJson_1)."""
    emu = _linked_setup(tmp_path, now=msk(2024, 3, 2))
    emu.load_visits(COUNTER, [visit(2, 222, msk(2024, 3, 1, 9, 30))])
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID", "late")], "SAVE"
    )
    assert codes(emu, "o")[-1] == "NOT_LINKED_NO_IDENTITY"
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("late", client_ids=(222,))], "SAVE")
    assert emu.order(COUNTER, "o").linked_visit_id == 2
    assert goal_names(emu, "o") == ["CRM: Order created", "CRM: Order paid"]


def test_phone_matching_needs_advanced_matching_and_canonical_form(tmp_path):
    emu = make_emulator(tmp_path, now=msk(2024, 3, 2))
    emu.load_visits(
        COUNTER,
        [
            visit(1, 111, msk(2024, 3, 1, 9), phones=("79995551111",)),
            visit(2, 111, msk(2024, 3, 1, 9, 30)),
        ],
    )
    emu.upload_records(
        COUNTER,
        UploadKind.SIMPLE_ORDERS,
        [
            simple("good", msk(2024, 3, 1, 10), phones=("79995551111",)),
            simple("local", msk(2024, 3, 1, 10), phones=("8 (999) 555-11-11",)),
        ],
        "SAVE",
    )
    good = emu.order(COUNTER, "good")
    assert good.linked_visit_id == 2  # the visitor's latest visit, not only the capturing one
    assert good.linked_by == "phone 79995551111"
    assert codes(emu, "local")[-1] == "NOT_LINKED_NO_VISIT"
    off = make_emulator(
        tmp_path / "off", rules=RuleSet(advanced_matching=False), now=msk(2024, 3, 2)
    )
    off.load_visits(COUNTER, [visit(1, 111, msk(2024, 3, 1, 9), phones=("79995551111",))])
    off.upload_records(
        COUNTER,
        UploadKind.SIMPLE_ORDERS,
        [simple("good", msk(2024, 3, 1, 10), phones=("79995551111",))],
        "SAVE",
    )
    assert codes(off, "good")[-1] == "NOT_LINKED_NO_IDENTITY"


def test_upload_is_all_or_nothing(tmp_path, monkeypatch):
    from emulator.store.chunks import RecordChunks

    emu = _linked_setup(tmp_path, rules=RuleSet())
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("keep", msk(2024, 3, 1, 10), "PAID")], "SAVE"
    )
    before = (emu.order_ids(COUNTER), len(emu.goal_reaches(COUNTER)))
    calls = {"n": 0}
    real = RecordChunks.add

    def failing_add(self, counter_id, kind, rows, key):
        if kind == "orders":
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("disk full")
        return real(self, counter_id, kind, rows, key)

    monkeypatch.setattr(RecordChunks, "add", failing_add)
    rows = [order(f"n{i}", msk(2024, 3, 1, 10), "PAID") for i in range(3)]
    with pytest.raises(RuntimeError):
        emu.upload_records(COUNTER, UploadKind.ORDERS, rows, "SAVE")
    assert (emu.order_ids(COUNTER), len(emu.goal_reaches(COUNTER))) == before
    assert emu.last_uploadings(COUNTER, 10)[0].elements_count == 1


def test_counters_are_independent(tmp_path):
    from emulator import CounterConfig

    emu = _linked_setup(tmp_path)
    emu.put_counter(CounterConfig(99, "UTC", goals=(Goal(1, "x", "x"),)))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("o", msk(2024, 3, 1, 10), "PAID")], "SAVE"
    )
    assert emu.order_ids(99) == []
    emu.delete_counter(99)
    assert emu.order_ids(COUNTER) == ["o"]
