# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,-jupytext.text_representation
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # How the 21-day and update windows shape match rates
#
# Metrica links a CRM order to the matched visitor's latest session that started at or before
# the order was created. Three time limits decide whether that happens and for how long the
# order can still change:
#
# 1. **Order age.** An order links only if it is processed at most 21 days after its creation:
#    "transmit orders made in the last 21 days", and an order sent 22 days later does not link
#    ([data-import/contacts](https://yandex.ru/dev/metrika/en/data-import/contacts)).
# 2. **Visit age.** The session must have started at most 21 days before the file is
#    processed: "no more than 21 days between the last session and processing of the file"
#    ([offline-conv](https://yandex.ru/dev/metrika/en/management/offline-conv)).
# 3. **Update window.** A linked order can be changed (status, amounts, products) for 111 days
#    from the start of the session according to the dev docs
#    ([RU data-import/contacts](https://yandex.ru/dev/metrika/ru/data-import/contacts)), or for
#    90 days according to the support page
#    ([crm/about](https://www.yandex.com/support/metrica/crm/about.html)). The project spec
#    calls this ambiguity A1; the engine's default `RuleSet()` follows the dev docs and
#    `RuleSet.support_page_variant()` counts 90 days from the order's creation.
#
# Everything below is what the reference engine decided in real runs: orders are uploaded
# through `Emulator.upload_records`, the virtual clock is moved with `set_clock`/`advance`, and
# the outcome of each order is read back from its decision log. No curve is drawn from a formula.

# %%
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import matplotlib.pyplot as plt
import numpy as np

from emulator import (
    Contact,
    CounterConfig,
    DecisionCode,
    Emulator,
    Order,
    RuleSet,
    UploadKind,
    Visit,
)

COUNTER = 2215573
MSK = ZoneInfo("Europe/Moscow")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
PROCESSED = datetime(2024, 6, 1, 3, 0, tzinfo=MSK)
"""When the CRM's upload is sent (the x axes below count back from it)."""
LINKED = DecisionCode.LINKED
NO_VISIT = DecisionCode.NOT_LINKED_NO_VISIT
TOO_OLD = DecisionCode.NOT_LINKED_ORDER_TOO_OLD
EXPIRED = DecisionCode.UPDATE_WINDOW_EXPIRED
LANDED = DecisionCode.STATUS_CHANGED
COLOURS = {
    LINKED: "#55A868",
    LANDED: "#55A868",
    NO_VISIT: "#DD8452",
    TOO_OLD: "#C44E52",
    EXPIRED: "#C44E52",
}
DEFAULTS = RuleSet()
"""The engine's default rules: the dev docs' reading of every ambiguity."""
rng = np.random.default_rng(2024)


def new_engine(rules: RuleSet, now: datetime) -> Emulator:
    """An in-memory engine (nothing is written to disk) with one counter in Moscow time."""
    emu = Emulator(":memory:")
    emu.put_counter(CounterConfig(COUNTER, "Europe/Moscow", rules))
    emu.set_clock(now)
    return emu


def link_run(
    delays: Sequence[timedelta], leads: Sequence[timedelta], rules: RuleSet = DEFAULTS
) -> Emulator:
    """Order ``i`` is created ``delays[i]`` before PROCESSED by a visitor whose only visit
    started ``leads[i]`` before the order; all orders go in one upload sent at PROCESSED."""
    created = [PROCESSED - delay for delay in delays]
    emu = new_engine(rules, min(created) - 60 * DAY)
    visits = [
        Visit(visit_id=i + 1, client_id=10_000 + i, start_time=at - lead)
        for i, (at, lead) in enumerate(zip(created, leads, strict=True))
    ]
    emu.load_visits(COUNTER, visits)
    contacts = [Contact(f"c{i}", client_ids=(v.client_id,)) for i, v in enumerate(visits)]
    emu.upload_records(COUNTER, UploadKind.CONTACTS, contacts, "SAVE")
    orders = [
        Order(f"o{i}", f"c{i}", at, "PAID", revenue=Decimal(5000)) for i, at in enumerate(created)
    ]
    emu.set_clock(PROCESSED)
    emu.upload_records(COUNTER, UploadKind.ORDERS, orders, "SAVE")
    emu.advance(rules.processing_delay_seconds)  # the upload is processed after the delay
    return emu


