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
# # What each CRM-migration strategy does to reports
#
# A business moves to a new CRM on day 12 of a three-week run, and the new CRM re-uploads its
# whole history to Metrica. Three scenarios in `scenarios/` differ only in what the new CRM
# does with the old orders:
#
# | scenario | ids of old orders | creation dates of old orders |
# |---|---|---|
# | `crm_migration_same_ids` | kept | kept |
# | `crm_migration_new_dates` | kept | reset to the migration moment |
# | `crm_migration_new_ids` | new namespace (`n` + old id) | kept |
#
# Two documented rules decide what happens:
#
# - an order's `create_date_time` can never change once sent
#   ([data-import/modes](https://yandex.ru/dev/metrika/en/data-import/modes)); the ES help
#   page's FAQ "¿Por qué no puedo hacer coincidir los pedidos tras cambiar de CRM?" (project
#   seed `metrica-crm-upload-es.txt`) explains that a known id with another creation date is
#   read as an update of the existing order, not as a new one, and advises keeping order ids
#   from overlapping between CRMs;
# - the same FAQ lists uploading data already sent once more, for instance when migrating to
#   another CRM, among the causes of duplicate customers and orders ("¿Por qué tengo clientes
#   o pedidos duplicados en Yandex Metrica?").
#
# Each scenario is run end to end with the public scenario API (`load_scenario`,
# `run_scenario`): simulated visitors and CRM, daily orders CSV uploads through the emulator's
# HTTP API, reports, and a scorecard measured against the simulator's ground truth. The runs
# use half the scenarios' traffic to stay quick.

# %%
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib.pyplot as plt
import numpy as np

from emulator import Contact, CounterConfig, Emulator, Order, UploadKind, Visit
from emulator.rules import CreateDateConflict
from emulator.scenario import RunResult, load_scenario, run_scenario


