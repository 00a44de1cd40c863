"""Every worked example of the docs and the seeds, reproduced by the reference engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from emulator import Contact, Goal, MergeMode, OrderStatus, RuleSet, StatusType, UploadKind
from emulator.goals import is_crm_goal_type
from tests.engine_support import (
    COUNTER,
    codes,
    goal_names,
    make_emulator,
    msk,
    order,
    visit,
)

SIMPLE_ORDERS_SAMPLE = (
    "id,create_date_time,client_uniq_id,client_ids,emails,phones,order_status,revenue,cost,goals,currency\n"
    's_ord1,10.01.2024 11:56,s_user1,,"mail@example.com,mail2@example.com",,PAID,200,150,"oplata_cash:200,filial_1",\n'  # noqa: E501
    "s_ord2,20.01.2024 11:59,,12345,mail3@example.com,,,200,150,,EUR\n"
    ",12.02.2024,,34456,,79876543210,SPAM,,,plohoy_lead,\n"
)
SAMPLE_GOALS = (
    Goal(11, "Cash", "oplata_cash"),
    Goal(12, "Branch 1", "filial_1"),
    Goal(13, "Bad lead", "plohoy_lead"),
)


def _simple_orders_sample(tmp_path, rules: RuleSet):
    """https://yandex.ru/dev/metrika/en/data-import/simple-orders-data, uploaded on 25 Jan."""
    emu = make_emulator(tmp_path, SAMPLE_GOALS, rules, now=msk(2024, 1, 25, 12, 0))
    emu.load_visits(
        COUNTER,
        [
            visit(1, 500, msk(2024, 1, 9, 10, 0), emails=("mail@example.com",)),
            visit(2, 12345, msk(2024, 1, 19, 10, 0)),
            visit(3, 34456, msk(2024, 1, 24, 10, 0)),
        ],
    )
    emu.upload_simple_orders(COUNTER, SIMPLE_ORDERS_SAMPLE.encode(), "SAVE", "COMMA")
    return emu


DOCS_2024 = RuleSet.from_mapping({"pack": "docs-2024"})
"""The pack of the older maporderstatuses-about rendering, which the examples follow."""


def test_simple_orders_sample_goals_and_revenues_as_documented(tmp_path):
    """https://yandex.ru/dev/metrika/en/data-import/simple-orders-data, under the pack whose
    goal table it shows (SPAM reaches no CRM goal)."""
    emu = _simple_orders_sample(tmp_path, DOCS_2024)
    reaches = {
        (r["subject_key"], r["goal"]): (r["revenue"], r["currency"])
        for r in emu.goal_reaches(COUNTER)
    }
    # s_ord1: PAID → Order created + Order paid with 200 − 150 = 50; oplata_cash its own 200;
    # filial_1 without a price inherits 50; no currency → roubles.
    assert reaches[("s_ord1", "CRM: Order created")] == ("50", "RUB")
    assert reaches[("s_ord1", "CRM: Order paid")] == ("50", "RUB")
    assert reaches[("s_ord1", "Cash")] == ("200", "RUB")
    assert reaches[("s_ord1", "Branch 1")] == ("50", "RUB")
    # s_ord2: no status → PAID; EUR.
    assert reaches[("s_ord2", "CRM: Order created")] == ("50", "EUR")
    assert reaches[("s_ord2", "CRM: Order paid")] == ("50", "EUR")
    # The row without id: SPAM → no CRM goal; plohoy_lead fires with no revenue.
    anonymous = [key for key, _ in reaches if key.startswith("#auto:")]
    assert {goal for key, goal in reaches if key.startswith("#auto:")} == {"Bad lead"}
    assert reaches[(anonymous[0], "Bad lead")] == (None, "RUB")
    assert len(reaches) == 7


def test_simple_orders_row_without_id_searches_back_from_23_59_of_its_day(tmp_path):
    emu = _simple_orders_sample(tmp_path, DOCS_2024)
    key = next(k for k in emu.order_ids(COUNTER) if k.startswith("#auto:"))
    view = emu.order(COUNTER, key)
    assert datetime.fromisoformat(view.order["create_date_time"]) == msk(2024, 2, 12, 23, 59)
    assert view.linked_visit_id == 3


