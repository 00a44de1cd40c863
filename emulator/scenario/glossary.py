"""Plain names for the scorecard's codes, so plots and tables read without the source code.

Each loss reason gets a short label (what a chart shows) and a sentence (the glossary under
the chart and in ``docs/SCORECARD.md``); traffic sources get the Reporting API's own names.
"""

from __future__ import annotations

from emulator import Attribution
from emulator.api.stat import MODEL_NAMES, source_name
from emulator.scenario.scoring import NOT_UPLOADED, WRONG_VISIT

REASONS: dict[str, tuple[str, str]] = {
    NOT_UPLOADED: ("never uploaded", "no upload ever carried the order"),
    WRONG_VISIT: (
        "linked to another visit",
        "linked, but not to the visit the lead came from (a later visit, a shared phone)",
    ),
    "NOT_LINKED_NO_IDENTITY": (
        "no identifier sent",
        "the order carried no ClientID, e-mail or phone to link by",
    ),
    "NOT_LINKED_NO_VISIT": (
        "no matching visit",
        "its ClientID, e-mail or phone matched no visit in the 21 days before the order",
    ),
    "NOT_LINKED_ORDER_TOO_OLD": (
        "uploaded too late",
        "the order was more than 21 days old when it first arrived",
    ),
    "NOT_LINKED_UNKNOWN_STATUS": (
        "unknown status",
        "its status is not standard, not in the status mapping and not a JS goal",
    ),
    "NOT_LINKED_STATIC_CALL": (
        "static-number call",
        "a call to a static number cannot point at a visit",
    ),
    "NOT_LINKED_BEFORE_CONTACTS": (
        "visit before contacts",
        "its matching visits all came before the counter's first contacts upload (contacts first)",
    ),
    "NOT_LINKED": ("not linked", "not linked, for a reason the engine did not name"),
}


def reason_label(code: str) -> str:
    return REASONS.get(code, (code.replace("_", " ").lower(), ""))[0]


def model_label(model: str) -> str:
    """``lastsign`` → ``Last significant source``."""
    return MODEL_NAMES.get(Attribution(model), model)


__all__ = ["REASONS", "model_label", "reason_label", "source_name"]
