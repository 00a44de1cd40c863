"""Every scorecard field, what it means, and which dotted paths an expectation may name.

One catalogue serves three readers: ``load_scenario`` refuses an expectation whose path the
scorecard cannot have (before the run, with the closest real paths), ``docs/SCORECARD.md`` is
generated from it (see :data:`REGENERATE`; a test keeps the two equal), and a test checks that
every key of a real scorecard is listed here.

A ``<placeholder>`` in a path stands for a named key: its values come from the scenario (its
channels, its goals) or from the engine (its loss reasons).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from emulator.goals import CRM_GOAL_NAMES
from emulator.rules import GoalNames
from emulator.scenario.glossary import REASONS
from emulator.scenario.scoring import DELAY_BUCKETS
from emulator.sim import Settings
from emulator.sim.settings import CHANNEL_NAMES

FIELDS: tuple[tuple[str, str], ...] = (
    ("run.scenario", "the scenario's name"),
    ("run.seed", "the random seed of the simulation"),
    ("run.via", "`inprocess` or `http`: how the uploads reached the emulator"),
    ("run.uploads", "uploads the simulated pipeline sent"),
    ("run.uploads_failed", "uploads that got no 2xx answer, retries included"),
    ("run.visits", "visits the simulated website had (loaded before the uploads needing them)"),
    ("orders.crm", "deals the CRM created: the ground truth every rate is measured against"),
    ("orders.in_emulator", "orders the emulator holds (duplicates included)"),
    ("orders.linked", "orders of CRM deals the emulator linked to some visit"),
    ("orders.linked_correctly", "deals linked to the very visit their lead came from"),
    (
        "orders.not_from_crm",
        "emulator orders that map to no CRM deal (e.g. simple orders sent without an id)",
    ),
    ("linkage.precision", "linked correctly / linked: how often a link is right"),
    ("linkage.recall", "linked correctly / CRM deals: the share of deals the reports can credit"),
    ("linkage.by_identifier.<identifier>.orders", "deals by what the CRM knew of the visitor"),
    ("linkage.by_identifier.<identifier>.linked", "of those, linked correctly"),
    ("linkage.by_identifier.<identifier>.recall", "linked / orders for that identifier"),
    ("linkage.by_channel.<channel>.orders", "deals by the channel the lead came through"),
    ("linkage.by_channel.<channel>.linked", "of those, linked correctly"),
    ("linkage.by_channel.<channel>.recall", "linked / orders for that channel"),
    ("linkage.correct_links_by_key.<key>", "correct links by the identifier that made them"),
    ("lost.<reason>", "deals not linked correctly, by reason (see the reasons below)"),
    ("lost_share.<reason>", "lost / CRM deals, by reason"),
    ("duplicates", "orders beyond the first for one deal, plus orders of no deal"),
    ("create_date_conflicts", "orders re-sent with another creation date (kept the first)"),
    ("goals.expected.<goal>", "goal reaches a perfect pipeline would produce"),
    ("goals.fired.<goal>", "goal reaches the emulator recorded for orders"),
    (
        "goals.from_fixations.<goal>",
        "CRM goal reaches the rule pack's own table gives for the status fixations the engine "
        "logged (emulator/scenario/expected.py, written apart from the engine's goal rules)",
    ),
    ("goals.mismatch.<goal>", "fired − from_fixations for a CRM goal: 0 when the engine agrees"),
    ("goals.mismatch_total", "the sum of the mismatches' sizes over the CRM goals"),
    ("revenue.crm_paid", "revenue of the deals the CRM marked paid"),
    ("revenue.reported", "revenue the order-sources report shows (linked, paid orders)"),
    ("revenue.reported_share", "reported / CRM paid revenue"),
    ("revenue.currency", "the CRM's currency code (ISO 4217)"),
    ("attribution", "the attribution model of `sources` and `revenue.reported`"),
    ("offline.<kind>.uploadings", "offline uploadings sent (`conversions` or `calls`)"),
    ("offline.<kind>.rows", "rows they carried"),
    ("offline.<kind>.linked", "rows linked to a visit"),
    ("offline.<kind>.link_rate", "linked / rows"),
)
LISTS: tuple[tuple[str, str], ...] = (
    ("match_rate_by_upload_delay[].delay", "how long after its creation a deal was first sent"),
    ("match_rate_by_upload_delay[].orders", "deals first sent with that delay"),
    ("match_rate_by_upload_delay[].linked", "of those, linked correctly"),
    ("match_rate_by_upload_delay[].match_rate", "linked / orders"),
    ("sources[].source", "a traffic source id (`organic`, `ad`, …)"),
    ("sources[].name", "the source in words, as the Metrica interface names it"),
    ("sources[].true_orders", "non-spam deals whose lead came from that source"),
    ("sources[].reported_orders", "orders the report credits to the source"),
    ("sources[].true_profit", "profit (revenue - cost) of those deals that were paid"),
    ("sources[].reported_profit", "profit the report credits to the source"),
    ("expectations.checked", "the scenario's expectations (scorecard.json only)"),
    ("expectations.misses", "the ones that did not hold (scorecard.json only)"),
)
"""Fields inside lists, which expectations cannot name (they compare single values)."""
REGENERATE = (
    "python -c 'from emulator.scenario.fields import markdown; print(markdown(), end=\"\")' "
    "> docs/SCORECARD.md"
)
IDENTIFIERS = ("ClientID", "foreign ClientID", "phone/e-mail only", "nothing")
KEYS = ("ClientID", "email", "phone")
KINDS = ("conversions", "calls")


def names(settings: Settings) -> dict[str, tuple[str, ...]]:
    """What each placeholder may be in a run of ``settings``."""
    goals = sorted({name for names in CRM_GOAL_NAMES.values() for name in names.values()})
    goals += [goal.name for goal in settings.simulation.crm.pipeline_spec().goals]
    return {
        "identifier": IDENTIFIERS,
        "channel": CHANNEL_NAMES,
        "key": KEYS,
        "reason": tuple(REASONS),
        "goal": tuple(goals),
        "kind": KINDS,
    }


def paths(settings: Settings) -> set[str]:
    """Every dotted path a scorecard of ``settings`` may hold."""
    values = names(settings)
    found: set[str] = set()
    for pattern, _ in FIELDS:
        expanded = [pattern]
        for placeholder in re.findall(r"<(\w+)>", pattern):
            expanded = [
                path.replace(f"<{placeholder}>", value, 1)
                for path in expanded
                for value in values[placeholder]
            ]
        found.update(expanded)
    return found


def unknown_paths(wanted: Iterable[str], settings: Settings) -> list[str]:
    """A message per path the scorecard cannot hold, naming the closest real paths."""
    known = paths(settings)
    messages = []
    for path in wanted:
        if path in known:
            continue
        close = difflib.get_close_matches(path, sorted(known), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        messages.append(f"expectation {path!r} is not a scorecard field{hint}")
    return messages


def markdown() -> str:
    """``docs/SCORECARD.md``."""
    lines = [
        "# The scorecard",
        "",
        "`crmemu run` scores a scenario's run against the simulator's ground truth and writes",
        "`scorecard.json` (UTF-8, names as written) beside three plots. This page is generated",
        f"from `emulator/scenario/fields.py`: `{REGENERATE}`.",
        "",
        "An expectation in a scenario file names a dotted path below, with `min`, `max` or",
        '`equals` (`"linkage.recall" = { min = 0.7 }`); a path the scorecard cannot hold is',
        "refused before the run starts. In a table of named counts (`lost`, `lost_share`,",
        "`goals.*`, `linkage.correct_links_by_key`) an absent key reads as 0.",
        "",
        "| field | meaning |",
        "|---|---|",
        *(f"| `{path}` | {meaning} |" for path, meaning in FIELDS),
        "",
        "Lists (shown in the tables and plots; expectations cannot name them):",
        "",
        "| field | meaning |",
        "|---|---|",
        *(f"| `{path}` | {meaning} |" for path, meaning in LISTS),
        "",
        "## Placeholders",
        "",
        f"- `<identifier>`: {', '.join(f'`{v}`' for v in IDENTIFIERS)} (what the CRM knew: the",
        "  visitor's own ClientID, a ClientID from another site's cookie, only a phone or",
        "  e-mail, or nothing);",
        f"- `<channel>`: {', '.join(f'`{v}`' for v in CHANNEL_NAMES)};",
        f"- `<key>`: {', '.join(f'`{v}`' for v in KEYS)};",
        f"- `<kind>`: {', '.join(f'`{v}`' for v in KINDS)};",
        "- `<goal>`: a CRM goal's name in the language of the counter's rule pack (e.g.",
        f"  {', '.join(f'`{n}`' for n in CRM_GOAL_NAMES[GoalNames.EN].values())}), or a JS goal",
        "  of the scenario's CRM pipeline (e.g. `Хорошие лиды`);",
        "- `<reason>`: one of the loss reasons below.",
        "",
        "## Loss reasons",
        "",
        "| reason | label in plots and tables | meaning |",
        "|---|---|---|",
        *(f"| `{code}` | {label} | {meaning} |" for code, (label, meaning) in REASONS.items()),
        "",
        "## Upload delay buckets",
        "",
        ", ".join(f"`{name}`" for name, _, _ in DELAY_BUCKETS) + ", `never sent`.",
        "",
    ]
    return "\n".join(lines)
