"""The scorecard's three pictures (matplotlib, written as PNG).

- ``sources.png``: orders and profit by traffic source, what the report says next to the truth;
- ``loss_waterfall.png``: from the CRM's orders down to the orders linked to the right visit,
  one step per reason for loss;
- ``match_rate_by_delay.png``: the share of orders linked correctly by how late they were sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

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


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sources(card: Mapping[str, Any], path: Path, title: str) -> Path:
    rows = card["sources"]
    names = [r["source"] for r in rows]
    x = np.arange(len(names))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (true_key, reported_key, label) in zip(
        axes,
        (
            ("true_orders", "reported_orders", "orders"),
            ("true_profit", "reported_profit", "profit"),
        ),
        strict=True,
    ):
        ax.bar(x - 0.2, [r[true_key] for r in rows], 0.4, label="CRM (truth)", color=TRUE_COLOUR)
        ax.bar(x + 0.2, [r[reported_key] for r in rows], 0.4, label="report", color=REPORTED_COLOUR)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_ylabel(label)
        ax.set_title(f"{label.capitalize()} by traffic source")
        ax.legend()
    fig.suptitle(f"{title}: what the report credits vs what really happened")
    return _save(fig, path)


def loss_waterfall(card: Mapping[str, Any], path: Path, title: str) -> Path:
    total = card["orders"]["crm"]
    steps = sorted(card["lost"].items(), key=lambda kv: -kv[1])
    labels = ["CRM orders", *(name for name, _ in steps), "linked correctly"]
    fig, ax = plt.subplots(figsize=(max(7, 1.4 * len(labels)), 4.5))
    level = total
    ax.bar(0, total, color=TRUE_COLOUR)
    ax.text(0, total, str(total), ha="center", va="bottom")
    for i, (_, lost) in enumerate(steps, start=1):
        ax.bar(i, -lost, bottom=level, color=LOSS_COLOUR)
        level -= lost
        ax.text(i, level, f"-{lost}", ha="center", va="top")
    ax.bar(len(labels) - 1, level, color=KEPT_COLOUR)
    ax.text(len(labels) - 1, level, str(level), ha="center", va="bottom")
    ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right")
    ax.set_ylim(0, max(total, 1) * 1.12)
    ax.set_ylabel("orders")
    ax.set_title(f"{title}: where CRM orders are lost")
    return _save(fig, path)


def match_rate_by_delay(card: Mapping[str, Any], path: Path, title: str) -> Path:
    rows = card["match_rate_by_upload_delay"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = [r["delay"] for r in rows]
    rates = [r["match_rate"] or 0 for r in rows]
    bars = ax.bar(range(len(rows)), rates, color=TRUE_COLOUR)
    for bar, row in zip(bars, rows, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height(),
            f"n={row['orders']}",
            ha="center",
            va="bottom",
        )
    ax.set_xticks(range(len(rows)), names, rotation=20, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("linked to the right visit")
    ax.set_xlabel("time from the order's creation to its first upload")
    ax.set_title(f"{title}: match rate by upload delay")
    return _save(fig, path)
