"""Sessional monitoring rules: which questionnaires are due, and which risk items fired."""

import pytest

from joinedup.measures.rules import due_session, positive_risk_items


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