@pytest.mark.parametrize(
    ("pack", "spam"),
    [("docs-current", ["CRM: Spam order"]), ("help-es", ["CRM: Pedido spam"]), ("docs-2024", [])],
)
def test_the_spam_row_under_each_pack(tmp_path, pack, spam):
    """The SPAM row of the sample: the current maporderstatuses-about page reaches
    "CRM: Spam order" (https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about,
    "CRM: Спам заказ"); the ES help text "CRM: Pedido spam"; the older rendering nothing."""
    emu = _simple_orders_sample(tmp_path, RuleSet.from_mapping({"pack": pack}))
    key = next(k for k in emu.order_ids(COUNTER) if k.startswith("#auto:"))
    assert goal_names(emu, key) == [*spam, "Bad lead"]


def test_resending_the_sample_without_ids_duplicates_only_the_id_less_row(tmp_path):
    emu = _simple_orders_sample(tmp_path, DOCS_2024)
    before = len(emu.goal_reaches(COUNTER))
    emu.upload_simple_orders(COUNTER, SIMPLE_ORDERS_SAMPLE.encode(), "SAVE")
    assert sum(1 for k in emu.order_ids(COUNTER) if k.startswith("#auto:")) == 2
    assert len(emu.goal_reaches(COUNTER)) == before + 1  # only the new anonymous order's goal


@pytest.mark.parametrize(
    ("rules", "goals"),
    [
        (
            {},
            {
                ("CRM: Order created", "cdp_order_in_progress"),
                ("CRM: Order paid", "cdp_order_paid"),
                ("CRM: Order canceled", "cdp_order_cancelled"),
                ("CRM: Spam order", "cdp_order_spam"),
            },
        ),
        (
            {"goal_names": "ru"},
            {
                ("CRM: Заказ создан", "cdp_order_in_progress"),
                ("CRM: Заказ оплачен", "cdp_order_paid"),
                ("CRM: Заказ отменен", "cdp_order_cancelled"),
                ("CRM: Спам заказ", "cdp_order_spam"),
            },
        ),
        (
            {"pack": "emulator-0.1"},
            {("CRM: Order created", "crm"), ("CRM: Order paid", "crm"), ("CRM: Order spam", "crm")},
        ),
    ],
    ids=["docs-current", "docs-current-ru", "emulator-0.1"],
)
def test_crm_goals_are_created_by_the_first_successful_upload(tmp_path, rules, goals):
    """After the first successful CRM upload the counter gets the CRM goals
    (https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about names them in RU and
    EN; live counters type them ``cdp_order_*``)."""
    emu = make_emulator(tmp_path, rules=RuleSet.from_mapping(rules), now=msk(2024, 1, 25))
    assert [g for g in emu.goals(COUNTER) if is_crm_goal_type(g.type)] == []
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("c1", client_ids=(1,))], "SAVE")
    found = {(g.name, g.type) for g in emu.goals(COUNTER) if is_crm_goal_type(g.type)}
    assert found == goals


LIFECYCLE_CREATED = msk(2024, 3, 1, 10, 0)


def _lifecycle(emu, statuses, created=LIFECYCLE_CREATED, revenue="1000", cost="400"):
    """The contact first (before the visit, as the docs ask), then one upload per status."""
    emu.set_clock(msk(2024, 2, 28))
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("c1", client_ids=(111,))], "SAVE")
    for hours, status in enumerate(statuses):
        emu.set_clock(msk(2024, 3, 2, 10 + hours, 0))
        emu.upload_records(
            COUNTER,
            UploadKind.ORDERS,
            [order("deal-1", created, status, revenue=revenue, cost=cost)],
            "UPDATE",
        )


GOOD_LEAD = {
    # The overview's example: step 2 reaches "Заказ Создан" and "Хорошие лиды", step 3
    # "Заказ Оплачен" (https://yandex.ru/dev/metrika/ru/data-import/contacts).
    "docs-current": ["CRM: Order created", "CRM: Order created", "Good leads", "CRM: Order paid"],
    "help-es": ["CRM: Pedido creado", "CRM: Pedido creado", "Good leads", "CRM: Pedido pagado"],
    "emulator-0.1": ["CRM: Order created", "Good leads", "CRM: Order paid"],
}


