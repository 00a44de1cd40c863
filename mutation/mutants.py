"""The single-rule mutants: each breaks one documented rule in the engine, nowhere else.

A mutant is one or more exact source edits. Every ``old`` snippet must occur exactly once in
its file, so a refactoring that moves a rule makes the harness fail loudly instead of testing
nothing; the fix is to point the mutant at the rule's new place. Mutants change the engine
(``emulator/engine``, ``emulator/goals.py``), never the rule packs or the scorer's tables:
the question is whether the suite notices an engine that disagrees with its own packs.

``goal`` marks the rules that decide which goals a linked order reaches; the scenario kill
matrix runs only those (scenario expectations compare the goals fired with the pack's table).
"""

from __future__ import annotations

from dataclasses import dataclass

MAPORDERSTATUSES = "https://yandex.ru/dev/metrika/ru/data-import/maporderstatuses-about"
SUPPORT = "https://yandex.ru/support/metrica/crm/about.html"
CONTACTS = "https://yandex.ru/dev/metrika/en/data-import/contacts"
CONVERSION = "https://yandex.ru/dev/metrika/ru/management/conversion"
MODES = "https://yandex.ru/dev/metrika/en/data-import/modes"
ORDERS_DATA = "https://yandex.ru/dev/metrika/ru/data-import/orders-data"
SIMPLE_ORDERS = "https://yandex.ru/dev/metrika/en/data-import/simple-orders-data"
UPLOAD_ORDERS = "https://yandex.ru/dev/metrika/ru/management/openapi/schema/uploadOrders"
UPLOAD_OFFLINE = "https://yandex.ru/dev/metrika/en/management/openapi/offline_conversions/upload_1"
THRESHOLD = (
    "https://yandex.com/dev/metrika/doc/api2/management/offline_conversion/"
    "enablecallsextendedthreshold.html"
)

GOALS = "emulator/goals.py"
FIRE = "emulator/engine/fire.py"
LINK = "emulator/engine/link.py"
ORDERS = "emulator/engine/orders.py"
OFFLINE = "emulator/engine/offline.py"
UPLOADS = "emulator/engine/uploads.py"


