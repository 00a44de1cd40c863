"""Engine v2 against the 0.1 engine on random upload histories (hypothesis, stateful).

Both engines get the same counter (with random rule options), visits, status mapping and a
random sequence of contacts, orders and simple-orders uploads (every merge mode, repeated ids,
products, goals cells, attributes, phones and e-mails) and clock moves; after every step every
order's view (fields, link, decisions with their sentences, goal reaches), all goal reaches,
the users-and-customers list and a source report must be equal.
"""

from __future__ import annotations

import difflib
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from pprint import pformat

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from emulator import (
    Contact,
    CounterConfig,
    Emulator,
    Goal,
    MergeMode,
    Order,
    OrderGoal,
    RuleSet,
    SimpleOrder,
    UploadKind,
)
from emulator._old.service import Emulator as OldEmulator
from tests.engine_support import COUNTER, msk, visit

START = msk(2024, 3, 10, 12)
CUSTOMERS = ["alice", "bob", "carol", "dave"]
CLIENTS = {"alice": 11, "bob": 22, "carol": 33, "dave": 44}
PHONES = {"alice": "79990000001", "bob": "79990000002", "carol": "8 (999) 000-00-03"}
STATUSES = ["IN_PROGRESS", "PAID", "CANCELLED", "CANCELED", "SPAM", "good_lead", "mapped_done"]
TIMES = [START - timedelta(days=d, hours=h) for d, h in ((0, 1), (2, 0), (20, 0), (25, 5))]
money = st.none() | st.sampled_from([Decimal(100), Decimal("250.5"), Decimal("250.50")])
goal_cells = st.none() | st.lists(
    st.builds(OrderGoal, st.sampled_from(["good_lead", "cell", "nope"]), st.none() | money),
    max_size=2,
).map(tuple)
pairs = st.none() | st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["x", "y"])),
    max_size=2,
    unique_by=lambda p: p[0],
).map(tuple)
products = st.none() | st.lists(
    st.tuples(st.sampled_from(["pear", "plum"]), st.integers(1, 3)),
    max_size=2,
    unique_by=lambda p: p[0],
).map(tuple)

orders = st.lists(
    st.builds(
        Order,
        id=st.sampled_from(["o1", "o2", "o3", "o4", "s1"]),
        client_uniq_id=st.sampled_from(CUSTOMERS),
        create_date_time=st.sampled_from(TIMES),
        order_status=st.sampled_from(STATUSES),
        revenue=money,
        cost=st.none() | st.just(Decimal(40)),
        currency=st.none() | st.just("EUR"),
        goals=goal_cells,
        products=products,
        attribute_values=pairs,
        user_comment=st.none() | st.just("hi"),
    ),
    min_size=1,
    max_size=4,
)
simple_orders = st.lists(
    st.builds(
        SimpleOrder,
        create_date_time=st.sampled_from(TIMES),
        id=st.none() | st.sampled_from(["o1", "s1", "s2"]),
        client_uniq_id=st.none() | st.sampled_from(CUSTOMERS),
        client_ids=st.none() | st.sampled_from([(11,), (22, 33), (99,)]),
        emails=st.none() | st.just(("bob@example.com",)),
        phones=st.none() | st.sampled_from([("79990000001",), ("8 (999) 000-00-03",)]),
        order_status=st.none() | st.sampled_from(STATUSES),
        revenue=money,
        cost=st.none() | st.just(Decimal(40)),
        goals=goal_cells,
    ),
    min_size=1,
    max_size=4,
)
contacts = st.lists(
    st.builds(
        Contact,
        uniq_id=st.sampled_from(CUSTOMERS),
        name=st.none() | st.sampled_from(["Ann", "Bo"]),
        create_date_time=st.none() | st.sampled_from(TIMES),
        client_ids=st.none() | st.sampled_from(CUSTOMERS).map(lambda c: (CLIENTS[c],)),
        phones=st.none() | st.sampled_from(sorted(PHONES.values())).map(lambda p: (p,)),
        attribute_values=pairs,
    ),
    min_size=1,
    max_size=3,
)
rule_sets = st.builds(
    RuleSet,
    update_window_days=st.sampled_from([111, 3]),
    update_window_anchor=st.sampled_from(["visit_start", "order_created"]).map(
        lambda v: RuleSet().replace(update_window_anchor=v).update_window_anchor
    ),
    duplicate_id_order=st.sampled_from(["seeded_random", "last_wins"]).map(
        lambda v: RuleSet().replace(duplicate_id_order=v).duplicate_id_order
    ),
    create_date_conflict=st.sampled_from(["keep_first", "overwrite"]).map(
        lambda v: RuleSet().replace(create_date_conflict=v).create_date_conflict
    ),
    unknown_status=st.just(RuleSet().replace(unknown_status="accept_unlinked").unknown_status),
    cancelled_goal=st.sampled_from(["order_created", "none", "order_cancelled"]).map(
        lambda v: RuleSet().replace(cancelled_goal=v).cancelled_goal
    ),
    spam_goal=st.booleans(),
    other_fires_order_created=st.booleans(),
    advanced_matching=st.booleans(),
    normalize_identifiers=st.booleans(),
    orders_per_customer_limit=st.sampled_from([100_000, 2]),
    relink_on_contact_upload=st.booleans(),
)