@pytest.mark.parametrize("pack", sorted(GOOD_LEAD))
def test_good_lead_lifecycle_three_goals_on_one_visit(tmp_path, pack):
    """IN_PROGRESS → good_lead (JS goal "Good leads") → PAID: three goals on one visit, and
    "Order created" reached again at the JS-goal status (A9: per fixation)."""
    emu = make_emulator(
        tmp_path,
        (Goal(101, "Good leads", "good_lead"),),
        RuleSet.from_mapping({"pack": pack}),
        now=msk(2024, 3, 2),
    )
    emu.load_visits(COUNTER, [visit(7, 111, msk(2024, 3, 1, 9, 30))])
    _lifecycle(emu, ["IN_PROGRESS", "good_lead", "PAID"])
    view = emu.order(COUNTER, "deal-1")
    assert [r["goal"] for r in view.goal_reaches] == GOOD_LEAD[pack]
    assert {r["visit_id"] for r in view.goal_reaches} == {7}
    assert {r["revenue"] for r in view.goal_reaches} == {"600"}
    assert view.status_type == "PAID"
    statuses = [d["data"].get("after") for d in view.decisions if d["code"] == "STATUS_CHANGED"]
    assert statuses == ["good_lead", "PAID"]


def test_good_lead_status_has_type_other(tmp_path):
    emu = make_emulator(tmp_path, (Goal(101, "Good leads", "good_lead"),), now=msk(2024, 3, 2))
    emu.load_visits(COUNTER, [visit(7, 111, msk(2024, 3, 1, 9, 30))])
    _lifecycle(emu, ["IN_PROGRESS", "good_lead"])
    assert emu.order(COUNTER, "deal-1").status_type == StatusType.OTHER


DENTAL_GOALS = (
    Goal(201, "Appointment at branch 1", "zapis1"),
    Goal(202, "Appointment at branch 2", "zapis2"),
    Goal(203, "All appointments", "vse_zapisi"),
    Goal(204, "Payments at branch 2", "oplaty_2_filial"),
)
DENTAL_MAPPING = {
    "order_statuses": [
        {"id": "new_lead", "humanized": "New lead", "type": "IN_PROGRESS"},
        {
            "id": "zapis1",
            "humanized": "Booked at branch 1",
            "type": "OTHER",
            "goal_action_ids": ["vse_zapisi"],
        },
        {
            "id": "zapis2",
            "humanized": "Booked at branch 2",
            "type": "OTHER",
            "goal_action_ids": ["vse_zapisi"],
        },
        {
            "id": "paid_in_filial2",
            "humanized": "Paid",
            "type": "PAID",
            "goal_action_ids": "oplaty_2_filial",
        },
    ]
}


DENTAL_SEED = [
    "CRM: Order created",
    "Appointment at branch 1",
    "All appointments",
    "Appointment at branch 2",
    "All appointments",
    "CRM: Order paid",
    "Payments at branch 2",
]
DENTAL = {
    # The example's own text: the cancelled step "completes no goal".
    "docs-2024": DENTAL_SEED,
    # The current page: CANCELLED reaches "CRM: Order canceled".
    "docs-current": [*DENTAL_SEED[:3], "CRM: Order canceled", *DENTAL_SEED[3:]],
    # The ES list: every status but PAID reaches "Pedido creado", CANCELADO included.
    "help-es": [
        "CRM: Pedido creado",
        "CRM: Pedido creado",
        "Appointment at branch 1",
        "All appointments",
        "CRM: Pedido creado",
        "CRM: Pedido creado",
        "Appointment at branch 2",
        "All appointments",
        "CRM: Pedido pagado",
        "Payments at branch 2",
    ],
    "emulator-0.1": DENTAL_SEED,
}


@pytest.mark.parametrize("pack", sorted(DENTAL))
def test_dental_clinic_lifecycle_exact_goal_sequence(tmp_path, pack):
    """The dental example (https://yandex.ru/dev/metrika/ru/data-import/contacts, ES seed):
    new lead → branch 1 → cancelled → branch 2 → paid at branch 2, under each pack."""
    emu = make_emulator(tmp_path, DENTAL_GOALS, RuleSet.from_mapping({"pack": pack}))
    emu.set_clock(msk(2024, 3, 2))
    emu.map_order_statuses(COUNTER, DENTAL_MAPPING)
    emu.load_visits(COUNTER, [visit(9, 111, msk(2024, 3, 1, 9, 30))])
    _lifecycle(emu, ["new_lead", "zapis1", "CANCELLED", "zapis2", "paid_in_filial2"])
    view = emu.order(COUNTER, "deal-1")
    assert [r["goal"] for r in view.goal_reaches] == DENTAL[pack]
    assert {r["visit_id"] for r in view.goal_reaches} == {9}
    assert view.status_type == "PAID"