@dataclass(frozen=True)
class Edit:
    """Replace the one occurrence of ``old`` in ``path`` (relative to the project root)."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    name: str
    breaks: str
    """The rule it breaks, in one line."""
    guards: str
    """Where the rule comes from (a doc URL, or the spec section)."""
    goal: bool
    edits: tuple[Edit, ...]


def _one(name: str, breaks: str, guards: str, goal: bool, path: str, old: str, new: str) -> Mutant:
    return Mutant(name, breaks, guards, goal, (Edit(path, old, new),))


MUTANTS: tuple[Mutant, ...] = (
    # -- which goals a fixation reaches -----------------------------------------------------
    Mutant(
        "paid_once_per_order",
        '"Order paid" is reached only at an order\'s first fixation into PAID, not at every one',
        f"{SUPPORT} (каждая фиксация)",
        True,
        (
            Edit(
                FIRE,
                "    combo = codes[fixing] * 2 + created[fixing]\n",
                "    combo = codes[fixing] * 2 + created[fixing]\n"
                '    done = take(orders.column("fired_cell_goals"), rows).to_pylist()\n'
                "    paid_now: list[int] = []\n",
            ),
            Edit(
                FIRE,
                "            if goal is not None:\n",
                "            if crm_goal is CrmGoal.ORDER_PAID:\n"
                '                kept = ["#paid" not in (done[i] or []) for i in at]\n'
                "                at = at[np.array(kept, bool)]\n"
                "                paid_now += at.tolist()\n"
                "            if goal is not None:\n",
            ),
            Edit(
                FIRE,
                "    fired = _cell_goals(reaches, orders, rows, profit, again)\n",
                "    fired = _cell_goals(reaches, orders, rows, profit, again)\n"
                "    fired = pa.array(\n"
                '        [(f or []) + ["#paid"] * (i in paid_now and "#paid" not in (f or []))\n'
                "         for i, f in enumerate(fired.to_pylist())],\n"
                "        pa.list_(pa.string()),\n"
                "    )\n",
            ),
        ),
    ),
    _one(
        "cancelled_goal_inverted",
        'the CANCELLED-goal rule read backwards: CANCELLED reaches no "Order canceled"',
        f"{MAPORDERSTATUSES} (CANCELLED → CRM: Заказ отменен)",
        True,
        GOALS,
        "    cancelled = rules.cancelled_goal is CancelledGoal.ORDER_CANCELLED\n",
        "    cancelled = rules.cancelled_goal is CancelledGoal.NONE\n",
    ),
    _one(
        "cancelled_goal_old_name",
        'CANCELLED reaches a goal named "CRM: Order cancelled", not the page\'s "Order canceled"',
        f"{MAPORDERSTATUSES} (EN twin spells canceled)",
        True,
        GOALS,
        '        CrmGoal.ORDER_CANCELLED: "CRM: Order canceled",\n',
        '        CrmGoal.ORDER_CANCELLED: "CRM: Order cancelled",\n',
    ),
    _one(
        "spam_goal_old_name",
        'SPAM reaches a goal named "CRM: Order spam", not the page\'s "Spam order"',
        f"{MAPORDERSTATUSES} (EN twin: CRM: Spam order)",
        True,
        GOALS,
        '        CrmGoal.ORDER_SPAM: "CRM: Spam order",\n',
        '        CrmGoal.ORDER_SPAM: "CRM: Order spam",\n',
    ),
    _one(
        "spam_goal_inverted",
        'the SPAM-goal switch read backwards: SPAM reaches no "Spam order"',
        f"{MAPORDERSTATUSES} (SPAM → CRM: Спам заказ)",
        True,
        GOALS,
        "    if status.type is StatusType.SPAM and rules.spam_goal:\n",
        "    if status.type is StatusType.SPAM and not rules.spam_goal:\n",
    ),
    _one(
        "created_once_per_order",
        '"Order created" is reached once per order instead of at every fixation (A9)',
        f"{SUPPORT} (каждая фиксация); the good_lead example, step 2",
        True,
        GOALS,
        "or rules.order_created_repeat is Repeat.ONCE_PER_ORDER:",
        "or rules.order_created_repeat is Repeat.PER_FIXATION:",
    ),
    _one(
        "paid_never_creates",
        'a fixation into PAID never reaches "Order created" (the ES list\'s reading)',
        f"{MAPORDERSTATUSES} (PAID → Order created + Order paid)",
        True,
        GOALS,
        "        when = rules.paid_fires_order_created\n",
        "        when = WhenCreated.NEVER\n",
    ),
    _one(
        "mapped_other_creates",
        'a mapped OTHER status reaches "Order created" too (the dental zapis1 must not)',
        f"{CONTACTS} (the dental example: zapis1 reaches only its own goals)",
        True,
        GOALS,
        "(when is WhenCreated.UNMAPPED_ONLY and status.mapped)",
        "(when is WhenCreated.UNMAPPED_ONLY and not status.mapped)",
    ),
    _one(
        "goal_action_ids_ignored",
        "a mapped status fires no goals of its goal_action_ids",
        f"{MAPORDERSTATUSES} (goal_action_ids)",
        True,
        GOALS,
        "        extra = tuple(g for g in mapped.goal_action_ids if g not in own_goal)\n",
        "        extra = ()\n",
    ),
    _one(
        "cell_goals_once_per_order",
        "a goals-cell entry fires once per order instead of at every fixation",
        f"{SUPPORT} (каждая фиксация, by analogy; rule cell_goals_repeat)",
        True,
        FIRE,
        "new if work.rules.cell_goals_repeat is Repeat.PER_FIXATION else",
        "new if work.rules.cell_goals_repeat is Repeat.ONCE_PER_ORDER else",
    ),
    _one(
        "goal_revenue_is_revenue",
        "a status goal carries the order's revenue instead of revenue − cost",
        f"{SIMPLE_ORDERS} (goal revenue is the profit)",
        True,
        FIRE,
        "    both = present(revenue) & present(cost)\n",
        "    both = np.zeros(len(revenue), bool)\n",
    ),
    _one(
        "resend_is_fixation",
        "re-sending an order in the status it already has counts as a new fixation",
        f"{SUPPORT} (a fixation is a registration in a status; spec §2.8)",
        True,
        FIRE,
        "pc.not_equal(status, fixed)",
        "pc.is_valid(status)",
    ),
    Mutant(
        "unlinked_orders_fire",
        "orders not linked to any visit reach goals too",
        f"{CONTACTS} (goals are reached on the order's linked session)",
        True,
        (
            Edit(
                FIRE,
                '    rows = np.flatnonzero(present(orders.column("linked_visit_id")))\n',
                "    rows = np.arange(len(orders))\n",
            ),
            Edit(
                FIRE,
                'self.visits = np.asarray(take(orders.column("linked_visit_id"), rows))',
                "self.visits = np.asarray(pc.fill_null("
                'take(orders.column("linked_visit_id"), rows), 0))',
            ),
        ),
    ),
    # -- linking windows --------------------------------------------------------------------
    _one(
        "order_age_boundary",
        "an order processed exactly 21 days after its creation no longer links (> read as >=)",
        f"{CONTACTS} (within 21 days)",
        False,
        LINK,
        "age[candidates] > rules.order_age_limit_seconds",
        "age[candidates] >= rules.order_age_limit_seconds",
    ),
    _one(
        "visit_age_from_creation",
        "the order's visit-age limit is counted from the order's creation, not its processing",
        f"{CONVERSION} (21 days between the visit and processing)",
        False,
        LINK,
        "window = np.full(len(candidates), work.now - rules.visit_age_limit_seconds, np.int64)",
        "window = created[candidates] - rules.visit_age_limit_seconds",
    ),
    _one(
        "visit_age_boundary",
        "a visit that started exactly 21 days before processing no longer links",
        f"{CONVERSION} (no more than 21 days)",
        False,
        LINK,
        "work.now - rules.visit_age_limit_seconds, np.int64)",
        "work.now - rules.visit_age_limit_seconds + 1, np.int64)",
    ),
    _one(
        "offline_age_from_conversion",
        "the offline visit-age limit is counted from the conversion's time, not processing",
        f"{CONVERSION} (21 days between the visit and processing of the file)",
        False,
        OFFLINE,
        "times[rows], np.full(len(rows), not_before)",
        "times[rows], times[rows] - rules.offline_visit_age_limit_days * 86_400",
    ),
    _one(
        "offline_threshold_ignored",
        "the legacy offline window (16 h unless the extended threshold is on) is ignored",
        THRESHOLD,
        False,
        OFFLINE,
        "    if rules.offline_window is OfflineWindow.CURRENT:\n",
        "    if rules.offline_window is not None:\n",
    ),
    _one(
        "contacts_first_off",
        "detailed orders link to visits made before the first contacts upload",
        "https://yandex.ru/dev/metrika/ru/data-import/data (step 3)",
        False,
        LINK,
        "cutoff = contacts_cutoff(work) if rules.contacts_first else None",
        "cutoff = None",
    ),
    _one(
        "relink_off",
        "an order waiting for its contact is never linked when the contact arrives",
        f"{UPLOAD_ORDERS} (orders link to sessions and customers)",
        False,
        "emulator/engine/contacts.py",
        "    if not work.rules.relink_on_contact_upload or not customers:\n",
        "    if work.rules.relink_on_contact_upload or not customers:\n",
    ),
    _one(
        "ecommerce_preference_ignored",
        "the e-commerce preference option has no effect",
        "https://www.yandex.com/support/metrica/crm/about.html (best-fitting session)",
        False,
        LINK,
        "kinds = [IndexKind.ECOMMERCE, IndexKind.CLIENT_ID] if rules.ecommerce_preference else []",
        "kinds = []",
    ),
    # -- updates ----------------------------------------------------------------------------
    _one(
        "update_window_length",
        "the update window is 90 days whatever the rule says (111 days from the visit)",
        f"{CONTACTS} (changes for 111 days)",
        False,
        ORDERS,
        "(self.work.now > anchor + rules.update_window_seconds)",
        "(self.work.now > anchor + 90 * 86_400)",
    ),
    _one(
        "update_window_anchor",
        "the update window is counted from the other anchor (order creation ↔ visit start)",
        f"{CONTACTS}; {SUPPORT} (ambiguity A1)",
        False,
        ORDERS,
        "if rules.update_window_anchor is UpdateWindowAnchor.VISIT_START:",
        "if rules.update_window_anchor is UpdateWindowAnchor.ORDER_CREATED:",
    ),
    _one(
        "create_date_overwrite",
        "a later row with another create_date_time replaces the first one",
        f"{MODES} (creation dates cannot be changed)",
        False,
        ORDERS,
        "overwrite = work.rules.create_date_conflict is CreateDateConflict.OVERWRITE",
        "overwrite = work.rules.create_date_conflict is CreateDateConflict.KEEP_FIRST",
    ),
    _one(
        "append_stored_wins",
        "an APPEND clash keeps the stored product or attribute value instead of the sent one",
        f"{MODES} (APPEND)",
        False,
        "emulator/engine/arrays.py",
        '    merged.update({item["name"]: item for item in sent})\n',
        '    merged.update({item["name"]: item for item in sent if item["name"] not in merged})\n',
    ),
    _one(
        "duplicate_order_unseeded",
        "rows sharing an id are shuffled the same way whatever duplicate_id_seed says",
        "spec §2.7 (several rows with one id are applied in random order)",
        False,
        "emulator/engine/state.py",
        'random.Random(f"{rules.duplicate_id_seed}:{content}")',
        "random.Random(content)",
    ),
    _one(
        "finish_date_every_paid",
        "finish_date_time is reset at every processing in PAID, not only the first",
        f"{ORDERS_DATA} (the first upload in a PAID-group status)",
        False,
        ORDERS,
        '            empty = paid & ~present(state.get("finish_date_time", keys))\n',
        "            empty = paid\n",
    ),
    _one(
        "update_date_not_filled",
        "an order without update_date_time keeps none",
        f"{ORDERS_DATA} (set automatically if absent)",
        False,
        ORDERS,
        "        if rules.fill_update_date_time:\n",
        "        if not rules.fill_update_date_time:\n",
    ),
    # -- uploads ----------------------------------------------------------------------------
    _one(
        "customer_cap_off_by_one",
        "a customer may get one order more than the limit (100,000)",
        UPLOAD_ORDERS,
        False,
        "emulator/engine/cap.py",
        "if counts[customer] > limit and customer not in errors:",
        "if counts[customer] > limit + 1 and customer not in errors:",
    ),
    _one(
        "customer_cap_drops_silently",
        "an upload over the customer cap passes while the excess rows are dropped",
        f"{UPLOAD_ORDERS}; A20 (nothing dropped while the upload says PASSED)",
        False,
        UPLOADS,
        "counter.rules.customer_cap is CustomerCap.FAIL_UPLOAD",
        "counter.rules.customer_cap is CustomerCap.REFUSE_ROWS",
    ),
    _one(
        "processing_delay_ignored",
        "uploads are processed at once whatever processing_delay says",
        f"{UPLOAD_OFFLINE} (processing takes up to 2 hours; A16)",
        False,
        UPLOADS,
        "process_at = received + counter.rules.processing_delay_seconds",
        "process_at = received",
    ),
    _one(
        "client_id_type_majority",
        "client_id_type is the identifier most rows use (PurchaseId included)",
        f"{UPLOAD_OFFLINE} (the client_id_type enum; A14)",
        False,
        UPLOADS,
        "    if rule is ClientIdType.PRIORITY:\n",
        "    if rule is ClientIdType.MAJORITY:\n",
    ),
)


def by_name(names: list[str] | None) -> list[Mutant]:
    """The mutants called ``names`` (all when ``None``); an unknown name is an error."""
    if not names:
        return list(MUTANTS)
    known = {m.name: m for m in MUTANTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown mutant(s): {', '.join(unknown)}; see --list")
    return [known[n] for n in names]
