"""Rule packs: named, versioned readings of the docs, with the source of every rule.

Where the public pages disagree (project spec §0.1) each reading is a pack. ``docs-current``
(the default) reads the current official pages literally; the others keep every other reading
available, so a user can ask how much a number depends on it (``crmemu rules diff``). A pack
lists every rule that decides something, with its value and where that value comes from; a
rule a pack does not restate keeps the ``docs-current`` value and source.

Packs are data: :func:`pack_rules` turns one into a :class:`~emulator.rules.RuleSet`, and a
counter picks one with ``rules = {pack = "help-es", ...overrides}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.rules import (
    CancelledGoal,
    ClientIdType,
    CreateDateConflict,
    CrmGoalType,
    CustomerCap,
    DuplicateIdOrder,
    GoalNames,
    OfflineWindow,
    Repeat,
    RuleSet,
    UnknownStatus,
    UpdateWindowAnchor,
    ValidationFailure,
    WhenCreated,
)

DEFAULT_PACK = "docs-current"
MAPORDERSTATUSES = "https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about"
OVERVIEW = "https://yandex.ru/dev/metrika/ru/data-import/contacts"
SUPPORT = "https://yandex.ru/support/metrica/crm/about.html"
ES_SEED = "help text (ES), shared/seeds/metrica-crm-upload-es.txt"
EXAMPLES = f"{OVERVIEW} (the good_lead and dental examples)"


@dataclass(frozen=True)
class Choice:
    """A rule's value in a pack and where it comes from."""

    value: Any
    source: str


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    title: str
    choices: Mapping[str, Choice] = field(default_factory=dict)

    def rules(self) -> RuleSet:
        return RuleSet(pack=self.name, **{name: c.value for name, c in self.choices.items()})


DOCS_CURRENT = {
    "order_age_limit_days": Choice(21, f"{OVERVIEW}: linked only if sent within 21 days"),
    "visit_age_limit_days": Choice(
        21, "https://yandex.ru/dev/metrika/ru/management/conversion (21 days before processing)"
    ),
    "update_window_days": Choice(111, f"{OVERVIEW}: changes for 111 days from the visit start"),
    "update_window_anchor": Choice(UpdateWindowAnchor.VISIT_START, OVERVIEW),
    "duplicate_id_order": Choice(
        DuplicateIdOrder.SEEDED_RANDOM,
        "https://yandex.ru/dev/metrika/en/data-import/modes: rows with one id, random order",
    ),
    "create_date_conflict": Choice(
        CreateDateConflict.KEEP_FIRST,
        "https://yandex.ru/dev/metrika/en/data-import/modes: the creation date cannot change",
    ),
    "unknown_status": Choice(UnknownStatus.REJECT, f"{MAPORDERSTATUSES}: the status list"),
    "cancelled_goal": Choice(
        CancelledGoal.ORDER_CANCELLED, f"{MAPORDERSTATUSES} (.md): CRM: Заказ отменен"
    ),
    "spam_goal": Choice(True, f"{MAPORDERSTATUSES} (.md): CRM: Спам заказ"),
    "order_created_repeat": Choice(
        Repeat.PER_FIXATION, f"{SUPPORT}: каждая фиксация; {EXAMPLES}: created again at step 2"
    ),
    "paid_fires_order_created": Choice(
        WhenCreated.IF_NOT_REACHED, f"{MAPORDERSTATUSES}: PAID → created + paid; {EXAMPLES}"
    ),
    "other_fires_order_created": Choice(
        WhenCreated.UNMAPPED_ONLY, f"{EXAMPLES}: good_lead reaches created, mapped zapis1 does not"
    ),
    "cell_goals_repeat": Choice(Repeat.PER_FIXATION, f"{SUPPORT}: каждая фиксация (by analogy)"),
    "goal_names": Choice(GoalNames.EN, f"{MAPORDERSTATUSES} (EN twin)"),
    "crm_goal_type": Choice(CrmGoalType.CDP, "live counters: cdp_order_* goals (third party)"),
    "advanced_matching": Choice(True, f"{OVERVIEW}: additional tracking settings"),
    "normalize_identifiers": Choice(
        False, "https://yandex.ru/dev/metrika/ru/data-import/hashing: normalise before hashing"
    ),
    "orders_per_customer_limit": Choice(
        100_000, "https://yandex.ru/dev/metrika/ru/management/openapi/schema/uploadOrders"
    ),
    "customer_cap": Choice(CustomerCap.FAIL_UPLOAD, "A20: undocumented; nothing dropped silently"),
    "contacts_first": Choice(True, "https://yandex.ru/dev/metrika/ru/data-import/data (step 3)"),
    "relink_on_contact_upload": Choice(
        True, "https://yandex.ru/dev/metrika/ru/management/openapi/schema/uploadOrders"
    ),
    "ecommerce_preference": Choice(
        False, "https://www.yandex.com/support/metrica/crm/about.html: best-fitting is undefined"
    ),
    "fill_finish_date_time": Choice(
        True, "https://yandex.ru/dev/metrika/ru/data-import/orders-data"
    ),
    "fill_update_date_time": Choice(
        True, "https://yandex.ru/dev/metrika/ru/data-import/orders-data"
    ),
    "default_currency": Choice(
        "RUB", "https://yandex.ru/dev/metrika/en/data-import/simple-orders-data (the example)"
    ),
    "offline_visit_age_limit_days": Choice(
        21, "https://yandex.ru/dev/metrika/ru/management/conversion"
    ),
    "offline_window": Choice(
        OfflineWindow.CURRENT, "https://yandex.ru/dev/metrika/ru/management/conversion"
    ),
    "client_id_type": Choice(
        ClientIdType.PRIORITY,
        "https://yandex.ru/dev/metrika/en/management/openapi/offline_conversions/upload_1 (enum)",
    ),
    "validation_failure": Choice(ValidationFailure.HTTP_400, "A19: undocumented for CDP"),
}