def test_mapping_accepts_canceled_spelling_and_string_goal_ids(tmp_path):
    emu = make_emulator(tmp_path, now=msk(2024, 3, 2))
    emu.map_order_statuses(
        COUNTER,
        {"order_statuses": [{"id": "otmena", "type": "CANCELED", "goal_action_ids": "x"}]},
    )
    assert emu.order_statuses(COUNTER) == [
        OrderStatus("otmena", StatusType.CANCELLED, None, ("x",))
    ]


def test_offline_conversion_docs_example_links_to_the_5_march_visit(tmp_path):
    """https://yandex.ru/dev/metrika/en/management/offline-conv: visits on 1, 5 and 11 March,
    a purchase on 10 March uploaded on 20 March → linked to the 5 March visit."""
    emu = make_emulator(
        tmp_path, (Goal(301, "Offline purchase", "purchase"),), now=msk(2024, 3, 20, 12)
    )
    emu.load_visits(
        COUNTER,
        [
            visit(1, 777, msk(2024, 3, 1, 12)),
            visit(5, 777, msk(2024, 3, 5, 12)),
            visit(11, 777, msk(2024, 3, 11, 12)),
        ],
    )
    purchase = int(datetime(2024, 3, 10, 9, tzinfo=UTC).timestamp())
    uploading = emu.upload_offline_conversions(
        COUNTER,
        f"ClientId,Target,DateTime,Price,Currency\n777,purchase,{purchase},1500.50,RUB\n".encode(),
    )
    assert uploading.status == "PROCESSED"
    rows = emu.offline_rows(COUNTER, uploading.id)
    assert [(r["visit_id"], r["code"]) for r in rows] == [(5, "LINKED")]
    reaches = emu.goal_reaches(COUNTER)
    assert [(r["goal"], r["visit_id"], r["revenue"]) for r in reaches] == [
        ("Offline purchase", 5, "1500.50")
    ]


def test_offline_resend_with_another_price_overwrites_the_revenue(tmp_path):
    emu = make_emulator(
        tmp_path, (Goal(301, "Offline purchase", "purchase"),), now=msk(2024, 3, 20, 12)
    )
    emu.load_visits(COUNTER, [visit(5, 777, msk(2024, 3, 5, 12))])
    ts = int(msk(2024, 3, 10).timestamp())
    emu.upload_offline_conversions(
        COUNTER, f"ClientId,Target,DateTime,Price\n777,purchase,{ts},100\n".encode()
    )
    emu.upload_offline_conversions(
        COUNTER, f"ClientId,Target,DateTime,Price\n777,purchase,{ts},250\n".encode()
    )
    reaches = emu.goal_reaches(COUNTER)
    assert [(r["visit_id"], r["revenue"]) for r in reaches] == [(5, "250")]


def test_crm_migration_with_new_creation_dates_keeps_the_first_date(tmp_path):
    """ES seed FAQ: a new CRM re-sends id A1 with another creation date; it is an update of the
    existing order, the date stays, and the new CRM's session is never linked."""
    emu = make_emulator(tmp_path, now=msk(2024, 2, 28))
    emu.upload_records(
        COUNTER,
        UploadKind.CONTACTS,
        [Contact("old-c", client_ids=(111,)), Contact("new-c", client_ids=(222,))],
        "SAVE",
    )
    emu.set_clock(msk(2024, 3, 2))
    emu.load_visits(COUNTER, [visit(1, 111, msk(2024, 3, 1, 9)), visit(2, 222, msk(2024, 4, 1, 9))])
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("A1", msk(2024, 3, 1, 10), "PAID", "old-c")], "SAVE"
    )
    emu.set_clock(msk(2024, 4, 2))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("A1", msk(2024, 4, 1, 10), "PAID", "new-c")], "SAVE"
    )
    view = emu.order(COUNTER, "A1")
    assert "CREATE_DATE_CONFLICT" in codes(emu, "A1")
    assert datetime.fromisoformat(view.order["create_date_time"]) == msk(2024, 3, 1, 10)
    assert view.linked_visit_id == 1
    assert all(r["visit_id"] == 1 for r in view.goal_reaches)


