"""The attribution rules as one value: windows, goal table, merge semantics, ambiguities.

Every place where the public docs disagree (project spec §0.1) and the choice changes what the
service decides is a named field here, with its default and the sources that back each side.
A :class:`RuleSet` is immutable; counters carry one each, and ``RuleSet.from_mapping`` builds
one from the JSON/TOML a user writes (unknown names are an error, never ignored).
"""

from __future__ import annotations

import dataclasses
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

    ORDER_CREATED = "order_created"
    """The ES seed metrica-crm-upload-es.txt: cancelling completes "CRM: Order created"."""
    NONE = "none"
    """https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about (one rendering):
    no goals for CANCELLED."""
    ORDER_CANCELLED = "order_cancelled"
    """The RU CRM overview (contacts.md): a separate goal "CRM: Order cancelled"."""


class ValidationFailure(StrEnum):
    """How the HTTP API reports an upload that fails validation (ambiguity A19)."""

    HTTP_400 = "http_400"
    """400 ``invalid_uploading`` with the first row errors; nothing is stored."""
    STATUS_FAILED = "status_failed"
    """200 with ``api_validation_status=FAILED``; nothing is stored (what third-party clients
    read as "the file had an error")."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Options of the reference engine. Defaults follow the issue tracker's decisions."""

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
    cancelled_goal: CancelledGoal = CancelledGoal.ORDER_CREATED
    spam_goal: bool = True
    """"CRM: Order spam" fires at each fixation into SPAM (ES seed; RU maporderstatuses-about
    "CRM: Спам заказ"). ``False`` follows the other rendering of that page and the
    simple-orders example (https://yandex.ru/dev/metrika/en/data-import/simple-orders-data)."""
    other_fires_order_created: bool = True
    """Ambiguity A9: the RU overview says a JS-goal status (type OTHER) also completes
    "CRM: Order created"; the status-type list is silent."""
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
    """https://yandex.com/dev/metrika/en/management/openapi/schema/uploadOrdersJson_1.md; what
    happens above it is undocumented (A20): further rows are refused as ``CUSTOMER_ORDER_LIMIT``."""
    relink_on_contact_upload: bool = True
    """Orders that could not be linked for lack of a contact are tried again when that contact
    arrives (orders "link to sessions and customers", uploadOrdersJson_1). Not documented
    either way; switch off to link only at the order's own upload."""
    default_currency: str = "RUB"
    """Ambiguity A18: the simple-orders example says amounts without ``currency`` are roubles."""
    processing_delay_seconds: int = 0
    """Uploads are processed this long after they arrive (the real service: "within 2 hours",
    ambiguity A16). The 21-day limits are measured at processing time."""
    offline_visit_age_limit_days: int = 21
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
        """Build from user JSON/TOML; unknown names and wrong values raise ``ValueError``."""
        if not values:
            return cls()
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(
                f"unknown rule option(s): {', '.join(unknown)}; known: {', '.join(fields)}"
            )
        converted: dict[str, Any] = {}
        defaults = cls()
        for name, raw in values.items():
            default = getattr(defaults, name)
            converted[name] = _coerce(name, raw, default)
        return cls(**converted)

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-friendly values (enums as their strings)."""
        return {
            f.name: (v.value if isinstance(v, StrEnum) else v)
            for f in dataclasses.fields(self)
            for v in [getattr(self, f.name)]
        }

    def replace(self, **changes: Any) -> RuleSet:
        """A copy with ``changes``, checked and converted like :meth:`from_mapping` (so
        ``create_date_conflict="overwrite"`` becomes the enum, and a typo is an error)."""
        return RuleSet.from_mapping({**self.to_mapping(), **changes})


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