def outcomes(emu: Emulator, codes: Sequence[DecisionCode]) -> list[DecisionCode]:
    """The last of ``codes`` in each order's decision log, in upload order (o0, o1, ...)."""
    last = {
        row["order_id"]: [c for c in row["decisions"] if c in codes][-1]
        for row in emu.orders_summary(COUNTER)
    }
    return [DecisionCode(last[f"o{i}"]) for i in range(len(last))]


def link_outcomes(
    delays: Sequence[timedelta], leads: Sequence[timedelta], rules: RuleSet = DEFAULTS
) -> list[DecisionCode]:
    return outcomes(link_run(delays, leads, rules), (LINKED, NO_VISIT, TOO_OLD))


def days(values: Sequence[float]) -> list[timedelta]:
    return [timedelta(days=float(v)) for v in values]


def share_by_day(day_of: np.ndarray, codes: Sequence[DecisionCode]) -> dict[str, np.ndarray]:
    """Per whole day of ``day_of``: the share of orders that ended in each outcome."""
    buckets = np.arange(int(day_of.max()) + 1)
    counts = {code: np.zeros(len(buckets)) for code in (LINKED, NO_VISIT, TOO_OLD)}
    for day, code in zip(day_of.astype(int), codes, strict=True):
        counts[code][day] += 1
    total = sum(counts.values())
    return {code: counts[code] / total for code in counts}


def outcome_strip(
    ax: plt.Axes, rows: Sequence[tuple[str, np.ndarray, Sequence[DecisionCode]]], width: float
) -> None:
    """One row per case: each x (``width`` apart) coloured by what the engine decided there;
    runs of the same outcome are drawn as one bar."""
    for y, (_, xs, codes) in enumerate(rows):
        start = 0
        for end in range(1, len(codes) + 1):
            if end == len(codes) or codes[end] != codes[start]:
                left = xs[start] - width / 2
                ax.broken_barh(
                    [(left, xs[end - 1] - xs[start] + width)],
                    (y - 0.4, 0.8),
                    color=COLOURS[codes[start]],
                )
                start = end
    ax.set_yticks(range(len(rows)), [label for label, _, _ in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)


STEP = 5 / 60
"""Hours between neighbouring orders in the strips around the 21-day mark (five minutes)."""


def around_21_days(
    hours: np.ndarray, lead: timedelta, rules: RuleSet = DEFAULTS
) -> list[DecisionCode]:
    """Outcomes of orders uploaded 21 days plus ``hours`` after their creation, each by a
    visitor whose visit started ``lead`` before the order."""
    delays = [21 * DAY + timedelta(hours=float(h)) for h in hours]
    return link_outcomes(delays, [lead] * len(delays), rules)


def edge_figure(
    rows: Sequence[tuple[str, np.ndarray, Sequence[DecisionCode]]], xlabel: str, title: str
) -> None:
    """The outcome strips around the 21-day mark (x in hours, 0 = the mark)."""
    _, ax = plt.subplots(figsize=(10, 2.6))
    outcome_strip(ax, rows, width=STEP)
    ax.axvline(0, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    legend_outside(ax, (LINKED, NO_VISIT, TOO_OLD))
    plt.show()


def legend_outside(ax: plt.Axes, codes: Sequence[DecisionCode]) -> None:
    """A legend of decision codes right of the axes, out of the data's way."""
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLOURS[c]) for c in codes]
    labels = [c.value for c in codes]
    ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)


# %% [markdown]
# ## (a) Match rate against upload delay, for a visit just before the order
#
# 20 orders per day of delay, from 0 to 35 days: each order is created a random time before
# the upload, and its visitor's only visit started between one minute and three hours before
# the order. One upload carries them all, so every order is judged at the same processing
# moment.

