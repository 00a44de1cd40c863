"""RuleSet: named options with checked values, round-tripping through plain JSON."""

import pytest

from emulator.rules import (
    CancelledGoal,
    CreateDateConflict,
    RuleSet,
    UpdateWindowAnchor,
)


def test_defaults_follow_the_documented_choices():
    rules = RuleSet()
    assert (rules.order_age_limit_days, rules.visit_age_limit_days) == (21, 21)
    assert (rules.update_window_days, rules.update_window_anchor) == (
        111,
        UpdateWindowAnchor.VISIT_START,
    )
    assert rules.create_date_conflict is CreateDateConflict.KEEP_FIRST
    assert rules.cancelled_goal is CancelledGoal.ORDER_CANCELLED
    assert rules.spam_goal and rules.contacts_first
    assert rules.pack == "docs-current"


def test_support_page_variant_is_90_days_from_the_order():
    variant = RuleSet.support_page_variant()
    assert (variant.update_window_days, variant.update_window_anchor) == (
        90,
        UpdateWindowAnchor.ORDER_CREATED,
    )


def test_plain_values_round_trip():
    rules = RuleSet(
        spam_goal=False, cancelled_goal=CancelledGoal.ORDER_CANCELLED, processing_delay_seconds=60
    )
    assert RuleSet.from_mapping(rules.to_mapping()) == rules


def test_replace_converts_and_checks_like_from_mapping():
    assert (
        RuleSet().replace(create_date_conflict="overwrite").create_date_conflict
        is CreateDateConflict.OVERWRITE
    )
    with pytest.raises(ValueError, match="unknown rule option"):
        RuleSet().replace(link_window=30)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"spam_goal": "yes"}, "true or false"),
        ({"order_age_limit_days": -1}, "whole number"),
        ({"order_age_limit_days": 2.5}, "whole number"),
        ({"cancelled_goal": "maybe"}, "not one of"),
        ({"default_currency": 5}, "expected str"),
    ],
)
def test_wrong_values_are_plain_errors(values, message):
    with pytest.raises(ValueError, match=message):
        RuleSet.from_mapping(values)
