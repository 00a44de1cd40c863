"""The scorecard's three pictures (matplotlib, written as PNG), for a marketer at a glance.

- ``sources.png``: orders and profit by traffic source, what the report says next to the truth,
  under the attribution model named in the title, amounts with thousands separators and the
  currency;
- ``loss_waterfall.png``: from the CRM's orders down to the orders linked to the right visit,
  one step per reason for loss, in words, with a glossary under it;
- ``match_rate_by_delay.png``: the share of orders linked to the right visit by how late they
  were first sent, and by what the CRM knew of the visitor (the second panel tells most
  scenarios apart even when every order is sent within minutes). Every bar carries its rate.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, PercentFormatter

from emulator.scenario.glossary import REASONS, model_label, reason_label

TRUE_COLOUR = "#4C72B0"
REPORTED_COLOUR = "#DD8452"
LOSS_COLOUR = "#C44E52"
KEPT_COLOUR = "#55A868"


def draw_all(card: Mapping[str, Any], out: Path, title: str) -> list[Path]:
    return [
        sources(card, out / "sources.png", title),
        loss_waterfall(card, out / "loss_waterfall.png", title),
        match_rate_by_delay(card, out / "match_rate_by_delay.png", title),
    ]


def save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def thousands(value: float) -> str:
    """``1234567`` → ``1 234 567`` (a thin space, as a Russian report writes it)."""
    return f"{value:,.0f}".replace(",", "\u2009")


def _percent(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def sources(card: Mapping[str, Any], path: Path, title: str) -> Path:
    rows = card["sources"]
    names = ["\n".join(textwrap.wrap(r.get("name", r["source"]), 16)) for r in rows]
    currency = card["revenue"].get("currency", "")
    model = model_label(card.get("attribution", "lastsign"))
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    panels = (
        ("true_orders", "reported_orders", "orders", "Orders by traffic source"),
        (
            "true_profit",
            "reported_profit",
            f"profit, {currency}",
            f"Profit by traffic source, {currency}",
        ),
    )
    for ax, (true_key, reported_key, label, heading) in zip(axes, panels, strict=True):
        for offset, key, name, colour in (
            (-0.2, true_key, "CRM (truth)", TRUE_COLOUR),
            (0.2, reported_key, "the report credits", REPORTED_COLOUR),
        ):
            values = [r[key] for r in rows]
            bars = ax.bar(x + offset, values, 0.4, label=name, color=colour)
            ax.bar_label(bars, [thousands(v) for v in values], fontsize=7, padding=2, rotation=90)
        ax.set_xticks(x, names, fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: thousands(v)))
        ax.set_ylabel(label)
        ax.set_title(heading)
        ax.margins(y=0.2)
        ax.legend()
    fig.suptitle(f"{title}: what the report credits vs what really happened · {model}")
    return save(fig, path)


def loss_waterfall(card: Mapping[str, Any], path: Path, title: str) -> Path:
    """A horizontal waterfall: long labels sit beside their bar, never under another one."""
    total = card["orders"]["crm"]
    steps = sorted(card["lost"].items(), key=lambda kv: -kv[1])
    kept = total - sum(n for _, n in steps)
    labels = ["CRM orders", *(reason_label(code) for code, _ in steps), "linked correctly"]
    fig, ax = plt.subplots(figsize=(10, 1.6 + 0.55 * len(labels) + 0.25 * len(steps)))
    y = np.arange(len(labels))[::-1]
    ax.barh(y[0], total, color=TRUE_COLOUR)
    ax.text(total, y[0], f" {thousands(total)}", va="center")
    level = total
    for row, (_, lost) in zip(y[1:-1], steps, strict=True):
        level -= lost
        ax.barh(row, lost, left=level, color=LOSS_COLOUR)
        ax.text(level + lost, row, f" −{thousands(lost)} ({_percent(lost, total)})", va="center")
    ax.barh(y[-1], kept, color=KEPT_COLOUR)
    ax.text(kept, y[-1], f" {thousands(kept)} ({_percent(kept, total)})", va="center")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, max(total, 1) * 1.25)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: thousands(v)))
    ax.set_xlabel("orders")
    ax.set_title(f"{title}: where CRM orders are lost")
    glossary = [f"{reason_label(code)}: {REASONS.get(code, (code, code))[1]}" for code, _ in steps]
    if glossary:
        fig.text(0.01, 0.01, "\n".join(glossary), fontsize=8, va="bottom", color="#444444")
        fig.tight_layout(rect=(0, 0.04 + 0.035 * len(glossary), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rate_bars(ax: Any, rows: Sequence[Mapping[str, Any]], label: str, colour: str) -> None:
    """Bars of ``match_rate`` (or linked/orders), each labelled ``87% of 141``."""
    names = ["\n".join(textwrap.wrap(r[label], 12)) for r in rows]
    rates = [r["linked"] / r["orders"] if r["orders"] else 0 for r in rows]
    bars = ax.bar(range(len(rows)), rates, color=colour)
    texts = [f"{rate:.0%}\nof {r['orders']}" for rate, r in zip(rates, rows, strict=True)]
    ax.bar_label(bars, texts, fontsize=8, padding=2)
    ax.set_xticks(range(len(rows)), names, fontsize=8)
    ax.set_ylim(0, 1.25)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))


def match_rate_by_delay(card: Mapping[str, Any], path: Path, title: str) -> Path:
    by_delay = card["match_rate_by_upload_delay"]
    by_identifier = [
        {"identifier": name, **values} for name, values in card["linkage"]["by_identifier"].items()
    ]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [max(len(by_delay), 2), 3]}
    )
    _rate_bars(left, by_delay, "delay", TRUE_COLOUR)
    left.set_ylabel("orders linked to the right visit")
    left.set_xlabel("time from the order's creation to its first upload")
    left.set_title("by upload delay")
    _rate_bars(right, by_identifier, "identifier", KEPT_COLOUR)
    right.set_xlabel("what the CRM knew of the visitor")
    right.set_title("by identifier")
    fig.suptitle(f"{title}: share of CRM orders linked to the visit they came from")
    return save(fig, path)
