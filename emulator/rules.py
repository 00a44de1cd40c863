"""The attribution rules as one value: windows, goal table, merge semantics, ambiguities.

Every place where the public docs disagree (project spec §0.1) and the choice changes what the
service decides is a named field here. A :class:`RuleSet` is immutable; counters carry one
each. Its defaults are the current official pages read literally (the ``docs-current`` pack);
:mod:`emulator.packs` names the other readings (older pages, the ES help text, this emulator's
0.1 behaviour) with the source of every value, and ``RuleSet.from_mapping({"pack": ...})``
builds a pack with overrides. Unknown names are an error, never ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from emulator.dates import EndOfDay

DAY_SECONDS = 86_400


class UpdateWindowAnchor(StrEnum):
    """What the post-link update window is counted from (ambiguity A1)."""

    VISIT_START = "visit_start"
    """111 days from the start of the linked session: RU dev docs
    https://yandex.ru/dev/metrika/ru/data-import/contacts and the ES seed."""
    ORDER_CREATED = "order_created"
    """90 days: https://www.yandex.com/support/metrica/crm/about.html ("linked for 21 days and
    then updated for 90 days"); counted here from the order's creation."""


class DuplicateIdOrder(StrEnum):
    """How rows sharing an id inside one upload are applied (spec §2.7: "in random order")."""

    SEEDED_RANDOM = "seeded_random"
    LAST_WINS = "last_wins"


class CreateDateConflict(StrEnum):
    """What a later row with another ``create_date_time`` for a known id does.

    https://yandex.ru/dev/metrika/en/data-import/modes: creation dates cannot be changed; the ES
    seed (CRM migration FAQ) says such rows are read as updates of the existing order, which
    then cannot match the new CRM's session. ``OVERWRITE`` exists only to show what that rule
    protects (the scenario suite proves it matters); the real service never does it.
    """

    KEEP_FIRST = "keep_first"
    OVERWRITE = "overwrite"


class UnknownStatus(StrEnum):
    """An ``order_status`` that is neither a standard type, a mapped id nor a JS goal."""

    REJECT = "reject"
    """The upload fails validation with a row error (the default)."""
    ACCEPT_UNLINKED = "accept_unlinked"
    """The order is stored for the users-and-customers data but never linked."""


class CancelledGoal(StrEnum):
    """What a fixation into a CANCELLED-type status fires (ambiguity A2)."""

    ORDER_CANCELLED = "order_cancelled"
    """https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about (current .md):
    "будет достигнута цель CRM: Заказ отменен" (EN "CRM: Order canceled")."""
    NONE = "none"
    """The older rendering of the same page and the dental example: no goal."""
    ORDER_CREATED = "order_created"
    """The ES help text's list: cancelling completes "CRM: Pedido creado"."""


class Repeat(StrEnum):
    """How often a goal may fire for one order (ambiguity A9 and the ``goals`` cell)."""

    PER_FIXATION = "per_fixation"
    """At every fixation: the old support page, "учитывается каждая фиксация заказа в
    определенном статусе" (https://yandex.ru/support/metrica/crm/about.html), and the good_lead
    example, where "Order created" is reached again at step 2."""
    ONCE_PER_ORDER = "once_per_order"
    """Once for the whole life of the order (this emulator's 0.1 behaviour)."""


class WhenCreated(StrEnum):
    """Whether a fixation of a status type also reaches "CRM: Order created"."""

    ALWAYS = "always"
    IF_NOT_REACHED = "if_not_reached"
    """Only if the order has not reached it yet (reconciles the good_lead, dental and
    simple-orders examples; an inference, no page says it in words)."""
    UNMAPPED_ONLY = "unmapped_only"
    """For OTHER: only a JS-goal status sent as is; a status of the mapping fires only its own
    goals (the dental example's ``zapis1``)."""
    NEVER = "never"


class GoalNames(StrEnum):
    """The language of the CRM goals' names, as each source writes them."""

    EN = "en"
    RU = "ru"
    ES = "es"
    EMULATOR_01 = "emulator-0.1"


class CrmGoalType(StrEnum):
    """The ``type`` of the CRM goals in ``GET management/v1/counter/{id}/goals``."""

    CDP = "cdp"
    """``cdp_order_in_progress``, ``cdp_order_paid``, ``cdp_order_cancelled``,
    ``cdp_order_spam`` with ``goal_source: auto``, as live counters answer (third-party
    observations; the docs do not list these types)."""
    EMULATOR_01 = "crm"


class CustomerCap(StrEnum):
    """What an upload that would give a customer more orders than the limit does (A20)."""

    FAIL_UPLOAD = "fail_upload"
    """The upload fails validation naming the customer and the line: nothing is dropped while
    the upload says PASSED (the docs say only "no more than 100,000 orders per customer")."""
    REFUSE_ROWS = "refuse_rows"
    """The upload passes; the excess rows are refused one by one (``CUSTOMER_ORDER_LIMIT``)."""


