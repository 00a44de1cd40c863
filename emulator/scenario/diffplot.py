"""The picture of a ``rules diff``: goal reaches under each pack, and where they move by source."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from emulator.scenario.packdiff import PackDiff
from emulator.scenario.plots import save, thousands

A_COLOUR = "#4C72B0"
B_COLOUR = "#DD8452"


def draw_pack_diff(diff: PackDiff, path: Path) -> Path:
    """Left: reaches of every goal under both packs. Right: for each goal that differs, the
    change in reaches per attributed traffic source (B − A), so the sources whose numbers
    depend on the ambiguity stand out."""
    a, b = diff.packs
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 0.45 * len(diff.goals) + 2.5))
    names = [g.goal for g in diff.goals][::-1]
    y = np.arange(len(names))
    for offset, colour, label, values in (
        (0.2, A_COLOUR, a, [g.a.reaches for g in diff.goals][::-1]),
        (-0.2, B_COLOUR, b, [g.b.reaches for g in diff.goals][::-1]),
    ):
        bars = left.barh(y + offset, values, height=0.4, color=colour, label=label)
        left.bar_label(bars, labels=[thousands(v) for v in values], padding=2, fontsize=8)
    left.set_yticks(
        y,
        [
            n + ("" if g.differs else "  (same)")
            for n, g in zip(names, diff.goals[::-1], strict=True)
        ],
    )
    left.set_xlabel("goal reaches")
    left.legend(loc="lower right")
    left.set_title("Reaches per goal")
    differing = diff.differing
    sources = sorted({s for g in differing for s, _, _ in g.sources()})
    if differing and sources:
        x = np.arange(len(sources))
        width = 0.8 / len(differing)
        for i, g in enumerate(differing):
            change = dict((s, in_b - in_a) for s, in_a, in_b in g.sources())
            right.bar(
                x - 0.4 + width * (i + 0.5),
                [change.get(s, 0) for s in sources],
                width=width,
                label=g.goal,
            )
        right.axhline(0, color="black", linewidth=0.8)
        right.set_xticks(x, sources, rotation=30, ha="right")
        right.set_ylabel(f"reaches under {b} − under {a}")
        right.legend(fontsize=8)
        right.set_title("Where the difference lands (attributed source)")
    else:
        right.axis("off")
        right.text(0.5, 0.5, "no goal differs", ha="center", va="center")
    fig.suptitle(f"{diff.scenario} (seed {diff.seed}): {a} vs {b}")
    return save(fig, path)
