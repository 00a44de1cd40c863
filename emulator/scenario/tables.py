"""The scorecard as readable text tables (what ``crmemu run`` prints).

Rates are percentages, amounts have thousands separators and the currency, loss reasons and
traffic sources are named in words (the codes stay beside them for a search in the docs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulator.scenario.glossary import model_label, reason_label


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def money(value: float) -> str:
    return f"{value:,.0f}"


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
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def render(card: Mapping[str, Any], misses: Sequence[str] | None = None) -> str:
    run, orders, linkage = card["run"], card["orders"], card["linkage"]
    currency = card["revenue"]["currency"]
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
                    rate(linkage["precision"]),
                    rate(linkage["recall"]),
                    card["duplicates"],
                ]
            ],
        ),
        "",
        "Linkage by what the CRM knew",
        table(
            ["identifier", "orders", "linked", "recall"],
            [
                [k, v["orders"], v["linked"], rate(v["recall"])]
                for k, v in linkage["by_identifier"].items()
            ],
        ),
        "",
        "Linkage by lead channel",
        table(
            ["channel", "orders", "linked", "recall"],
            [
                [k, v["orders"], v["linked"], rate(v["recall"])]
                for k, v in linkage["by_channel"].items()
            ],
        ),
        "",
        "Orders lost, and why",
        table(
            ["reason", "code", "orders", "of CRM orders"],
            [
                [reason_label(code), code, n, rate(card["lost_share"].get(code))]
                for code, n in sorted(card["lost"].items(), key=lambda kv: -kv[1])
            ]
            or [["(none)", "", 0, rate(0.0)]],
        ),
        "",
        "Match rate by upload delay",
        table(
            ["delay", "orders", "linked", "match rate"],
            [
                [r["delay"], r["orders"], r["linked"], rate(r["match_rate"])]
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
        f"Orders and profit by traffic source ({model_label(card['attribution'])}, {currency})",
        table(
            ["source", "true orders", "reported", "true profit", "reported profit"],
            [
                [
                    s["name"],
                    s["true_orders"],
                    s["reported_orders"],
                    money(s["true_profit"]),
                    money(s["reported_profit"]),
                ]
                for s in card["sources"]
            ],
        ),
        "",
        f"Revenue: CRM paid {money(card['revenue']['crm_paid'])} {currency}, "
        f"reported {money(card['revenue']['reported'])} {currency}"
        + (
            f" ({rate(card['revenue']['reported_share'])})"
            if card["revenue"]["reported_share"] is not None
            else ""
        ),
    ]
    if misses is not None:
        parts += ["", "Expectations: " + ("all hold" if not misses else f"{len(misses)} missed")]
        parts += [f"  MISS {m}" for m in misses]
    return "\n".join(parts)
