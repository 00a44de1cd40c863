"""What stands before every real route: injected faults, the token and its scopes, quotas.

Auth follows https://yandex.ru/dev/metrika/ru/intro/authorization (project spec §2.2):
``Authorization: OAuth <token>``; no token or a token no counter knows → 401
``unauthorized``; a token without a grant on the requested counter, or without the scope the
route needs → 403 ``access_denied``. Tokens and scopes are configured per counter
(``PUT /_emulator/counters/{id}``). Reads need ``metrika:read`` or ``metrika:write``; CRM and
offline-data writes ``metrika:write`` or ``metrika:offline_data``; creating a goal (a
management write) ``metrika:write``.
A counter id the token has no grant on is 403 whether or not the counter exists, as the real
service cannot tell a stranger's counter from a missing one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from emulator import Emulator
from emulator.api.admission import Admission
from emulator.api.faults import FaultBook
from emulator.api.quotas import QuotaBook
from emulator.api.settings import ApiSettings, QuotaSettings
from emulator.errors import ApiError

READ_SCOPES = frozenset({"metrika:read", "metrika:write"})
WRITE_SCOPES = frozenset({"metrika:write", "metrika:offline_data"})
MANAGE_SCOPES = frozenset({"metrika:write"})
KNOWN_SCOPES = READ_SCOPES | WRITE_SCOPES | {"metrika:expenses", "metrika:user_params"}


QUOTAS_SETTING = "api.quotas"
"""Where ``PUT /_emulator/quotas`` keeps its changes, so a restart keeps them too."""


@dataclass
class ApiContext:
    """Everything one app serves from: the engine and the protocol-level books.

    Quota settings changed at run time are kept in the engine's store and win over the
    configured ones at the next start; a reset (which empties the store) returns to the
    configured ones.
    """

    emulator: Emulator
    settings: ApiSettings
    quotas: QuotaBook
    faults: FaultBook
    admission: Admission = field(init=False)
    configured: ApiSettings = field(init=False)

    def __post_init__(self) -> None:
        self.configured = self.settings
        s = self.settings
        self.admission = Admission(s.upload_budget_bytes, s.spool_memory_bytes)
        saved = self.emulator.store.get_setting(QUOTAS_SETTING)
        if saved is not None:
            self._use_quotas(QuotaSettings.from_mapping(saved, s.quotas))

    def set_quotas(self, quotas: QuotaSettings) -> None:
        """New quota settings, kept across restarts; counts start afresh."""
        self.emulator.store.set_setting(QUOTAS_SETTING, quotas.to_mapping())
        self._use_quotas(quotas)

    def forget(self) -> None:
        """After a reset: configured quotas, no counts, no faults."""
        self._use_quotas(self.configured.quotas)
        self.faults.clear()

    def _use_quotas(self, quotas: QuotaSettings) -> None:
        self.quotas.settings = quotas
        self.quotas.clear()
        self.settings = replace(self.settings, quotas=quotas)


@dataclass(frozen=True)
class Caller:
    token: str
    counter_ids: tuple[int, ...]


def context(request: Request) -> ApiContext:
    return request.app.state.api


def read_token(request: Request, settings: ApiSettings) -> str:
    """The OAuth token: the ``OAuth`` header, else what ``settings`` also allows."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "oauth" and value:
        return value
    if settings.lenient_auth and scheme.lower() == "bearer" and value:
        return value
    if settings.query_token and (token := request.query_params.get("oauth_token")):
        return token
    options = (("Bearer", settings.lenient_auth), ("oauth_token=", settings.query_token))
    also = [name for name, allowed in options if allowed]
    accepted = "Authorization: OAuth <token>" + (f" (or {', '.join(also)})" if also else "")
    raise ApiError("unauthorized", f"authorization is required: send {accepted}", "Authorization")


def requested_counters(request: Request) -> tuple[int, ...]:
    """``counterId`` of the path, or the ``ids`` of a report query."""
    if "counterId" in request.path_params:
        name, raw = "counterId", str(request.path_params["counterId"])
    else:
        name, raw = "ids", request.query_params.get("ids", "")
        if not raw:
            raise ApiError("missing_parameter", "ids is required (the counter id)", "ids")
    try:
        return tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ApiError("invalid_parameter", f"{name} {raw!r} is not a counter id", name) from None


def check_access(
    grants: dict[int, tuple[str, ...]], counter_ids: tuple[int, ...], scopes: frozenset[str]
) -> None:
    if not grants:
        raise ApiError("unauthorized", "the OAuth token is not valid", "Authorization")
    for counter_id in counter_ids:
        held = grants.get(counter_id)
        if held is None:
            raise ApiError(
                "access_denied",
                f"access to counter {counter_id} is denied: it does not exist or the token "
                "has no grant on it",
                "counterId",
            )
        if not scopes & set(held):
            raise ApiError(
                "access_denied",
                f"the token lacks the scope for this method: one of {', '.join(sorted(scopes))}",
                "Authorization",
            )


def guard(scopes: frozenset[str], group: str):
    """A dependency admitting a request to a real route (see the module docstring)."""

    async def admit(request: Request) -> AsyncIterator[Caller]:
        api = context(request)
        route = request.scope.get("route")
        fault = api.faults.take(request.method, request.url.path, getattr(route, "path", None))
        if fault is not None:
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            if (error := fault.error()) is not None:
                raise error
        token = read_token(request, api.settings)
        counter_ids = requested_counters(request)
        grants = await run_in_threadpool(api.emulator.token_scopes, token)
        check_access(grants, counter_ids, scopes)
        ip = request.client.host if request.client else "unknown"
        day = api.emulator.now().astimezone(UTC).date()
        counted = api.quotas.enter(group, ip, token, counter_ids, day)
        try:
            yield Caller(token, counter_ids)
        finally:
            if counted:
                api.quotas.leave(token)

    return Depends(admit)