# %%
PER_DAY = 20
delay_days = np.repeat(np.arange(36), PER_DAY) + rng.uniform(0, 1, 36 * PER_DAY)
lead_minutes = rng.uniform(1, 180, len(delay_days))
codes_a = link_outcomes(days(delay_days), [timedelta(minutes=float(m)) for m in lead_minutes])
shares = share_by_day(delay_days, codes_a)

fig, ax = plt.subplots(figsize=(10, 4.2))
bottom = np.zeros(36)
for code, share in shares.items():
    ax.bar(
        np.arange(36) + 0.5, share, bottom=bottom, color=COLOURS[code], label=code.value, width=0.9
    )
    bottom += share
ax.axvline(21, color="black", linestyle="--", linewidth=1)
ax.text(21.1, 1.03, "21 days", va="bottom")
ax.set_xlabel("days between the order's creation and its upload (each bar: one whole day)")
ax.set_ylabel("share of orders")
ax.set_ylim(0, 1.12)
ax.set_xlim(0, 36)
ax.set_title("What the engine decided, by upload delay (visit 1 min to 3 h before the order)")
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)
plt.show()

table = Counter(zip(delay_days.astype(int), codes_a, strict=True))
for day in range(18, 24):
    counts = ", ".join(f"{c.value} {table[(day, c)]}" for c in (LINKED, NO_VISIT, TOO_OLD))
    print(f"day {day}: {counts}")

# %% [markdown]
# Up to day 20 every order links; from day 21 on none does. The cliff has two codes because
# there are two limits, both measured at processing time:
#
# - `NOT_LINKED_ORDER_TOO_OLD`: the order itself is more than 21 × 24 hours old;
# - `NOT_LINKED_NO_VISIT`: the order is still young enough, but its visit started more than
#   21 days before processing. With the visit a few minutes to hours before the order, that
#   happens only in the last hours before the 21-day mark (the orange sliver of day 20).
#
# Zooming into the hours around the edge, with the visit exactly 30 minutes or 3 hours before
# the order, shows the hand-over from one limit to the other:

# %%
edge_hours = np.arange(-8, 4 + STEP / 2, STEP)  # around the 21-day mark, every 5 minutes
edge_figure(
    [
        (f"visit {label} before the order", edge_hours, around_21_days(edge_hours, lead))
        for lead, label in ((timedelta(minutes=30), "30 min"), (3 * HOUR, "3 h"))
    ],
    xlabel="hours after the order turned 21 days old (at processing)",
    title="The two 21-day limits at the edge",
)

# %% [markdown]
# The engine's decision log says which rule decided each order, in its own words. Here is one
# order from each side of the edge (visit 3 hours before the order): uploaded 21 days minus
# one hour after creation, and 21 days plus one hour after.

# %%
edge = link_run([21 * DAY - HOUR, 21 * DAY + HOUR], [3 * HOUR, 3 * HOUR])
for order_id in ("o0", "o1"):
    decision = edge.order(COUNTER, order_id).decisions[-1]
    print(f"{order_id}: {decision['code']}: {decision['detail']}")

# %% [markdown]
# ## (b) The visit some days before the order: the visit-age limit bites earlier
#
# Real leads often order days after their visit (a clinic books the appointment, a shop's
# customer thinks it over). The visit must still be at most 21 days old when the upload is
# processed, so the upload has only *21 days minus the visit-to-order gap* to arrive. Same
# experiment as (a), with the visit 0-1, 3-4, 7-8 and 14-15 days before the order:

