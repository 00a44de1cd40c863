"""Random sequences of uploads, re-uploads, status changes and clock moves against a plain model.

Invariants (issue 3): goals never disappear, create dates never change, an identical re-upload
changes nothing, and every order has a decision that explains its state.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from emulator import Contact, CounterConfig, Emulator, Goal, MergeMode, Order, RuleSet, UploadKind
from emulator.decisions import NOT_LINKED_CODES
from tests.engine_support import COUNTER, msk, visit

START = msk(2024, 3, 10, 12)
CREATE_TIMES = [START - timedelta(days=d, hours=h) for d, h in ((0, 1), (2, 0), (20, 0), (25, 5))]
STATUSES = ["IN_PROGRESS", "PAID", "CANCELLED", "SPAM", "good_lead"]
CUSTOMERS = ["alice", "bob", "carol"]
CLIENTS = {"alice": 11, "bob": 22, "carol": 33}

order_rows = st.lists(
    st.builds(
        Order,
        id=st.sampled_from(["o1", "o2", "o3", "o4"]),
        client_uniq_id=st.sampled_from(CUSTOMERS),
        create_date_time=st.sampled_from(CREATE_TIMES),
        order_status=st.sampled_from(STATUSES),
        revenue=st.none() | st.sampled_from([Decimal(100), Decimal("250.5")]),
        cost=st.none() | st.just(Decimal(40)),
    ),
    min_size=1,
    max_size=4,
)


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.emu = Emulator(Path(self.dir.name) / "state.sqlite3")
        self.emu.put_counter(
            CounterConfig(
                COUNTER, "Europe/Moscow", RuleSet(), (Goal(1, "Good leads", "good_lead"),)
            )
        )
        self.emu.set_clock(START)
        self.emu.load_visits(
            COUNTER,
            [
                visit(i * 10 + k, CLIENTS[name], START - timedelta(days=3 * k + 1))
                for i, name in enumerate(CUSTOMERS)
                for k in range(4)
            ],
        )
        self.first_create: dict[str, object] = {}
        self.candidates: dict[str, set[object]] = {}
        self.reaches: list[tuple] = []
        self.last_upload: tuple[list[Order], MergeMode] | None = None

    def teardown(self) -> None:
        self.emu.close()
        self.dir.cleanup()

    def _snapshot(self) -> tuple:
        views = {key: self.emu.order(COUNTER, key) for key in self.emu.order_ids(COUNTER)}
        return (
            {k: (v.order, v.status_type, v.linked_visit_id) for k, v in views.items()},
            self._reach_rows(),
        )

    def _reach_rows(self) -> list[tuple]:
        return [
            (r["goal_id"], r["visit_id"], r["subject_key"], r["revenue"], r["at"])
            for r in self.emu.goal_reaches(COUNTER)
        ]

    @rule(rows=order_rows, mode=st.sampled_from(list(MergeMode)))
    def upload_orders(self, rows: list[Order], mode: MergeMode) -> None:
        self.emu.upload_records(COUNTER, UploadKind.ORDERS, rows, mode)
        for row in rows:
            if row.id not in self.first_create:
                # Rows sharing a new id apply in random order: the first applied one's date.
                self.candidates.setdefault(row.id, set()).add(row.create_date_time)
        self.last_upload = (rows, mode)

    @precondition(lambda self: self.last_upload is not None)
    @rule()
    def resend_last_upload(self) -> None:
        assert self.last_upload is not None
        before = self._snapshot()
        self.emu.upload_records(COUNTER, UploadKind.ORDERS, *self.last_upload)
        assert self._snapshot() == before

    @rule(customer=st.sampled_from(CUSTOMERS))
    def upload_contact(self, customer: str) -> None:
        self.emu.upload_records(
            COUNTER,
            UploadKind.CONTACTS,
            [Contact(customer, client_ids=(CLIENTS[customer],))],
            "APPEND",
        )

    @rule(hours=st.integers(min_value=1, max_value=24 * 40))
    def advance_clock(self, hours: int) -> None:
        self.emu.advance(hours * 3600)

    @invariant()
    def goals_never_disappear(self) -> None:
        now = self._reach_rows()
        assert now[: len(self.reaches)] == self.reaches
        self.reaches = now

    @invariant()
    def create_dates_never_change(self) -> None:
        from datetime import datetime

        for key in self.emu.order_ids(COUNTER):
            stored = datetime.fromisoformat(self.emu.order(COUNTER, key).order["create_date_time"])
            if key not in self.first_create:
                assert stored in self.candidates.pop(key)
                self.first_create[key] = stored
            assert stored == self.first_create[key]

    @invariant()
    def every_order_has_a_decision_explaining_its_state(self) -> None:
        for key in self.emu.order_ids(COUNTER):
            view = self.emu.order(COUNTER, key)
            found = {d["code"] for d in view.decisions}
            if view.linked_visit_id is not None:
                assert "LINKED" in found
            else:
                assert found & NOT_LINKED_CODES, (key, found)


EngineMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineStateful = EngineMachine.TestCase
