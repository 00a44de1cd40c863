"""Lead channels: how a visit turns into a CRM request, and what gets lost or garbled on the way.

Per channel (``seeds/metrica-crm-upload-es.txt``, "How do I set up ClientID transmission"):

- ``web_form``, ``cart``: a hidden field filled by ``getClientID``; the customer types phone/e-mail.
- ``chat``, ``callback``: the widget passes the ClientID (or does not).
- ``call``: dynamic call tracking; a visitor shown a pool number is identified, one who dialled
  the static number (or came when the pool was exhausted) is not.
- ``email``: e-mail tracking substitutes the address on the site.
- ``messenger``: the ClientID rides in a deep link; WhatsApp users often edit it away.
- ``offline_shop``: a purchase in a shop days after browsing (ROPO): phone only, no ClientID.

Faults (each a per-lead rate in :class:`~emulator.sim.settings.Channel`): no ClientID, a ClientID
from another domain's cookie, a phone in a local format, an upper-case e-mail, and a creation time
written in UTC where the counter's zone was expected.
"""

from __future__ import annotations

import random

from emulator.identity import md5_hex, normalize_email, normalize_phone
from emulator.sim.crm import Lead
from emulator.sim.people import Identity, local_phone
from emulator.sim.settings import CallTracking, Channel
from emulator.sim.traffic import CID_SUFFIX, VisitRef

ON_SITE = frozenset({"web_form", "cart", "chat", "callback"})
FOREIGN_COOKIE_SPAN = 3 * 365 * 86400


def lead_delay(channel: str, spec: Channel, visit: VisitRef, rng: random.Random) -> float:
    """Seconds from the visit's start to the request."""
    if channel in ON_SITE:
        return visit.duration * (0.3 + 0.7 * rng.random())
    return visit.duration + rng.expovariate(1.0 / (spec.delay_minutes * 60.0))


def make_lead(
    lead_id: int,
    at: float,
    channel: str,
    spec: Channel,
    visit: VisitRef,
    identity: Identity,
    rng: random.Random,
    *,
    dynamic_share: float,
    tracking: CallTracking,
    unix_now: int,
    utc_offset_seconds: float,
) -> Lead:
    """A request through ``channel``, with that channel's capture rate and faults drawn."""
    client_id, kind, static = _client_id(
        channel, spec, visit, rng, dynamic_share, tracking, unix_now
    )
    phone, email = _contacts(channel, spec, identity, rng)
    shift = utc_offset_seconds if rng.random() < spec.utc_dates else 0.0
    return Lead(
        lead_id,
        at,
        channel,
        visit,
        identity.name,
        phone,
        email,
        client_id,
        kind,
        recorded_shift=shift,
        static_call=static,
        talk_seconds=int(30 + rng.expovariate(1 / 150.0)) if channel == "call" else 0,
    )


def typed_hashes(lead: Lead, spec: Channel, rng: random.Random) -> tuple[str, str] | None:
    """Advanced matching: the tag hashes the e-mail and phone typed into a form on the visit.

    Returns ``(email_md5, phone_md5)`` (either may be empty) or ``None`` when the tag did not
    record them. The tag normalises what was typed, so faults in spelling do not matter here.
    """
    if lead.channel not in ON_SITE or rng.random() >= spec.advanced_matching:
        return None
    email = md5_hex(normalize_email(lead.email)) if lead.email else ""
    phone = md5_hex(normalize_phone(lead.phone)) if lead.phone else ""
    return email, phone


def _client_id(
    channel: str,
    spec: Channel,
    visit: VisitRef,
    rng: random.Random,
    dynamic_share: float,
    tracking: CallTracking,
    unix_now: int,
) -> tuple[int | None, str, bool]:
    static = False
    if channel == "call":
        static = rng.random() < tracking.static_share or rng.random() >= dynamic_share
        if static:
            return None, "none", True
    draw = rng.random()
    if draw < spec.capture_rate:
        return visit.client_id, "true", static
    if draw < spec.capture_rate + spec.foreign_cookie:
        first_seen = unix_now - rng.randrange(FOREIGN_COOKIE_SPAN)
        return first_seen * CID_SUFFIX + rng.randrange(CID_SUFFIX), "foreign", static
    return None, "none", static


def _contacts(
    channel: str, spec: Channel, identity: Identity, rng: random.Random
) -> tuple[str | None, str | None]:
    gives_phone = rng.random() < spec.phone_rate
    gives_email = channel != "offline_shop" and rng.random() < spec.email_rate
    if not gives_phone and not gives_email:
        gives_phone = spec.phone_rate >= spec.email_rate
        gives_email = not gives_phone
    phone = email = None
    if gives_phone:
        phone = identity.phone
        if rng.random() < spec.local_phone_format:
            phone = local_phone(phone, rng)
    if gives_email:
        email = identity.email
        if rng.random() < spec.uppercase_email:
            email = email.upper()
    return phone, email
