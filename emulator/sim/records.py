"""From CRM state to the domain records an exporter uploads (``emulator.domain``).

The builders read the CRM *now* (at the exporter's simulated moment), so a record is a snapshot.
A :class:`Renaming` is what a CRM migration changes in the records of the new CRM: an id
namespace, or creation dates reset to the migration time (spec §2.7: creation dates can never
change, which is why that variant breaks linking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from emulator.domain import Call, Contact, OfflineConversion, Order, OrderGoal, SimpleOrder
from emulator.sim.calendar import SimCalendar
from emulator.sim.crm import ContactRecord, DealRecord, Lead
from emulator.sim.pipelines import PipelineSpec


@dataclass(frozen=True)
class Renaming:
    """Identity by default; after a migration, the new CRM's ids and creation dates."""

    id_prefix: str = ""
    created_floor: float | None = None  # records created before it carry this creation time

    def id(self, value: str) -> str:
        return self.id_prefix + value

    def created(self, at: float) -> float:
        if self.created_floor is not None and at < self.created_floor:
            return self.created_floor
        return at


NO_RENAMING = Renaming()


@dataclass(frozen=True)
class RecordBuilder:
    calendar: SimCalendar
    pipeline: PipelineSpec
    currency: str
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def snapshot(self, kind: str, item: ContactRecord | DealRecord, renaming: Renaming) -> Any:
        """``contact``, ``order`` or ``simple_order`` record of ``item`` as it is now.

        A daily "last 3 days" job sends most deals several times unchanged; an unchanged item
        (same ``updated``) reuses its last snapshot, which is safe since records are frozen.
        """
        key = (kind, id(item), item.updated, renaming)
        record = self._cache.get(key)
        if record is None:
            record = self._cache[key] = getattr(self, kind)(item, renaming)
        return record

    def contact(self, contact: ContactRecord, renaming: Renaming = NO_RENAMING) -> Contact:
        cal = self.calendar
        return Contact(
            uniq_id=renaming.id(contact.uniq_id),
            name=contact.name,
            create_date_time=cal.local(renaming.created(contact.created)),
            update_date_time=cal.local(max(contact.updated, renaming.created(contact.created))),
            client_ids=(contact.client_id,) if contact.client_id is not None else None,
            emails=tuple(contact.emails) or None,
            phones=tuple(contact.phones) or None,
        )

    def order(self, deal: DealRecord, renaming: Renaming = NO_RENAMING) -> Order:
        cal = self.calendar
        created = renaming.created(deal.recorded_created)
        return Order(
            id=renaming.id(deal.id),
            client_uniq_id=renaming.id(deal.contact.uniq_id),
            create_date_time=cal.local(created),
            order_status=deal.status,
            update_date_time=cal.local(max(deal.updated, created)),
            finish_date_time=cal.local(deal.paid_at) if deal.paid_at is not None else None,
            revenue=deal.revenue,
            cost=deal.cost,
            currency=self.currency,
            products=deal.products or None,
        )

    def simple_order(self, deal: DealRecord, renaming: Renaming = NO_RENAMING) -> SimpleOrder:
        """A simple-orders row: no status mapping there, so a custom status is sent as its type,
        or as its own id when that is a JS goal, and its extra goals go to ``goals`` (§4.13)."""
        status, goals = self.simple_status(deal.status)
        contact = deal.contact
        client_id = deal.lead.client_id
        return SimpleOrder(
            create_date_time=self.calendar.local(renaming.created(deal.recorded_created)),
            id=renaming.id(deal.id),
            client_uniq_id=renaming.id(contact.uniq_id),
            client_ids=(client_id,) if client_id is not None else None,
            emails=tuple(contact.emails) or None,
            phones=tuple(contact.phones) or None,
            order_status=status,
            revenue=deal.revenue,
            cost=deal.cost,
            goals=tuple(OrderGoal(g) for g in goals) or None,
            currency=self.currency,
        )

    def simple_status(self, status_id: str) -> tuple[str, tuple[str, ...]]:
        status = self.pipeline.status(status_id)
        if status.type != "OTHER":
            return status.type, status.goal_action_ids
        goal_ids = {g.identifier for g in self.pipeline.goals}
        named = [status.id] if status.id in goal_ids else []
        goals = [*named, *(g for g in status.goal_action_ids if g != status.id)]
        if not goals:  # an OTHER status with no JS goal cannot be said in simple orders
            return "IN_PROGRESS", ()
        return goals[0], tuple(goals[1:])

    def offline_conversion(self, deal: DealRecord, target: str) -> OfflineConversion | None:
        """A paid deal as an offline conversion; ``None`` when it carries no visitor id."""
        lead = deal.lead
        yclid = lead.visit.yclid if lead.client_id_kind == "true" and lead.visit.yclid else None
        if lead.client_id is None and yclid is None:
            return None
        assert deal.paid_at is not None
        return OfflineConversion(
            target=target,
            date_time=self.calendar.local(deal.paid_at).astimezone(UTC),
            client_id=lead.client_id,
            yclid=yclid,
            price=deal.revenue,
            currency=self.currency,
        )

    def call(self, lead: Lead, number: str) -> Call | None:
        """A tracked call; ``None`` without a visitor id (a static number, an exhausted pool),
        since a calls file needs ``ClientId``, ``UserId`` or ``Yclid`` on every row (§7.7)."""
        if lead.client_id is None:
            return None
        return Call(
            date_time=self.calendar.local(lead.at).astimezone(UTC),
            client_id=lead.client_id,
            static_call=lead.static_call,
            phone_number=number,
            talk_duration=lead.talk_seconds,
            hold_duration=5,
            call_missed=False,
        )
