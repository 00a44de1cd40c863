"""The CRM: contacts deduplicated by phone or e-mail, deals with their status history.

The amoCRM way (``seeds/amocrm-site-integration-ru.txt``): the first request of a customer creates
a contact and a deal, both carrying that request's ClientID and UTM tags; a repeat request finds
the contact by phone or e-mail and adds a deal with its own tags, while the contact keeps the
first-touch ones. Matching normalises phones and e-mails (a CRM compares numbers, not spellings),
but what is *stored* is what was typed, faults included.

Every change is appended to time-ordered logs, which exporters read with a binary search.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, TypeVar

from emulator.identity import IdentityError, normalize_email, normalize_phone
from emulator.sim.traffic import VisitRef

T = TypeVar("T")


@dataclass(slots=True)
class Lead:
    """A request from a customer, as it reaches the CRM; the truth fields say what really was."""

    id: int
    at: float
    channel: str
    visit: VisitRef
    name: str
    phone: str | None
    email: str | None
    client_id: int | None
    client_id_kind: str  # "true", "foreign" or "none"
    recorded_shift: float = 0.0  # seconds the CRM's creation time is off (UTC written as local)
    static_call: bool = False
    talk_seconds: int = 0


@dataclass(slots=True)
class ContactRecord:
    uniq_id: str
    name: str
    created: float
    person: int
    client_id: int | None
    first_lead: Lead
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    updated: float = 0.0


@dataclass(slots=True)
class DealRecord:
    id: str
    contact: ContactRecord
    lead: Lead
    created: float
    status: str
    revenue: Decimal
    cost: Decimal
    products: tuple[tuple[str, int], ...]
    history: list[tuple[str, float]] = field(default_factory=list)
    updated: float = 0.0
    paid_at: float | None = None

    @property
    def recorded_created(self) -> float:
        """The creation time the CRM holds (differs from the truth under the UTC fault)."""
        return self.created - self.lead.recorded_shift


class TimeLog(Generic[T]):
    """Items appended in time order; ``since(t)`` is what happened at or after ``t``."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.items: list[T] = []

    def add(self, at: float, item: T) -> None:
        self.times.append(at)
        self.items.append(item)

    def since(self, at: float) -> list[T]:
        return self.items[bisect_left(self.times, at) :]


class Crm:
    def __init__(self, first_contact_id: int, first_order_id: int, paid_statuses: set[str]) -> None:
        self.contacts: list[ContactRecord] = []
        self.deals: list[DealRecord] = []
        self.changes: TimeLog[DealRecord] = TimeLog()
        self.paid: TimeLog[DealRecord] = TimeLog()
        self.calls: TimeLog[Lead] = TimeLog()
        self.listeners: list[Callable[[float], None]] = []
        self._by_key: dict[str, ContactRecord] = {}
        self._first_contact_id = first_contact_id
        self._first_order_id = first_order_id
        self._paid_statuses = paid_statuses

    def receive(
        self,
        lead: Lead,
        status: str,
        revenue: Decimal,
        cost: Decimal,
        products: tuple[tuple[str, int], ...],
    ) -> DealRecord:
        """Record a lead: find or create its contact, open a deal in ``status``."""
        contact = self._contact_for(lead)
        deal = DealRecord(
            str(self._first_order_id + len(self.deals)),
            contact,
            lead,
            lead.at,
            status,
            revenue,
            cost,
            products,
        )
        self.deals.append(deal)
        if lead.channel == "call":
            self.calls.add(lead.at, lead)
        self.set_status(deal, status, lead.at)
        return deal

    def set_status(self, deal: DealRecord, status: str, at: float) -> None:
        deal.status = status
        deal.history.append((status, at))
        deal.updated = at
        if status in self._paid_statuses and deal.paid_at is None:
            deal.paid_at = at
            self.paid.add(at, deal)
        self.changes.add(at, deal)
        for listener in self.listeners:
            listener(at)

    def _contact_for(self, lead: Lead) -> ContactRecord:
        keys = _keys(lead)
        contact = next((self._by_key[k] for k in keys if k in self._by_key), None)
        if contact is None:
            contact = ContactRecord(
                str(self._first_contact_id + len(self.contacts)),
                lead.name,
                lead.at,
                lead.visit.person,
                lead.client_id,
                lead,
            )
            self.contacts.append(contact)
        for key, value in keys.items():
            if key not in self._by_key:
                self._by_key[key] = contact
                (contact.phones if key[0] == "p" else contact.emails).append(value)
        contact.updated = lead.at
        return contact


def _keys(lead: Lead) -> dict[str, str]:
    """Dedup keys (normalised) mapped to the values as typed."""
    keys: dict[str, str] = {}
    for prefix, value, normalise in (
        ("p", lead.phone, normalize_phone),
        ("e", lead.email, normalize_email),
    ):
        if value:
            with contextlib.suppress(IdentityError):
                keys[prefix + normalise(value)] = value
    return keys