class Differential(RuleBasedStateMachine):
    @initialize(rules=rule_sets)
    def setup(self, rules: RuleSet) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.engines = [
            OldEmulator(Path(self.dir.name) / "old.sqlite3"),
            Emulator(Path(self.dir.name) / "new.sqlite3"),
        ]
        goals = (
            Goal(1, "Good leads", "good_lead"),
            Goal(2, "Cell", "cell"),
            Goal(3, "Done", "done"),
        )
        for emu in self.engines:
            emu.put_counter(CounterConfig(COUNTER, "Europe/Moscow", rules, goals))
            emu.set_clock(START)
            emu.map_order_statuses(
                COUNTER,
                {
                    "order_statuses": [
                        {"id": "mapped_done", "type": "PAID", "goal_action_ids": ["done"]}
                    ]
                },
            )
            emu.load_visits(
                COUNTER,
                [
                    visit(
                        i * 10 + k,
                        CLIENTS[name],
                        START - timedelta(days=3 * k + 1),
                        source=("organic", "direct", "ad")[k % 3],
                        phones=(PHONES[name],) if name in PHONES and k == 0 else (),
                        emails=("bob@example.com",) if name == "bob" and k == 1 else (),
                    )
                    for i, name in enumerate(CUSTOMERS)
                    for k in range(4)
                ],
            )

    def teardown(self) -> None:
        for emu in getattr(self, "engines", []):
            emu.close()
        if hasattr(self, "dir"):
            self.dir.cleanup()

    def _both(self, kind: UploadKind, rows: list, mode: MergeMode) -> None:
        for emu in self.engines:
            emu.upload_records(COUNTER, kind, rows, mode)

    @rule(rows=orders, mode=st.sampled_from(list(MergeMode)))
    def upload_orders(self, rows: list[Order], mode: MergeMode) -> None:
        self._both(UploadKind.ORDERS, rows, mode)

    @rule(rows=simple_orders, mode=st.sampled_from(list(MergeMode)))
    def upload_simple_orders(self, rows: list[SimpleOrder], mode: MergeMode) -> None:
        self._both(UploadKind.SIMPLE_ORDERS, rows, mode)

    @rule(rows=contacts, mode=st.sampled_from(list(MergeMode)))
    def upload_contacts(self, rows: list[Contact], mode: MergeMode) -> None:
        self._both(UploadKind.CONTACTS, rows, mode)

    @rule(hours=st.integers(min_value=1, max_value=24 * 40))
    def advance_clock(self, hours: int) -> None:
        for emu in self.engines:
            emu.advance(hours * 3600)

    @invariant()
    def same_outcomes(self) -> None:
        if not hasattr(self, "engines"):
            return
        old, new = (self._snapshot(emu) for emu in self.engines)
        names = ("orders", "goal reaches", "users and customers", "sources", "summary")
        for name, was, now in zip(names, old, new, strict=True):
            if name == "orders":
                for key in sorted(set(was) | set(now)):
                    assert now.get(key) == was.get(key), _diff(key, was.get(key), now.get(key))
            assert now == was, _diff(name, was, now)

    def _snapshot(self, emu) -> tuple:
        keys = emu.order_ids(COUNTER)
        views = {key: emu.order(COUNTER, key) for key in keys}
        return (
            {
                k: (
                    v.order,
                    v.status_type,
                    v.linked_visit_id,
                    v.linked_by,
                    v.decisions,
                    v.goal_reaches,
                )
                for k, v in views.items()
            },
            emu.goal_reaches(COUNTER),
            emu.users_and_customers(COUNTER),
            [(r.dimension, r.visits, r.metrics) for r in emu.order_sources(COUNTER)],
            emu.orders_summary(COUNTER),
        )


def _diff(what: str, was: object, now: object) -> str:
    lines = difflib.unified_diff(
        pformat(was).splitlines(), pformat(now).splitlines(), "0.1", "v2", lineterm=""
    )
    return f"{what}:\n" + "\n".join(lines)


Differential.TestCase.settings = settings(
    max_examples=500,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestDifferential = Differential.TestCase