# %%
GAPS = (0, 3, 7, 14)
delay_b = delay_days[::2]  # 10 orders per day of delay for each gap
fig, ax = plt.subplots(figsize=(10, 4.2))
for gap, colour in zip(GAPS, ("#4C72B0", "#55A868", "#DD8452", "#C44E52"), strict=True):
    gap_leads = days(gap + rng.uniform(0, 1, len(delay_b)))
    codes_b = link_outcomes(days(delay_b), gap_leads)
    rate = share_by_day(delay_b, codes_b)[LINKED]
    label = f"{gap}-{gap + 1}"
    ax.plot(np.arange(36) + 0.5, rate, marker="o", markersize=3, color=colour, label=label)
    late = Counter(c for c, d in zip(codes_b, delay_b, strict=True) if d < 21 and c != LINKED)
    lost = ", ".join(f"{code.value} {n}" for code, n in late.items()) or "none"
    print(f"visit {gap}-{gap + 1} days before the order; lost before the 21-day mark: {lost}")
ax.axvline(21, color="black", linestyle="--", linewidth=1)
ax.set_xlabel("days between the order's creation and its upload (each point: one whole day)")
ax.set_ylabel("share of orders linked")
ax.set_title("Match rate by upload delay, for visits some days before the order")
ax.text(21.1, 1.02, "21 days", va="bottom")
ax.set_ylim(-0.05, 1.12)
ax.legend(title="visit days before order", loc="center right")
plt.show()

# %% [markdown]
# The cliff moves left by the visit-to-order gap, and every order lost before the 21-day mark
# is `NOT_LINKED_NO_VISIT`: the order is young enough, its visit is not. Uploading every two
# weeks (delays of 0 to 14 days) costs nothing when leads order on the spot, but about half of
# the orders made two weeks after the visit.
#
# ## (c) The update window: which status changes land
#
# Each order below is linked on its first upload (IN_PROGRESS, an hour after creation) and
# then sent again as PAID some days after its visit, one order per day from the day after
# creation to day 130. Under the default rules a change lands while the clock is at most 111
# days past the visit's start; under the support-page variant, at most 90 days past the
# order's creation. A change outside the window is refused with `UPDATE_WINDOW_EXPIRED` and
# the order keeps its old status in the reports.

# %%
VISIT_START = datetime(2024, 3, 1, 12, 0, tzinfo=MSK)
LAST_DAY = 130


def update_run(rules: RuleSet, gap: timedelta) -> tuple[np.ndarray, Emulator]:
    """Orders created ``gap`` after their visit; order ``i`` is sent as PAID ``paid_days[i]``
    days after the visit, one order per day from the day after creation to LAST_DAY.
    Returns ``paid_days`` and the engine."""
    paid_days = np.arange(int(gap / DAY) + 1, LAST_DAY + 1)
    emu = new_engine(rules, VISIT_START)
    visits = [
        Visit(visit_id=i + 1, client_id=10_000 + i, start_time=VISIT_START, traffic_source="ad")
        for i in range(len(paid_days))
    ]
    emu.load_visits(COUNTER, visits)
    contacts = [Contact(f"c{i}", client_ids=(v.client_id,)) for i, v in enumerate(visits)]
    emu.upload_records(COUNTER, UploadKind.CONTACTS, contacts, "SAVE")
    created = VISIT_START + gap

    def order(i: int, status: str) -> Order:
        return Order(f"o{i}", f"c{i}", created, status, revenue=Decimal(10_000), cost=Decimal(4000))

    emu.set_clock(created + HOUR)
    first = [order(i, "IN_PROGRESS") for i in range(len(paid_days))]
    emu.upload_records(COUNTER, UploadKind.ORDERS, first, "SAVE")
    for i, day in enumerate(paid_days):
        emu.set_clock(VISIT_START + int(day) * DAY)
        emu.upload_records(COUNTER, UploadKind.ORDERS, [order(i, "PAID")], "SAVE")
    return paid_days, emu


