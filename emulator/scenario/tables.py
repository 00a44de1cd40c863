"""The scorecard as readable text tables (what ``crmemu run`` prints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def render(card: Mapping[str, Any], misses: Sequence[str] | None = None) -> str:
    run, orders, linkage = card["run"], card["orders"], card["linkage"]
    parts = [
        f"Scenario {run['scenario']} (seed {run['seed']}, via {run['via']}): "
        f"{run['visits']} visits, "
        f"{run['uploads']} uploads ({run['uploads_failed']} failed)",
        "",
        table(
            [
                "CRM orders",
                "in emulator",
                "linked",
                "linked correctly",
                "precision",
                "recall",
                "duplicates",
            ],
            [
                [
                    orders["crm"],
                    orders["in_emulator"],
                    orders["linked"],
                    orders["linked_correctly"],
                    linkage["precision"],
                    linkage["recall"],
                    card["duplicates"],
                ]
            ],
        ),
        "",
        "Linkage by what the CRM knew",
        table(
            ["identifier", "orders", "linked", "recall"],
            [
                [k, v["orders"], v["linked"], v["recall"]]
                for k, v in linkage["by_identifier"].items()
            ],
        ),
        "",
        "Linkage by lead channel",
        table(
            ["channel", "orders", "linked", "recall"],
            [[k, v["orders"], v["linked"], v["recall"]] for k, v in linkage["by_channel"].items()],
        ),
        "",
        "Orders lost, and why",
        table(
            ["reason", "orders"],
            sorted(card["lost"].items(), key=lambda kv: -kv[1]) or [["(none)", 0]],
        ),
        "",
        "Match rate by upload delay",
        table(
            ["delay", "orders", "linked", "match rate"],
            [
                [r["delay"], r["orders"], r["linked"], r["match_rate"]]
                for r in card["match_rate_by_upload_delay"]
            ],
        ),
        "",
        "Goals: a perfect pipeline vs fired",
        table(
            ["goal", "expected", "fired"],
            [
                [g, card["goals"]["expected"].get(g, 0), card["goals"]["fired"].get(g, 0)]
                for g in sorted(set(card["goals"]["expected"]) | set(card["goals"]["fired"]))
            ],
        ),
        "",
        "Orders and profit by traffic source (last significant source)",
        table(
            ["source", "true orders", "reported", "true profit", "reported profit"],
            [
                [
                    s["source"],
                    s["true_orders"],
                    s["reported_orders"],
                    s["true_profit"],
                    s["reported_profit"],
                ]
                for s in card["sources"]
            ],
        ),
        "",
        f"Revenue: CRM paid {card['revenue']['crm_paid']:,.2f}, "
        f"reported {card['revenue']['reported']:,.2f}"
        + (
            f" ({card['revenue']['reported_share']:.1%})"
            if card["revenue"]["reported_share"] is not None
            else ""
        ),
    ]
    if misses is not None:
        parts += ["", "Expectations: " + ("all hold" if not misses else f"{len(misses)} missed")]
        parts += [f"  MISS {m}" for m in misses]
    return "\n".join(parts)