def test_crm_migration_conflict_on_an_unlinked_order_is_too_old_to_link(tmp_path):
    emu = make_emulator(tmp_path, now=msk(2024, 3, 2))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("A1", msk(2024, 3, 1, 10), "PAID", "nobody")], "SAVE"
    )
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("new-c", client_ids=(222,))], "SAVE")
    emu.load_visits(COUNTER, [visit(2, 222, msk(2024, 4, 1, 9))])
    emu.set_clock(msk(2024, 4, 2))
    emu.upload_records(
        COUNTER, UploadKind.ORDERS, [order("A1", msk(2024, 4, 1, 10), "PAID", "new-c")], "SAVE"
    )
    assert codes(emu, "A1")[-2:] == ["UPDATED", "NOT_LINKED_ORDER_TOO_OLD"]
    assert emu.order(COUNTER, "A1").linked_visit_id is None


def test_merge_modes_follow_the_documented_table(tmp_path):
    emu = make_emulator(tmp_path, now=msk(2024, 3, 2))

    def send(mode: MergeMode, **fields):
        emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("c", **fields)], mode)
        return emu.users_and_customers(COUNTER)

    send(MergeMode.SAVE, name="Ivanov I.", client_ids=(1, 2))
    assert send(MergeMode.UPDATE)[0]["name"] == "Ivanov I."  # UPDATE, absent → kept
    assert send(MergeMode.APPEND, client_ids=(1, 3))[0]["client_ids"] == [1, 2, 3]
    assert send(MergeMode.UPDATE, client_ids=(1, 3))[0]["client_ids"] == [1, 3]
    after_save = send(MergeMode.SAVE, client_ids=(1, 3))[0]
    assert after_save["name"] is None and after_save["client_ids"] == [1, 3]


def test_goals_revenue_is_profit_and_a_goal_price_wins(tmp_path):
    from emulator import OrderGoal

    emu = make_emulator(
        tmp_path,
        (Goal(5, "Own price", "own"), Goal(6, "Inherits", "inherit")),
        now=msk(2024, 2, 28),
    )
    emu.upload_records(COUNTER, UploadKind.CONTACTS, [Contact("c1", client_ids=(111,))], "SAVE")
    emu.set_clock(msk(2024, 3, 2))
    emu.load_visits(COUNTER, [visit(1, 111, msk(2024, 3, 1))])
    goals = (OrderGoal("own", Decimal("7.5")), OrderGoal("inherit"))
    emu.upload_records(
        COUNTER,
        UploadKind.ORDERS,
        [order("o", msk(2024, 3, 1, 12), "IN_PROGRESS", revenue="10", goals=goals)],
        "SAVE",
    )
    reaches = {r["goal"]: r["revenue"] for r in emu.order(COUNTER, "o").goal_reaches}
    assert reaches == {"CRM: Order created": "10", "Own price": "7.5", "Inherits": "10"}


def test_crm_and_offline_uploadings_keep_their_own_numbering(tmp_path):
    """A CRM uploading and an offline uploading may both be number 1 on one counter."""
    emu = make_emulator(
        tmp_path, (Goal(301, "Offline purchase", "purchase"),), now=msk(2024, 3, 20, 12)
    )
    emu.load_visits(COUNTER, [visit(5, 777, msk(2024, 3, 5, 12))])
    crm = emu.upload_records(
        COUNTER, UploadKind.CONTACTS, [Contact("c", client_ids=(777,))], "SAVE"
    )
    ts = int(msk(2024, 3, 10).timestamp())
    offline = emu.upload_offline_conversions(
        COUNTER, f"ClientId,Target,DateTime\n777,purchase,{ts}\n".encode()
    )
    calls = emu.upload_calls(COUNTER, f"ClientId,DateTime\n777,{ts}\n".encode())
    assert (crm.uploading_id, offline.id, calls.id) == ("1", 1, 2)
    assert emu.offline_uploading(COUNTER, 1).status == "PROCESSED"
    assert emu.offline_uploading(COUNTER, 2, calls=True).dynamic_calls_quantity == 1
