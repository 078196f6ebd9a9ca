"""Sessional monitoring rules: which questionnaires are due, and which risk items fired."""

import datetime as dt
from dataclasses import dataclass

import pytest

from joinedup.measures.rules import covering_episode, covers, due_session, positive_risk_items


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ({}, (1, ["GAD-7", "PHQ-9"])),
        ({1: {"PHQ-9"}}, (1, ["GAD-7"])),
        ({1: {"PHQ-9", "GAD-7"}}, (2, ["GAD-7", "PHQ-9"])),
        ({1: {"PHQ-9", "GAD-7"}, 2: {"GAD-7"}}, (2, ["PHQ-9"])),
        # A measure outside the routine set does not make a session complete.
        ({1: {"CORE-10"}}, (1, ["GAD-7", "PHQ-9"])),
        # Sessions skipped in the numbering: the latest one decides.
        ({1: {"PHQ-9", "GAD-7"}, 4: {"PHQ-9", "GAD-7"}}, (5, ["GAD-7", "PHQ-9"])),
    ],
)
def test_due_session_is_the_latest_incomplete_or_the_next(recorded, expected):
    assert due_session(["PHQ-9", "GAD-7"], recorded) == expected


def test_a_service_without_routine_measures_has_nothing_due():
    assert due_session([], {1: {"PHQ-9"}}) == (2, [])


@pytest.mark.parametrize(
    ("answers", "expected"),
    [([0] * 8 + [0], []), ([0] * 8 + [1], [9]), ([3] * 8 + [None], []), ([0] * 8 + [3], [9])],
)
def test_positive_risk_items_are_those_above_the_lowest_position(answers, expected):
    assert positive_risk_items([9], answers) == expected


@dataclass(frozen=True)
class Span:
    started_at: dt.datetime
    ended_at: dt.datetime | None = None


def day(month: int, date: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2025, month, date, hour, tzinfo=dt.UTC)


SPRING = Span(day(3, 1), day(5, 31))
AUTUMN = Span(day(10, 1))  # still open


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (day(2, 28), False),  # before it began: late data, never its first score
        (day(3, 1), True),  # its first moment
        (day(4, 15), True),
        (day(5, 31), True),  # its last moment
        (day(5, 31, 13), False),  # after it ended
    ],
)
def test_an_episode_covers_its_start_its_end_and_what_lies_between(moment, expected):
    assert covers(SPRING, moment) is expected


def test_an_open_episode_covers_everything_from_its_start():
    assert covers(AUTUMN, day(12, 31))
    assert not covers(AUTUMN, day(9, 30))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(day(4, 1), SPRING), (day(11, 1), AUTUMN), (day(7, 1), None), (day(1, 1), None)],
)
def test_a_questionnaire_is_filed_under_the_episode_covering_its_date_or_none(moment, expected):
    assert covering_episode([AUTUMN, SPRING], moment) == expected


def test_of_overlapping_episodes_the_latest_started_is_chosen():
    summer = Span(day(5, 1), day(8, 31))
    assert covering_episode([SPRING, summer], day(5, 15)) == summer
    assert covering_episode([], day(5, 15)) is None
