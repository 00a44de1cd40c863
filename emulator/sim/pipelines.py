"""CRM status pipelines as data: state machines with transition probabilities and delays.

A pipeline says which statuses a deal can be in (each with its Metrica status type and the JS
goals it fires, i.e. the status mapping of ``schema/order_statuses``, spec §4.6), how a deal moves
between them, how long each move takes and whether a manager must do it in working hours. The
four built-in pipelines below are plain mappings read by the same strict reader as a TOML file,
so a user-defined pipeline under ``[simulation.crm.pipelines.NAME]`` has exactly this shape.

- ``default``: new → in progress → paid / cancelled / spam.
- ``good_lead``: the worked lifecycle of the RU CRM overview (spec §2.8): IN_PROGRESS → the JS-goal
  status ``good_lead`` → PAID.
- ``dental_clinic``: the seed's clinic chain (``seeds/metrica-crm-upload-es.txt``) with its status
  ids ``new_lead``, ``zapis1`` (goals zapis1 + vse_zapisi), ``CANCELLED``, ``zapis2`` (zapis2 +
  vse_zapisi) and ``paid_in_filial2`` (PAID + oplaty_2_filial), plus re-booking after a
  cancellation and payment at branch 1.
- ``eshop``: cart orders with delivery, and repeat purchases by returning customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from emulator.domain import OrderStatus, StatusType
from emulator.sim.config import SettingsError, build

StatusTypeName = Literal["IN_PROGRESS", "PAID", "CANCELLED", "SPAM", "OTHER"]


@dataclass(frozen=True)
class StatusSpec:
    """One CRM status and its entry in the status mapping."""

    id: str
    type: StatusTypeName
    humanized: str | None = None
    goal_action_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delay:
    """How long a move takes: ``hours`` is the mean (exponential), median (lognormal) or value."""

    hours: float
    dist: Literal["exponential", "lognormal", "fixed"] = "exponential"
    sigma: float = 0.8


@dataclass(frozen=True)
class TransitionSpec:
    """A possible next status. Probabilities out of one status may sum to less than 1: the rest
    is the chance that the deal stays where it is for good."""

    to: str
    p: float
    delay: Delay
    manager: bool = True


@dataclass(frozen=True)
class GoalSpec:
    """A JavaScript-event goal the counter must have for the pipeline's statuses to fire it."""

    id: int
    name: str
    identifier: str


@dataclass(frozen=True)
class PipelineSpec:
    statuses: tuple[StatusSpec, ...]
    initial: str
    transitions: dict[str, tuple[TransitionSpec, ...]]
    goals: tuple[GoalSpec, ...] = ()
    revenue_median: float = 5000.0
    revenue_sigma: float = 0.7
    cost_share: tuple[float, float] = (0.3, 0.6)
    products: tuple[str, ...] = ()
    max_products: int = 1
    repeat_rate: float = 0.0
    repeat_mean_days: float = 30.0
    humanized: str = ""

    def status(self, status_id: str) -> StatusSpec:
        for status in self.statuses:
            if status.id == status_id:
                return status
        raise KeyError(status_id)

    @property
    def paid_status(self) -> str:
        """The first PAID-type status: where an offline purchase starts and ends."""
        return next(s.id for s in self.statuses if s.type == "PAID")

    def order_statuses(self) -> tuple[OrderStatus, ...]:
        """The status mapping to upload (``schema/order_statuses``)."""
        return tuple(
            OrderStatus(s.id, StatusType(s.type), s.humanized, s.goal_action_ids)
            for s in self.statuses
        )

    def validate(self, path: str) -> None:
        ids = [s.id for s in self.statuses]
        if len(set(ids)) != len(ids):
            raise SettingsError(f"{path}.statuses: status ids must be unique")
        if self.initial not in ids:
            raise SettingsError(f"{path}.initial: {self.initial!r} is not a status")
        if not any(s.type == "PAID" for s in self.statuses):
            raise SettingsError(f"{path}.statuses: a pipeline needs one PAID status")
        for source, moves in self.transitions.items():
            if source not in ids:
                raise SettingsError(f"{path}.transitions.{source}: not a status")
            for move in moves:
                if move.to not in ids:
                    raise SettingsError(f"{path}.transitions.{source}: {move.to!r} is not a status")
            if sum(m.p for m in moves) > 1 + 1e-9:
                raise SettingsError(f"{path}.transitions.{source}: probabilities exceed 1")

    def outcome_shares(self) -> dict[str, float]:
        """Where deals end, by final status: the absorption probabilities of the chain.

        Used by the distribution tests and by anyone checking a custom pipeline: a status whose
        outgoing probabilities sum to ``s < 1`` ends there with probability ``1 - s``.
        """
        ids = [s.id for s in self.statuses]
        index = {sid: i for i, sid in enumerate(ids)}
        n = len(ids)
        moves = np.zeros((n, n))
        stay = np.ones(n)
        for source, options in self.transitions.items():
            for move in options:
                moves[index[source], index[move.to]] += move.p
                stay[index[source]] -= move.p
        # end[i, j]: probability that a deal now in i ends in j; end = diag(stay) + moves @ end.
        end = np.linalg.solve(np.eye(n) - moves, np.diag(stay))
        row = end[index[self.initial]]
        return {sid: float(row[i]) for i, sid in enumerate(ids) if row[i] > 1e-12}