class ClientIdType(StrEnum):
    """How an offline uploading's ``client_id_type`` is chosen (A14)."""

    PRIORITY = "priority"
    """The first of ClientId, UserId, Yclid the file uses; never PURCHASE_ID, which is not in
    the response enum (https://yandex.ru/dev/metrika/en/management/openapi/offline_conversions/
    upload_1)."""
    MAJORITY = "majority"
    """The identifier most rows use, PurchaseId included (this emulator's 0.1 behaviour)."""


class OfflineWindow(StrEnum):
    """Which visits an offline conversion may link to, and what ``extended_threshold`` does."""

    CURRENT = "current"
    """At most 21 days between the visit and processing, always
    (https://yandex.ru/dev/metrika/ru/management/conversion); the legacy switch is recorded."""
    LEGACY_THRESHOLD = "legacy_threshold"
    """The old API: 16 hours after the visit unless the extended threshold is on; once on, 21
    days, but only for visits that started after it was switched on (https://yandex.com/dev/
    metrika/doc/api2/management/offline_conversion/enablecallsextendedthreshold.html)."""


class ValidationFailure(StrEnum):
    """How the HTTP API reports an upload that fails validation (ambiguity A19)."""

    HTTP_400 = "http_400"
    """400 ``invalid_uploading`` with the first row errors; nothing is stored."""
    STATUS_FAILED = "status_failed"
    """200 with ``api_validation_status=FAILED``; nothing is stored (what third-party clients
    read as "the file had an error")."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Options of the reference engine; the defaults are the ``docs-current`` pack."""

    pack: str = "docs-current"
    """The rule pack these values started from (:mod:`emulator.packs`)."""
    order_age_limit_days: int = 21
    """An order links only if processed at most this many days after its creation
    (https://yandex.ru/dev/metrika/en/data-import/contacts: "within 21 days"; exactly 21×24 h
    still links)."""
    visit_age_limit_days: int = 21
    """The linked visit must have started at most this many days before processing
    (https://yandex.ru/dev/metrika/en/management/offline-conv: "no more than 21 days between
    the last session and processing of the file")."""
    update_window_days: int = 111
    update_window_anchor: UpdateWindowAnchor = UpdateWindowAnchor.VISIT_START
    duplicate_id_order: DuplicateIdOrder = DuplicateIdOrder.SEEDED_RANDOM
    duplicate_id_seed: int = 0
    create_date_conflict: CreateDateConflict = CreateDateConflict.KEEP_FIRST
    unknown_status: UnknownStatus = UnknownStatus.REJECT
    cancelled_goal: CancelledGoal = CancelledGoal.ORDER_CANCELLED
    spam_goal: bool = True
    """A fixation into SPAM reaches "CRM: Spam order" (current maporderstatuses-about);
    ``False``: no goal (its older rendering and the simple-orders example)."""
    order_created_repeat: Repeat = Repeat.PER_FIXATION
    """Ambiguity A9: whether "CRM: Order created" can be reached more than once per order."""
    paid_fires_order_created: WhenCreated = WhenCreated.IF_NOT_REACHED
    """PAID reaches "Order created" and "Order paid" (current maporderstatuses-about); the
    good_lead example's PAID step reaches "Order paid" only, after "created" was reached."""
    other_fires_order_created: WhenCreated = WhenCreated.UNMAPPED_ONLY
    """A JS-goal status (type OTHER) also reaches "Order created" (the good_lead example);
    a mapped OTHER status does not (the dental example's ``zapis1``)."""
    cell_goals_repeat: Repeat = Repeat.PER_FIXATION
    """Goals of the ``goals`` cell: at every fixation like the status goals (the support
    page's "каждая фиксация"; no page speaks of the cell itself), or once per order."""
    goal_names: GoalNames = GoalNames.EN
    crm_goal_type: CrmGoalType = CrmGoalType.CDP
    advanced_matching: bool = True
    """Match phones and e-mails (plain or MD5) through visits where the counter's advanced
    matching captured them (https://yandex.ru/dev/metrika/en/data-import/contacts, "Additional
    tracking settings")."""
    normalize_identifiers: bool = False
    """The docs ask for phones as digits with country code and e-mails in lower case
    (https://yandex.ru/dev/metrika/ru/data-import/hashing) and do not say the service repairs
    other forms; by default values are matched as sent, so ``8 (999) 555-11-11`` never matches.
    ``True`` normalises phones and e-mails before hashing."""
    end_of_day: EndOfDay = EndOfDay.METRICA
    orders_per_customer_limit: int = 100_000
    """https://yandex.com/dev/metrika/en/management/openapi/schema/uploadOrdersJson_1.md."""
    customer_cap: CustomerCap = CustomerCap.FAIL_UPLOAD
    contacts_first: bool = True
    """Orders of the detailed flow (``data/orders``) link only to visits that started after the
    first successful contacts upload (https://yandex.ru/dev/metrika/ru/data-import/data, step 3:
    "данные о заказах будут привязываться к визитам, которые были совершены после первой
    удачной загрузки информации о клиентах"). Simple orders carry their own identifiers."""
    relink_on_contact_upload: bool = True
    """Orders not linked for lack of a contact are tried again when that contact arrives, under
    exactly the rules a first link would meet at that moment (orders "link to sessions and
    customers", uploadOrdersJson_1)."""
    ecommerce_preference: bool = False
    """Prefer the latest qualifying visit with an e-commerce purchase (support page crm/about:
    "the best-fitting session with e-commerce data"). Off: "best-fitting" is not defined."""
    fill_finish_date_time: bool = True
    """An order without ``finish_date_time`` gets the time of its first processing in a
    PAID-type status (https://yandex.ru/dev/metrika/ru/data-import/orders-data)."""
    fill_update_date_time: bool = True
    """An order without ``update_date_time`` gets its processing time ("set automatically if
    absent", orders-data)."""
    default_currency: str = "RUB"
    """Ambiguity A18: the simple-orders example says amounts without ``currency`` are roubles."""
    processing_delay_seconds: int = 0
    """Uploads are processed this long after they arrive. The real service takes up to about
    2 hours (A16; ``processing_delay = "2h"`` in a config is realistic); instant by default so
    that tests and scripts read results at once."""
    offline_visit_age_limit_days: int = 21
    offline_window: OfflineWindow = OfflineWindow.CURRENT
    client_id_type: ClientIdType = ClientIdType.PRIORITY
    validation_failure: ValidationFailure = ValidationFailure.HTTP_400

    @property
    def order_age_limit_seconds(self) -> int:
        return self.order_age_limit_days * DAY_SECONDS

    @property
    def visit_age_limit_seconds(self) -> int:
        return self.visit_age_limit_days * DAY_SECONDS

    @property
    def update_window_seconds(self) -> int:
        return self.update_window_days * DAY_SECONDS

    @classmethod
    def support_page_variant(cls, **overrides: Any) -> RuleSet:
        """The support page's reading of A1: updates for 90 days after the order's creation."""
        return cls(
            update_window_days=90,
            update_window_anchor=UpdateWindowAnchor.ORDER_CREATED,
            **overrides,
        )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> RuleSet:
        """Build from user JSON/TOML: ``pack`` picks the starting values (default
        ``docs-current``), the other names override them. Unknown names and wrong values
        raise ``ValueError``; ``processing_delay`` takes a duration such as ``"2h"``."""
        values = dict(values or {})
        if "processing_delay" in values:
            values["processing_delay_seconds"] = duration_seconds(values.pop("processing_delay"))
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(
                f"unknown rule option(s): {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
            )
        from emulator.packs import pack_rules

        base = pack_rules(values.pop("pack", "docs-current"))
        converted = {name: _coerce(name, raw, getattr(base, name)) for name, raw in values.items()}
        return dataclasses.replace(base, **converted)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-friendly values (enums as their strings)."""
        return {
            f.name: (v.value if isinstance(v, StrEnum) else v)
            for f in dataclasses.fields(self)
            for v in [getattr(self, f.name)]
        }

    def replace(self, **changes: Any) -> RuleSet:
        """A copy with ``changes``, checked and converted like :meth:`from_mapping` (so
        ``create_date_conflict="overwrite"`` becomes the enum, and a typo is an error); with
        ``pack``, the values of that pack plus the other changes."""
        if "pack" in changes:
            return RuleSet.from_mapping(changes)
        return RuleSet.from_mapping({**self.to_mapping(), **changes})


_DURATION = re.compile(r"(\d+)\s*(s|m|h|d)?")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY_SECONDS, None: 1}


def duration_seconds(value: Any) -> int:
    """``"2h"``, ``"30m"``, ``"90s"``, ``"1d"`` or a number of seconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    found = _DURATION.fullmatch(str(value).strip())
    if found is None:
        raise ValueError(f"rule 'processing_delay': {value!r} is not a duration like '2h'")
    return int(found[1]) * _UNITS[found[2]]


def _coerce(name: str, raw: Any, default: Any) -> Any:
    if isinstance(default, StrEnum):
        try:
            return type(default)(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in type(default))
            raise ValueError(f"rule {name!r}: {raw!r} is not one of {allowed}") from None
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise ValueError(f"rule {name!r}: expected true or false, got {raw!r}")
        return raw
    if isinstance(default, int):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValueError(f"rule {name!r}: expected a whole number >= 0, got {raw!r}")
        return raw
    if not isinstance(raw, type(default)):
        raise ValueError(f"rule {name!r}: expected {type(default).__name__}, got {raw!r}")
    return raw