RULES = {
    "RuleSet(): 111 d from the visit": DEFAULTS,
    "support page: 90 d from the order": RuleSet.support_page_variant(),
}
CASES = [(name, rules, gap) for gap in (HOUR, 15 * DAY) for name, rules in RULES.items()]
update_rows = []
summary = []
engines = {}
for name, rules, gap in CASES:
    paid_days, emu = update_run(rules, gap)
    engines[(name, gap)] = emu
    codes_c = outcomes(emu, (LANDED, EXPIRED))
    landed = [day for day, code in zip(paid_days, codes_c, strict=True) if code is LANDED]
    gap_text = "1 h" if gap == HOUR else f"{gap.days} d"
    update_rows.append((f"{name}\norder {gap_text} after visit", paid_days, codes_c))
    report = emu.order_sources(COUNTER)
    reaches = Counter(r["goal"] for r in emu.goal_reaches(COUNTER))
    summary.append(
        {
            "case": f"{name}, order {gap_text} after visit",
            "paid in the CRM": len(paid_days),
            "last day that lands": max(landed),
            "report: paid orders": sum(r.metrics["ym:s:cdpOrdersPayed"] for r in report),
            "report: still in progress": sum(r.metrics["ym:s:cdpOrdersInProgress"] for r in report),
            "report: revenue": sum(r.metrics["ym:s:cdpOrders<currency>Revenue"] for r in report),
            "goal 'CRM: Order paid'": reaches["CRM: Order paid"],
        }
    )

fig, ax = plt.subplots(figsize=(10, 3.8))
outcome_strip(ax, update_rows, width=1)
for day, style in ((90, ":"), (111, "--")):
    ax.axvline(day, color="black", linestyle=style, linewidth=1)
    ax.text(day, len(update_rows) - 0.35, f"{day} d", ha="center", va="bottom")
ax.set_xlabel("days between the visit and the PAID update")
ax.set_xlim(0, LAST_DAY + 1)
ax.set_title("Does a late status change land? (one order per day)", pad=18)
legend_outside(ax, (LANDED, EXPIRED))
plt.show()

for row in summary:
    print(row.pop("case"))
    print("   ", ", ".join(f"{k}: {v:,.0f}" for k, v in row.items()))

# %% [markdown]
# - Under `RuleSet()` the last change lands on day 111 after the visit, however long after the
#   visit the order was made.
# - Under the support-page reading it lands until 90 days after the *order*: day 90 for an
#   order made on the visit's day, day 105 for one made 15 days later. The two readings agree
#   only for an order made exactly 21 days after its visit (21 + 90 = 111), and the support
#   page's is never the longer one.
# - A refused change leaves the order as it was: the report counts it as still in progress,
#   its revenue is missing, and "CRM: Order paid" never fires. Goals are append-only, so the
#   "CRM: Order created" reach of every order stays.
#
# One refused update, as the decision log tells it:

# %%
late = engines[("support page: 90 d from the order", HOUR)]
for decision in late.order(COUNTER, "o99").decisions:
    print(f"{decision['at'][:16]}  {decision['code']}: {decision['detail']}")

# %% [markdown]
# ## (d) The processing delay at the 21-day edge
#
# The real service processes an upload "within 2 hours"; the limits apply when it is
# processed, not when it was sent. `RuleSet(processing_delay_seconds=7200)` models that: an
# upload sent 20 days and 23 hours after the order's creation is processed after the order
# turned 21 days old and does not link. The strip below repeats the zoom of (a) with the visit
# 30 minutes before the order, sent instantly and with a two-hour processing delay.

# %%
sent_hours = np.arange(-6, 2 + STEP / 2, STEP)  # 6 h before the 21st day to 2 h after
edge_figure(
    [
        (
            f"processed {seconds // 3600} h after sending",
            sent_hours,
            around_21_days(
                sent_hours, timedelta(minutes=30), RuleSet(processing_delay_seconds=seconds)
            ),
        )
        for seconds in (0, 7200)
    ],
    xlabel="hours between sending and the order's 21st day (negative: sent before it)",
    title="A two-hour processing delay moves the cliff two hours earlier",
)

# %% [markdown]
# A pipeline that waits until the last day to send its orders loses the ones whose age
# crosses 21 days while the upload waits in the queue. The ES help page asks for orders made in
# the last 21 days; with a processing delay the real margin is smaller, so send orders well
# before they turn 21 days old. Later status changes of a linked order are bound only by the
# update window of (c).
