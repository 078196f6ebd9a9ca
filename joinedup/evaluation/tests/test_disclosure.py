"""Disclosure control, rule by rule from shared/spec/evaluation.md. No database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.evaluation.rules import (
    Count,
    Percentage,
    Statistic,
    Uncontrolled,
    disclose,
    rounded,
)


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0"),
        (1, "*"),
        (7, "*"),
        (8, "10"),
        (12, "10"),
        (13, "15"),
        (15, "15"),
        (17, "15"),
        (18, "20"),
        (1234, "1235"),
    ],
)
def test_counts_of_one_to_seven_are_hidden_and_the_rest_rounded_to_five(n, shown):
    assert disclose(Count(n)) == shown


@pytest.mark.parametrize(("individuals", "shown"), [(0, "—"), (1, "*"), (7, "*"), (8, "4.3")])
def test_a_statistic_from_one_to_seven_people_is_hidden(individuals, shown):
    assert disclose(Statistic(4.26, individuals)) == shown


@pytest.mark.parametrize(
    ("numerator", "denominator", "shown"),
    [
        (30, 120, "25% of 120"),
        (0, 40, "0% of 40"),
        (5, 40, "*"),
        (9, 7, "*"),
        (9, 0, "—"),
        # computed from unrounded numbers: 11/23 = 48%, though 10/25 would be 40%
        (11, 23, "48% of 25"),
    ],
)
def test_a_percentage_needs_both_counts_to_pass_and_shows_the_rounded_denominator(
    numerator, denominator, shown
):
    assert disclose(Percentage(numerator, denominator)) == shown


def test_values_not_about_individuals_are_not_controlled():
    assert disclose(Uncontrolled(3)) == "3"


@given(st.integers(min_value=0, max_value=10**6))
def test_a_shown_count_is_never_between_one_and_seven_and_always_a_multiple_of_five(n):
    shown = disclose(Count(n))
    if shown != "*":
        assert int(shown) % 5 == 0
        assert int(shown) == 0 or int(shown) >= 10
        assert abs(int(shown) - n) <= 2
    assert rounded(n) is None or str(rounded(n)) == shown
