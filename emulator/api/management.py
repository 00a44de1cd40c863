"""Management API routes a CRM pipeline needs: the counter, its goals, creating a JS goal, and
one goal by id (read, edit, delete).

``GET /management/v1/counter/{counterId}``, ``GET .../goals`` and ``.../goal/{goalId}``
(https://yandex.ru/dev/metrika/ru/management/openapi/goals/). A goal is written with the
Goal object's fields (``id``, ``name``, ``type``, ``conditions``, ``default_price``,
``goal_source``, ``is_favorite``, ``status``) plus the emulator's ``identifier``. Goals
include the CRM goals the first successful CRM upload created and the call goals of calls
uploads. ``callback``, ``field``, ``useDeleted`` and ``sorted`` are accepted for the clients
that always send them; ``field=goals`` adds the goals to the counter.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from emulator.api.bodies import read_json
from emulator.api.common import MANAGE, READ, CounterId, json_body, off_loop, text_query
from emulator.api.guard import Caller, context
from emulator.api.views import counter, goal_view
from emulator.engine.config import JS_GOAL
from emulator.errors import ApiError

router = APIRouter(prefix="/management/v1/counter/{counterId}", tags=["Management"])

IGNORED = text_query("Accepted and ignored (JSONP is not emulated)")


@router.get("")
def get_counter(
    request: Request,
    counterId: CounterId,
    caller: Caller = READ,
    field: str | None = text_query("goals adds the counter's goals", ["goals"]),
    callback: str | None = IGNORED,
) -> dict[str, Any]:
    """The counter (time zone, offline options)."""
    emu = context(request).emulator
    config = emu.counter(counterId)
    offline, calls = (
        emu.visit_join_threshold(counterId, calls)["extended_threshold"] for calls in (False, True)
    )
    body = counter(config, emu.now(), config.tokens.get(caller.token, ()), (offline, calls))
    if field and "goals" in field.split(","):
        body["goals"] = [goal_view(goal) for goal in emu.goals(counterId)]
    return {"counter": body}


@router.get("/goals", dependencies=[READ])
def get_goals(
    request: Request,
    counterId: CounterId,
    use_deleted: str | None = text_query("Accepted and ignored", alias="useDeleted"),
    sort_goals: str | None = text_query("Accepted and ignored", alias="sorted"),
    callback: str | None = IGNORED,
) -> dict[str, Any]:
    """The counter's goals, CRM goals included once created."""
    return {"goals": [goal_view(goal) for goal in context(request).emulator.goals(counterId)]}


GOAL_BODY = json_body(
    {
        "type": "object",
        "required": ["goal"],
        "properties": {
            "goal": {
                "type": "object",
                "required": ["name", "type", "conditions"],
                "properties": {
                    "name": {"type": "string"},
                    "type": {"type": "string", "enum": ["action"]},
                    "conditions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"type": {"type": "string"}, "url": {"type": "string"}},
                        },
                    },
                },
            }
        },
    }
)


JS_GOALS_ONLY = (
    'the emulator creates JS-event goals only: {"goal": {"name": ..., "type": "action", '
    '"conditions": [{"type": "exact", "url": "<identifier>"}]}}'
)


def _js_goal(body: Any, identifier: str | None = None) -> tuple[str, str]:
    """Name and identifier of a JS-event goal body; an edit without ``conditions`` keeps the
    goal's ``identifier``. An empty condition list is refused as the service words it
    ("the number of conditions must be greater than zero", its autotests)."""
    goal = body.get("goal") if isinstance(body, dict) else None
    conditions = goal.get("conditions", None) if isinstance(goal, dict) else None
    if isinstance(goal, dict) and conditions is None and identifier is not None:
        conditions = [{"type": "exact", "url": identifier}]
    if conditions == []:
        raise ApiError(
            "invalid_parameter", "the number of conditions must be greater than zero", "goal"
        )
    if (
        not isinstance(goal, dict)
        or goal.get("type", JS_GOAL if identifier is not None else None) != JS_GOAL
        or not isinstance(goal.get("name"), str)
        or not isinstance(conditions, list)
        or len(conditions) != 1
        or not isinstance(conditions[0], dict)
        or conditions[0].get("type") != "exact"
        or not isinstance(conditions[0].get("url"), str)
    ):
        raise ApiError("invalid_parameter", JS_GOALS_ONLY, "goal")
    return goal["name"], conditions[0]["url"]


@router.post("/goals", dependencies=[MANAGE], openapi_extra=GOAL_BODY)
async def create_goal(request: Request, counterId: CounterId) -> dict[str, Any]:
    """A JS-event goal (``type`` ``action``, one ``exact`` condition: the identifier), the
    kind offline conversions count against (spec §7.1). Other goal kinds are refused."""
    api = context(request)
    name, identifier = _js_goal(await read_json(request, api.settings))
    created = await off_loop(api.emulator.add_goal, counterId, name, identifier)
    return {"goal": goal_view(created)}


GoalId = Annotated[int, Path(description="Goal id (int64)", ge=1, le=2**63 - 1)]


@router.get("/goal/{goalId}", dependencies=[READ])
def get_goal(
    request: Request, counterId: CounterId, goalId: GoalId, callback: str | None = IGNORED
) -> dict[str, Any]:
    """One goal (https://yandex.ru/dev/metrika/ru/management/openapi/goal/goal); 404
    ``not_found`` when the counter has no such goal."""
    return {"goal": goal_view(context(request).emulator.goal(counterId, goalId))}


@router.put("/goal/{goalId}", dependencies=[MANAGE], openapi_extra=GOAL_BODY)
async def edit_goal(request: Request, counterId: CounterId, goalId: GoalId) -> dict[str, Any]:
    """Rename a JS-event goal or change its ``exact`` condition
    (https://yandex.ru/dev/metrika/ru/management/openapi/goal/editGoal): ``{"goal": Goal}`` in,
    the goal as it now is out."""
    api = context(request)
    body = await read_json(request, api.settings)
    current = await off_loop(api.emulator.goal, counterId, goalId)
    name, identifier = _js_goal(body, current.identifier or "")
    edited = await off_loop(api.emulator.update_goal, counterId, goalId, name, identifier)
    return {"goal": goal_view(edited)}


@router.delete("/goal/{goalId}", dependencies=[MANAGE])
def delete_goal(request: Request, counterId: CounterId, goalId: GoalId) -> dict[str, Any]:
    """https://yandex.ru/dev/metrika/ru/management/openapi/goal/deleteGoal:
    ``{"success": true}``."""
    context(request).emulator.delete_goal(counterId, goalId)
    return {"success": True}
