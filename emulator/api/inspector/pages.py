"""The inspector's pages: server-rendered HTML over the engine's public reads.

Every page is read-only; the only actions (move the clock, reset) are buttons whose script
calls the ``/_emulator`` control routes with ``fetch``, so they pass whatever protection those
routes have. Unknown counters, orders and uploadings answer an HTML page with the engine's
message and its HTTP status.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from emulator import ApiError, Attribution, __version__
from emulator.api.guard import context
from emulator.api.inspector import readings
from emulator.api.inspector.requestlog import RequestLog
from emulator.api.stat import MODEL_NAMES, source_name

PREFIX = "/inspector"
POLL_PATH = f"{PREFIX}/requests"
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files(__package__) / "templates"))


def _money(value: Any) -> str:
    """Thousands separated by thin spaces, two decimals only when there are cents."""
    if value is None:
        return "–"
    number = float(value)
    text = f"{number:,.2f}" if number % 1 else f"{number:,.0f}"
    return text.replace(",", "\u202f")


def _moment(value: datetime | str | float | None, zone: str | None = None) -> str:
    """A moment (ISO text, Unix seconds or a datetime) with its offset, in ``zone`` if given."""
    if value is None:
        return "–"
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if zone:
        moment = moment.astimezone(ZoneInfo(zone))
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def _codes(codes: list[str]) -> str:
    """An order's decision codes in order, each once: ``CREATED → LINKED → GOAL_FIRED``."""
    return " → ".join(dict.fromkeys(codes))


templates.env.filters.update(
    money=_money, moment=_moment, mask=readings.mask, source=source_name, codes=_codes
)
templates.env.globals.update(
    version=__version__, poll_path=POLL_PATH, prefix=PREFIX, error_items=readings.error_items
)


def request_log(request: Request) -> RequestLog:
    return request.app.state.request_log


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    emulator = context(request).emulator
    values.setdefault("now", emulator.now())
    return templates.TemplateResponse(request, name, values, status_code=status)


def _counter_page(request: Request, counter_id: int, name: str, **values: Any) -> HTMLResponse:
    """A page about one counter (the template shows its id and reads times in its zone)."""
    config = context(request).emulator.counter(counter_id)
    return _page(request, name, config=config, **values)


def html_errors(page: Callable[..., HTMLResponse]) -> Callable[..., HTMLResponse]:
    """Answer the engine's refusals (unknown counter, order…) as an HTML page, same status."""

    @functools.wraps(page)
    def answer(request: Request, *args: Any, **kwargs: Any) -> HTMLResponse:
        try:
            return page(request, *args, **kwargs)
        except ApiError as error:
            return _page(request, "error.html", error.status, error=error)

    return answer


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    emulator = context(request).emulator
    entries = request_log(request).entries()
    return _page(request, "index.html", counters=readings.counter_lines(emulator), entries=entries)


@router.get(f"{PREFIX}/counters/{{counter_id}}", response_class=HTMLResponse)
@html_errors
def counter(
    request: Request, counter_id: int, attribution: str = "lastsign", page: int = 1
) -> HTMLResponse:
    emulator = context(request).emulator
    config = emulator.counter(counter_id)
    try:
        model = Attribution(attribution)
    except ValueError:
        raise ApiError("invalid_parameter", f"unknown attribution model {attribution!r}") from None
    sources = readings.order_sources(emulator, counter_id, model)
    goals = readings.goal_lines(emulator, config, model)
    return _page(
        request,
        "counter.html",
        config=config,
        model=model,
        models=MODEL_NAMES,
        orders=readings.orders_page(emulator, counter_id, page),
        uploadings=emulator.last_uploadings(counter_id, limit=1000),
        offline=readings.offline_lines(emulator, counter_id),
        sources=sources,
        side_by_side=readings.models_side_by_side(emulator, counter_id),
        goals=goals,
        charts=readings.charts(sources, goals, _money),
        entries=request_log(request).entries(counter_id=counter_id),
    )


@router.get(f"{PREFIX}/counters/{{counter_id}}/orders/{{order_id:path}}")
@html_errors
def order(request: Request, counter_id: int, order_id: str) -> HTMLResponse:
    emulator = context(request).emulator
    view = emulator.order(counter_id, order_id)  # the engine refuses an unknown counter too
    linked = view.linked_visit_id
    visits = emulator.visits(counter_id, [linked]) if linked is not None else []
    visit = visits[0] if visits else None
    return _counter_page(
        request, counter_id, "order.html", order_id=order_id, view=view, visit=visit
    )


@router.get(f"{PREFIX}/counters/{{counter_id}}/clients/{{client_id}}")
@html_errors
def client(request: Request, counter_id: int, client_id: int) -> HTMLResponse:
    emulator = context(request).emulator
    visits = emulator.visits_of_client(counter_id, client_id)
    orders = readings.orders_on_visits(emulator, counter_id, [v.visit_id for v in visits])
    return _counter_page(
        request, counter_id, "client.html", client_id=client_id, visits=visits, orders=orders
    )


@router.get(f"{PREFIX}/counters/{{counter_id}}/offline/{{uploading_id}}")
@html_errors
def offline_rows(request: Request, counter_id: int, uploading_id: int) -> HTMLResponse:
    rows = context(request).emulator.offline_rows(counter_id, uploading_id)
    return _counter_page(request, counter_id, "offline.html", uploading_id=uploading_id, rows=rows)


@router.get(POLL_PATH)
def new_requests(request: Request, after: int = 0, counter: int | None = None) -> Response:
    """The request-log rows newer than ``after`` as HTML, for the page's live log."""
    entries = request_log(request).entries(after, counter)
    return templates.TemplateResponse(request, "requests.html", {"entries": entries})
