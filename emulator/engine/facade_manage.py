"""Management operations beyond the upload routes, as a part of
:class:`~emulator.engine.facade.Emulator`: one goal by id (read, edit, delete) and the older
generation's yclid conversions (:mod:`.yclids`).

Goal errors follow the management API's autotests as published (404 "Object with id = … not
found"); goals the service creates itself (CRM, calls) are not edited or deleted here, a choice
the docs leave open (``docs/FIDELITY.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from emulator.domain import OfflineUploading, UploadKind
from emulator.engine import params, sources
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
    """Goal-by-id and yclid-conversion methods of the emulator (mixed into ``Emulator``)."""

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