def _t(to: str, p: float, hours: float, dist: str = "exponential", manager: bool = True) -> dict:
    return {"to": to, "p": p, "delay": {"hours": hours, "dist": dist}, "manager": manager}


BUILTIN: dict[str, dict[str, Any]] = {
    "default": {
        "humanized": "new → in progress → paid / cancelled / spam",
        "initial": "new",
        "statuses": [
            {"id": "new", "type": "IN_PROGRESS", "humanized": "Новая заявка"},
            {"id": "in_progress", "type": "IN_PROGRESS", "humanized": "В работе"},
            {"id": "paid", "type": "PAID", "humanized": "Оплачен"},
            {"id": "cancelled", "type": "CANCELLED", "humanized": "Отменён"},
            {"id": "spam", "type": "SPAM", "humanized": "Спам"},
        ],
        "transitions": {
            "new": [_t("in_progress", 0.8, 2), _t("spam", 0.1, 1), _t("cancelled", 0.1, 6)],
            "in_progress": [_t("paid", 0.55, 48, "lognormal"), _t("cancelled", 0.45, 72)],
        },
        "revenue_median": 12000.0,
    },
    "good_lead": {
        "humanized": "IN_PROGRESS → good_lead (JS goal) → PAID",
        "initial": "IN_PROGRESS",
        "statuses": [
            {"id": "IN_PROGRESS", "type": "IN_PROGRESS", "humanized": "Заказ создан"},
            {"id": "good_lead", "type": "OTHER", "humanized": "Хороший лид"},
            {"id": "PAID", "type": "PAID", "humanized": "Оплачен"},
            {"id": "CANCELLED", "type": "CANCELLED", "humanized": "Отменён"},
            {"id": "SPAM", "type": "SPAM", "humanized": "Спам"},
        ],
        "goals": [{"id": 301, "name": "Хорошие лиды", "identifier": "good_lead"}],
        "transitions": {
            "IN_PROGRESS": [
                _t("good_lead", 0.5, 4),
                _t("CANCELLED", 0.3, 24),
                _t("SPAM", 0.15, 1),
            ],
            "good_lead": [_t("PAID", 0.6, 72, "lognormal"), _t("CANCELLED", 0.4, 96)],
        },
        "revenue_median": 25000.0,
    },
    "dental_clinic": {
        "humanized": "new_lead → zapis1 → CANCELLED → zapis2 → paid_in_filial2, with re-booking",
        "initial": "new_lead",
        "statuses": [
            {"id": "new_lead", "type": "IN_PROGRESS", "humanized": "Новый лид"},
            {
                "id": "zapis1",
                "type": "OTHER",
                "humanized": "Запись в филиал №1",
                "goal_action_ids": ["zapis1", "vse_zapisi"],
            },
            {
                "id": "zapis2",
                "type": "OTHER",
                "humanized": "Запись в филиал №2",
                "goal_action_ids": ["zapis2", "vse_zapisi"],
            },
            {"id": "CANCELLED", "type": "CANCELLED", "humanized": "Запись отменена"},
            {
                "id": "paid_in_filial1",
                "type": "PAID",
                "humanized": "Оплачено в филиале №1",
                "goal_action_ids": ["oplaty_1_filial"],
            },
            {
                "id": "paid_in_filial2",
                "type": "PAID",
                "humanized": "Оплачено в филиале №2",
                "goal_action_ids": ["oplaty_2_filial"],
            },
            {"id": "SPAM", "type": "SPAM", "humanized": "Спам"},
        ],
        "goals": [
            {"id": 401, "name": "Запись в филиал №1", "identifier": "zapis1"},
            {"id": 402, "name": "Запись в филиал №2", "identifier": "zapis2"},
            {"id": 403, "name": "Все записи", "identifier": "vse_zapisi"},
            {"id": 404, "name": "Оплаты в филиале №1", "identifier": "oplaty_1_filial"},
            {"id": 405, "name": "Оплаты в филиале №2", "identifier": "oplaty_2_filial"},
        ],
        "transitions": {
            "new_lead": [
                _t("zapis1", 0.45, 3),
                _t("zapis2", 0.3, 3),
                _t("CANCELLED", 0.15, 24),
                _t("SPAM", 0.05, 1),
            ],
            "zapis1": [
                _t("paid_in_filial1", 0.6, 96, "lognormal", manager=False),
                _t("CANCELLED", 0.4, 48, manager=False),
            ],
            "zapis2": [
                _t("paid_in_filial2", 0.7, 96, "lognormal", manager=False),
                _t("CANCELLED", 0.3, 48, manager=False),
            ],
            "CANCELLED": [_t("zapis2", 0.3, 72), _t("zapis1", 0.1, 72)],
        },
        "products": ["cleaning", "extraction", "filling", "implant", "consultation"],
        "revenue_median": 8000.0,
        "revenue_sigma": 0.9,
    },
    "eshop": {
        "humanized": "cart → confirmed → paid (delivered) / cancelled, with repeat purchases",
        "initial": "new",
        "statuses": [
            {"id": "new", "type": "IN_PROGRESS", "humanized": "Новый заказ"},
            {"id": "confirmed", "type": "IN_PROGRESS", "humanized": "Подтверждён"},
            {"id": "delivered", "type": "PAID", "humanized": "Доставлен и оплачен"},
            {"id": "cancelled", "type": "CANCELLED", "humanized": "Отменён"},
            {"id": "test", "type": "SPAM", "humanized": "Тестовый заказ"},
        ],
        "transitions": {
            "new": [_t("confirmed", 0.85, 1), _t("cancelled", 0.1, 12), _t("test", 0.03, 1)],
            "confirmed": [
                _t("delivered", 0.9, 60, "lognormal", manager=False),
                _t("cancelled", 0.1, 48, manager=False),
            ],
        },
        "revenue_median": 3500.0,
        "revenue_sigma": 0.6,
        "max_products": 4,
        "repeat_rate": 0.35,
        "repeat_mean_days": 12.0,
    },
}


def builtin(name: str) -> PipelineSpec:
    """A built-in pipeline by name; raises ``KeyError`` for an unknown one."""
    spec = build(PipelineSpec, BUILTIN[name], f"pipeline {name}")
    spec.validate(f"pipeline {name}")
    return spec


@dataclass(frozen=True)
class PipelineRegistry:
    """Built-in pipelines plus those a settings file defines (which win on a name clash)."""

    custom: dict[str, PipelineSpec] = field(default_factory=dict)

    def get(self, name: str) -> PipelineSpec:
        if name in self.custom:
            return self.custom[name]
        if name in BUILTIN:
            return builtin(name)
        known = ", ".join(sorted({*BUILTIN, *self.custom}))
        raise SettingsError(f"unknown pipeline {name!r}; known: {known}")