def repo_root(start: Path | None = None) -> Path:
    """The checkout this notebook belongs to: the nearest folder at or above the working
    directory with a pyproject.toml and scenarios/ (the notebook runs from either)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "scenarios").is_dir():
            return folder
    raise FileNotFoundError(f"no repository root at or above {here}")


SCENARIOS = repo_root() / "scenarios"
TRAFFIC = 0.5
STRATEGIES = {
    "same ids": "crm_migration_same_ids",
    "new dates": "crm_migration_new_dates",
    "new ids": "crm_migration_new_ids",
}
COLOURS = {
    "CRM (truth)": "#4C72B0",
    "same ids": "#55A868",
    "new dates": "#8172B3",
    "new ids": "#C44E52",
    "new dates, dates overwritten": "#DD8452",
}

runs: dict[str, RunResult] = {}
for label, name in STRATEGIES.items():
    scenario = load_scenario(SCENARIOS / f"{name}.toml").scaled(TRAFFIC)
    runs[label] = run_scenario(scenario)
    print(f"{label:>10}: {scenario.description}")


# %% [markdown]
# ## The scorecards side by side


# %%
def headline(run: RunResult) -> dict[str, float | int | str]:
    card = run.scorecard
    orders = card["orders"]
    return {
        "CRM deals": orders["crm"],
        "orders in Metrica": orders["in_emulator"],
        "duplicates": card["duplicates"],
        "create-date conflicts": card["create_date_conflicts"],
        "linked orders": orders["linked"],
        "linked to the right visit": orders["linked_correctly"],
        "precision": card["linkage"]["precision"],
        "recall": card["linkage"]["recall"],
        "reported / CRM revenue": card["revenue"]["reported_share"],
        "expectations missed": len(run.misses),
    }


def print_table(columns: dict[str, RunResult]) -> None:
    rows = {label: headline(run) for label, run in columns.items()}
    names = list(next(iter(rows.values())))
    print(f"{'':>26}" + "".join(f"{label:>30}" for label in rows))
    for name in names:
        cells = []
        for label in rows:
            value = rows[label][name]
            cells.append(f"{value:>30.2f}" if isinstance(value, float) else f"{value!s:>30}")
        print(f"{name:>26}" + "".join(cells))


print_table(runs)

# %% [markdown]
# - **Same ids** is harmless: every re-sent order is the order Metrica already has, with the
#   same date, so it is applied as an update of itself.
# - **New dates** logs a `CREATE_DATE_CONFLICT` for every re-sent old order, yet every other
#   number is identical to the clean migration here: the first creation date is kept, the
#   row is applied as an update, the order keeps its link, and the reports do not move. Only
#   an order made just before the migration and first sent by the new CRM carries the new
#   date from the start and may link to a later visit (none in this run; the scenario's
#   precision floor allows for a few at full size).
# - **New ids** creates a second order for every deal sent before the migration: the copies
#   link as well (to the same visitor's visits), so the report counts those deals twice.
#   Precision drops because a copy is a linked order that is not the CRM's order, and
#   reported revenue exceeds the CRM's.
#
# Recall is the same in all three: the orders that never link (no visit within 21 days,
# never uploaded) are lost before the migration matters.

# %%
labels = list(runs)
x = np.arange(len(labels))
fig, axes = plt.subplots(1, 3, figsize=(13, 4))

deals = [runs[k].scorecard["orders"]["crm"] for k in labels]
dupes = [runs[k].scorecard["duplicates"] for k in labels]
in_metrica = [runs[k].scorecard["orders"]["in_emulator"] for k in labels]
axes[0].bar(x - 0.2, deals, 0.4, color=COLOURS["CRM (truth)"], label="CRM deals")
axes[0].bar(
    x + 0.2, np.subtract(in_metrica, dupes), 0.4, color="#8C8C8C", label="Metrica: one per deal"
)
axes[0].bar(
    x + 0.2,
    dupes,
    0.4,
    bottom=np.subtract(in_metrica, dupes),
    color="#C44E52",
    label="Metrica: duplicates",
)
axes[0].set_title("Orders: CRM vs Metrica")
axes[0].legend(loc="upper left", fontsize=9)
axes[0].set_ylim(0, max(in_metrica) * 1.3)

for offset, key, colour in ((-0.2, "precision", "#4C72B0"), (0.2, "recall", "#DD8452")):
    values = [runs[k].scorecard["linkage"][key] for k in labels]
    axes[1].bar(x + offset, values, 0.4, color=colour, label=key)
axes[1].set_ylim(0, 1.25)
axes[1].set_title("Linkage against the truth")
axes[1].legend(loc="upper right", fontsize=9)

shares = [100 * runs[k].scorecard["revenue"]["reported_share"] for k in labels]
bars = axes[2].bar(x, shares, 0.5, color=[COLOURS[k] for k in labels])
axes[2].bar_label(bars, fmt="%.0f%%")
axes[2].axhline(100, color="black", linestyle="--", linewidth=1)
axes[2].set_ylim(0, max(shares) * 1.2)
axes[2].set_title("Reported revenue, % of CRM paid revenue")

for ax in axes:
    ax.set_xticks(x, labels)
fig.suptitle("Three ways to migrate a CRM (same seed, same visitors, same deals)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Orders and profit by traffic source
#
# What the "Order sources from CRM" report credits to each source (last significant source),
# next to what the CRM knows (the source of the visit each lead really came from). Even the
# clean migration differs from the truth: some deals never link, and last-significant
# attribution moves direct visits to the visitor's earlier significant source. The migration
# strategy then adds its own error on top.


# %%
def by_source(runs_to_plot: dict[str, RunResult], title: str) -> None:
    """Orders and profit per source: the truth, then each run's report."""
    first = next(iter(runs_to_plot.values())).scorecard["sources"]
    names = [row["source"] for row in first if row["true_orders"] or row["reported_orders"]]
    series = {"CRM (truth)": ("true_orders", "true_profit", first)}
    for label, run in runs_to_plot.items():
        series[label] = ("reported_orders", "reported_profit", run.scorecard["sources"])
    width = 0.8 / len(series)
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for ax, metric, scale in ((axes[0], 0, 1), (axes[1], 1, 1000)):
        for i, (label, keys) in enumerate(series.items()):
            rows = {row["source"]: row for row in keys[2]}
            values = [rows[name][keys[metric]] / scale for name in names]
            ax.bar(
                x + (i - (len(series) - 1) / 2) * width,
                values,
                width,
                label=label,
                color=COLOURS[label],
            )
        ax.set_xticks(x, names)
    axes[0].set_title("Orders by source")
    axes[1].set_title("Profit by source, thousand RUB")
    axes[0].legend(fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


by_source(runs, "What the report credits to each source, per migration strategy")

# %% [markdown]
# "Same ids" and "new dates" draw the same bars. "New ids" inflates every source whose deals
# were re-sent under new ids by the orders and profit of the copies: money that was made once
# is reported twice.
#
# ## The counterfactual: what if creation dates could be overwritten?
#
# The real service never changes a creation date. The engine's rule option
# `create_date_conflict="overwrite"` exists only to show what that rule protects: with it, a
# re-sent order takes the migration date as its creation date and is linked afresh, to the
# visitor's latest visit before the migration — which is not always the visit the lead came
# from. The scenario's expectations catch it.

# %%
new_dates = load_scenario(SCENARIOS / f"{STRATEGIES['new dates']}.toml").scaled(TRAFFIC)
overwrite = new_dates.with_rules(create_date_conflict=CreateDateConflict.OVERWRITE)
counterfactual = {
    "new dates": runs["new dates"],
    "new dates, dates overwritten": run_scenario(overwrite),
}
print_table(counterfactual)
for label, run in counterfactual.items():
    goals = run.scorecard["goals"]
    print(f"\n{label}")
    print(f"    orders lost, by reason: {run.scorecard['lost']}")
    for goal, expected in goals["expected"].items():
        print(f"    {goal}: {goals['fired'].get(goal, 0)} reaches (a perfect pipeline: {expected})")
    for miss in run.misses:
        print(f"    expectation missed: {miss}")

# %%
by_source(counterfactual, "Keeping the first creation date vs overwriting it")

# %% [markdown]
# Overwriting would re-link some old orders to a later visit of the same visitor (lost as
# `LINKED_TO_OTHER_VISIT`), move their profit to that visit's source, date them at the
# migration in every date-based report, and fix their status again: "CRM: Order paid" and
# "CRM: Order spam" fire a second time for the re-sent orders ("Order created" fires once per
# order whatever happens). The scenario's precision floor is missed. Keeping the first date,
# the real service's rule, avoids all of that — which is why re-sending history with reset
# dates is noisy in the decision log but harmless in the reports.
#
# ## The FAQ's own case: a new order under an old id
#
# What the FAQ warns about is a new CRM whose *new* orders reuse ids the old CRM had used. The
# engine reads such an order as an update of the old one: the creation date stays, so the
# order is never matched to the new customer's session. A two-order example with the
# in-process engine shows what the report then says.

# %%
MSK = ZoneInfo("Europe/Moscow")
COUNTER = 2215573
old_order = datetime(2024, 3, 1, 12, 0, tzinfo=MSK)
new_order = datetime(2024, 3, 20, 12, 0, tzinfo=MSK)
minutes_before = timedelta(minutes=20)

emu = Emulator(":memory:")
emu.put_counter(CounterConfig(COUNTER))
emu.set_clock(old_order - timedelta(hours=1))
emu.load_visits(
    COUNTER,
    [
        Visit(1, 111, old_order - minutes_before, traffic_source="ad"),
        Visit(2, 222, new_order - minutes_before, traffic_source="organic"),
    ],
)
customers = [Contact("anna", client_ids=(111,)), Contact("boris", client_ids=(222,))]
emu.upload_records(COUNTER, UploadKind.CONTACTS, customers, "SAVE")
emu.set_clock(old_order + timedelta(hours=1))  # the old CRM sends Anna's order 1001
anna = Order("1001", "anna", old_order, "PAID", revenue=Decimal(3000))
emu.upload_records(COUNTER, UploadKind.ORDERS, [anna], "SAVE")
emu.set_clock(new_order + timedelta(hours=1))  # the new CRM numbers Boris's order 1001 too
boris = Order("1001", "boris", new_order, "PAID", revenue=Decimal(50_000))
emu.upload_records(COUNTER, UploadKind.ORDERS, [boris], "SAVE")

for decision in emu.order(COUNTER, "1001").decisions:
    print(f"{decision['code']}: {decision['detail']}")
print()
for row in emu.order_sources(COUNTER):
    metrics = row.metrics
    print(
        f"{row.dimension:>8}: {metrics['ym:s:cdpOrdersAllOrders']} orders, "
        f"revenue {metrics['ym:s:cdpOrders<currency>Revenue']:,.0f}"
    )

# %% [markdown]
# Boris's 50,000 order is credited to Anna's ad visit of 1 March, Boris's organic visit gets
# nothing, and Anna's own order is gone from the reports. Nothing failed: the upload was
# accepted and the only trace is the `CREATE_DATE_CONFLICT` line in the decision log. Hence the
# FAQ's advice: make sure order ids never overlap between the old CRM and the new one.