OLDER_PAGE = f"{MAPORDERSTATUSES} (older rendering)"

PACKS: dict[str, RulePack] = {
    pack.name: pack
    for pack in (
        RulePack(
            "docs-current",
            "2026-12",
            "The current official pages, read literally (the default)",
            DOCS_CURRENT,
        ),
        RulePack(
            "docs-2024",
            "2024",
            "The older rendering of maporderstatuses-about: no goal for CANCELLED or SPAM "
            "(what the dental and simple-orders examples show)",
            DOCS_CURRENT
            | {
                "cancelled_goal": Choice(CancelledGoal.NONE, f"{OLDER_PAGE}; dental example"),
                "spam_goal": Choice(False, f"{OLDER_PAGE}; simple-orders example"),
            },
        ),
        RulePack(
            "help-es",
            "seed",
            "The ES help text's goal list and examples",
            DOCS_CURRENT
            | {
                "cancelled_goal": Choice(CancelledGoal.ORDER_CREATED, f"{ES_SEED}: CANCELADO"),
                "spam_goal": Choice(True, f"{ES_SEED}: CRM: Pedido spam"),
                "paid_fires_order_created": Choice(WhenCreated.NEVER, f"{ES_SEED}: PAGADO"),
                "other_fires_order_created": Choice(WhenCreated.ALWAYS, f"{ES_SEED}: good_lead"),
                "goal_names": Choice(GoalNames.ES, ES_SEED),
            },
        ),
        RulePack(
            "emulator-0.1",
            "0.1",
            "This emulator's behaviour before the rule packs (kept so nothing is lost)",
            DOCS_CURRENT
            | {
                "cancelled_goal": Choice(CancelledGoal.ORDER_CREATED, ES_SEED),
                "order_created_repeat": Choice(Repeat.ONCE_PER_ORDER, "emulator 0.1"),
                "paid_fires_order_created": Choice(WhenCreated.ALWAYS, "emulator 0.1"),
                "other_fires_order_created": Choice(WhenCreated.ALWAYS, f"{OVERVIEW} (good_lead)"),
                "cell_goals_repeat": Choice(Repeat.ONCE_PER_ORDER, "emulator 0.1"),
                "goal_names": Choice(GoalNames.EMULATOR_01, "emulator 0.1"),
                "crm_goal_type": Choice(CrmGoalType.EMULATOR_01, "emulator 0.1"),
                "customer_cap": Choice(CustomerCap.REFUSE_ROWS, "emulator 0.1"),
                "contacts_first": Choice(False, "emulator 0.1"),
                "fill_finish_date_time": Choice(False, "emulator 0.1"),
                "fill_update_date_time": Choice(False, "emulator 0.1"),
                "client_id_type": Choice(ClientIdType.MAJORITY, "emulator 0.1"),
            },
        ),
    )
}


def pack(name: str) -> RulePack:
    try:
        return PACKS[name]
    except KeyError:
        raise ValueError(f"unknown rule pack {name!r}; known: {', '.join(PACKS)}") from None


def pack_rules(name: str) -> RuleSet:
    """The :class:`RuleSet` of a pack (``ValueError`` for an unknown name)."""
    return pack(name).rules()


def markdown_table() -> str:
    """Every rule with its value in each pack and where the default pack's value comes from,
    then each pack's departures with their sources (docs/FIDELITY.md holds this; a test keeps
    the two equal)."""
    names = list(PACKS)
    lines = [
        f"| rule | {' | '.join(f'`{n}`' for n in names)} | source of `{DEFAULT_PACK}` |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    departures = []
    for rule in (f.name for f in dataclasses.fields(RuleSet) if f.name != "pack"):
        values = [_shown(getattr(PACKS[n].rules(), rule)) for n in names]
        home = PACKS[DEFAULT_PACK].choices.get(rule)
        source = home.source if home else "an emulator setting, not a reading of the docs"
        lines.append(f"| `{rule}` | {' | '.join(values)} | {source} |")
        for name in names:
            choice = PACKS[name].choices.get(rule)
            if choice is not None and home is not None and choice.source != home.source:
                departures.append(
                    f"- `{name}`: `{rule}` = {_shown(choice.value)} ({choice.source})"
                )
    intro = f"Where a pack departs from `{DEFAULT_PACK}`, and on what grounds:"
    return "\n".join([*lines, "", intro, "", *departures]) + "\n"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "value", value))
