"""Management operations beyond the upload routes, as a part of
:class:`~emulator.engine.facade.Emulator`: one goal by id (read, edit, delete), the older
generation's yclid conversions (:mod:`.yclids`), and the counter's catalogue (status mapping,
attributes, products: :mod:`.catalog`).

Goal errors follow the management API's autotests as published (404 "Object with id = … not
found"); goals the service creates itself (CRM, calls) are not edited or deleted here, a choice
the docs leave open (``docs/FIDELITY.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from emulator.domain import OfflineUploading, OrderStatus, UploadKind
from emulator.engine import catalog, params, sources
from emulator.engine.config import JS_GOAL, CounterConfig, Goal
from emulator.engine.sources import Source
from emulator.engine.uploads import Uploads
from emulator.engine.yclids import YCLID, yclid_only
from emulator.errors import ApiError
from emulator.store import Store

DELETED_GOAL = "deleted"
"""The type a deleted goal's row keeps (hidden from every goal list): its id is never given
again and its past reaches keep their name."""
EDITABLE = "the emulator edits and deletes JS-event goals (type action) only"
MAX_GOAL_NAME = 255


class ManageSide:
    """Goal-by-id, yclid-conversion and catalogue methods of the emulator (mixed into
    ``Emulator``)."""

    store: Store
    _uploads: Uploads
    now: Callable[[], datetime]
    counter: Callable[[int], CounterConfig]
    goals: Callable[[int], list[Goal]]

    def goal(self, counter_id: int, goal_id: int) -> Goal:
        """``GET management/v1/counter/{id}/goal/{goalId}``; 404 for an unknown or deleted goal
        (https://yandex.ru/dev/metrika/ru/management/openapi/goal/goal)."""
        for goal in self.goals(counter_id):
            if goal.id == goal_id:
                return goal
        raise ApiError("not_found", f"Object with id = {goal_id} not found", "goalId")

    def update_goal(self, counter_id: int, goal_id: int, name: str, identifier: str) -> Goal:
        """``PUT …/goal/{goalId}`` of a JS-event goal: its name and its ``exact`` condition.
        Goals the service creates (CRM, calls) are not edited here."""
        if self.goal(counter_id, goal_id).type != JS_GOAL:
            raise ApiError("invalid_parameter", EDITABLE, "goal")
        if not name or len(name) > MAX_GOAL_NAME:
            raise ApiError(
                "invalid_parameter", f"the goal name must be 1-{MAX_GOAL_NAME} characters", "goal"
            )
        if not identifier:
            raise ApiError("invalid_parameter", "the goal condition must not be empty", "goal")
        with self.store.write() as session:
            session.counters.update_goal(counter_id, goal_id, name, identifier)
        return self.goal(counter_id, goal_id)

    def delete_goal(self, counter_id: int, goal_id: int) -> None:
        """``DELETE …/goal/{goalId}``: the goal stops matching; its id is never given again."""
        if self.goal(counter_id, goal_id).type != JS_GOAL:
            raise ApiError("invalid_parameter", EDITABLE, "goalId")
        with self.store.write() as session:
            session.counters.retire_goal(counter_id, goal_id, DELETED_GOAL)

    def upload_yclid_conversions(
        self, counter_id: int, source: Source, comment: str | None = None
    ) -> OfflineUploading:
        """``POST yclid_conversions/upload`` (see :mod:`.yclids`)."""
        counter = self.counter(counter_id)
        params.comment(comment)
        batches = sources.csv_batches(
            UploadKind.OFFLINE_CONVERSIONS, source, sources.options(counter, self.now())
        )
        return self._uploads.accept_offline(
            counter, YCLID, yclid_only(batches), comment, "BASIC", "YCLID", None, self.now()
        )

    # -- status mapping, attributes, products ------------------------------------------------
    def map_order_statuses(self, counter_id: int, body: Any) -> None:
        """``POST schema/order_statuses`` (spec §4.6): an upsert by status id."""
        self.counter(counter_id)
        with self.store.write() as session:
            catalog.map_statuses(session, counter_id, body)

    def order_statuses(self, counter_id: int) -> list[OrderStatus]:
        self.counter(counter_id)
        return list(catalog.statuses(self.store.read(), counter_id).values())

    def create_attributes(self, counter_id: int, entity_type: str | None, body: Any) -> None:
        """``POST schema/attributes`` (spec §4.7)."""
        self.counter(counter_id)
        entity, attributes = catalog.check_attributes(entity_type, body)
        with self.store.write() as session:
            session.counters.upsert_attributes(counter_id, entity, attributes)

    def attributes(
        self, counter_id: int, entity_type: str | None
    ) -> dict[str, list[dict[str, Any]]]:
        self.counter(counter_id)
        return catalog.attributes(self.store.read(), counter_id, entity_type)

    def create_products(self, counter_id: int, body: Any) -> None:
        """``POST schema/products`` (spec §4.8)."""
        self.counter(counter_id)
        items = catalog.check_products(body)
        with self.store.write() as session:
            session.counters.upsert_products(counter_id, items)

    def attribute_types(self, custom: bool = False) -> list[dict[str, Any]]:
        return catalog.attribute_types(custom)
