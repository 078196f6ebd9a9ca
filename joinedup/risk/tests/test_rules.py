"""The shared risk language: overall level, deadlines, the escalation route. No database."""

import datetime as dt

import pytest

from joinedup.risk import rules
from joinedup.risk.rules import Level

LOW, MODERATE, HIGH, IMMEDIATE = (
    Level(1, "Low", 168),
    Level(2, "Moderate", 72),
    Level(3, "High", 24),
    Level(4, "Immediate", 1),
)
RAISED = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def test_the_overall_level_is_the_highest_domain():
    assert rules.overall({"self": MODERATE, "academic": HIGH, "to_others": None}) == HIGH
    assert rules.overall({"self": None}) is None


def test_a_level_is_shown_with_the_services_own_word():
    assert rules.label(HIGH, "Crisis Team", "Amber") == "High — Crisis Team: Amber"
    assert rules.label(HIGH) == "High"
    assert rules.label(None) == "Not assessed"


@pytest.mark.parametrize(("level", "hours"), [(LOW, 168), (HIGH, 24), (IMMEDIATE, 1)])
def test_a_flag_is_due_within_its_levels_response_time(level, hours):
    assert rules.due_at(RAISED, level) == RAISED + dt.timedelta(hours=hours)


@pytest.mark.parametrize(
    ("after", "stage"),
    [
        (dt.timedelta(hours=23, minutes=59), rules.NOT_DUE),
        (dt.timedelta(hours=24), rules.DUTY),
        (dt.timedelta(hours=47, minutes=59), rules.DUTY),
        (dt.timedelta(hours=48), rules.MANAGER),
    ],
)
def test_an_unacknowledged_flag_goes_to_the_duty_worker_then_the_manager(after, stage):
    assert rules.escalation_stage(RAISED, HIGH, RAISED + after) == stage


def test_an_immediate_flag_escalates_within_the_hour_and_to_the_manager_an_hour_later():
    assert rules.escalation_stage(RAISED, IMMEDIATE, RAISED + dt.timedelta(minutes=59)) == 0
    assert rules.escalation_stage(RAISED, IMMEDIATE, RAISED + dt.timedelta(minutes=60)) == 1
    assert rules.escalation_stage(RAISED, IMMEDIATE, RAISED + dt.timedelta(minutes=120)) == 2
