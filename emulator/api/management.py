"""Management API routes a CRM pipeline needs: the counter, its goals, creating a JS goal.

``GET /management/v1/counter/{counterId}`` and ``GET .../goals``
(https://yandex.ru/dev/metrika/ru/management/openapi/goals/). Goals include the CRM goals the
first successful CRM upload created and the call goals of calls uploads. ``callback``,
``field``, ``useDeleted`` and ``sorted`` are accepted for the clients that always send them;
``field=goals`` adds the goals to the counter.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from emulator.api.bodies import read_json
from emulator.api.common import MANAGE, READ, CounterId, json_body, off_loop, text_query
from emulator.api.guard import Caller, context
from emulator.api.views import counter
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
        body["goals"] = [goal.to_json() for goal in config.goals]
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
    return {"goals": [goal.to_json() for goal in context(request).emulator.goals(counterId)]}


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


@router.post("/goals", dependencies=[MANAGE], openapi_extra=GOAL_BODY)
async def create_goal(request: Request, counterId: CounterId) -> dict[str, Any]:
    """A JS-event goal (``type`` ``action``, one ``exact`` condition: the identifier), the
    kind offline conversions count against (spec §7.1). Other goal kinds are refused."""
    api = context(request)
    body = await read_json(request, api.settings)
    goal = body.get("goal") if isinstance(body, dict) else None
    conditions = goal.get("conditions") if isinstance(goal, dict) else None
    if (
        not isinstance(goal, dict)
        or goal.get("type") != "action"
        or not isinstance(goal.get("name"), str)
        or not isinstance(conditions, list)
        or len(conditions) != 1
        or not isinstance(conditions[0], dict)
        or conditions[0].get("type") != "exact"
        or not isinstance(conditions[0].get("url"), str)
    ):
        raise ApiError(
            "invalid_parameter",
            'the emulator creates JS-event goals only: {"goal": {"name": ..., "type": "action", '
            '"conditions": [{"type": "exact", "url": "<identifier>"}]}}',
            "goal",
        )
    created = await off_loop(api.emulator.add_goal, counterId, goal["name"], conditions[0]["url"])
    return {"goal": created.to_json()}
