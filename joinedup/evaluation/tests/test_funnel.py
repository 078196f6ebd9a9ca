"""Funnel plot limits against values computed independently: by hand, and by exact rational
arithmetic with math.comb (a second way to the same binomial distribution). No database."""

import math
from fractions import Fraction

import pytest

from joinedup.evaluation.funnel import binomial_limit, funnel


def exact_limit(n: int, p0: Fraction, probability: Fraction) -> float:
    """Spiegelhalter's interpolated binomial limit in exact fractions."""
    cdf, previous = Fraction(0), Fraction(0)
    for r in range(n + 1):
        previous = cdf
        cdf += math.comb(n, r) * p0**r * (1 - p0) ** (n - r)
        if cdf >= probability:
            alpha = (cdf - probability) / (cdf - previous)
            # A rate cannot leave 0 to 1: the limit is cut there, as the plot draws it.
            return float(min(Fraction(1), max(Fraction(0), (r - alpha) / n)))
    raise AssertionError("unreachable")


def test_the_95_percent_lower_limit_for_20_at_a_half_by_hand():
    # F(5) = 21700 / 2^20 and F(6) = 60460 / 2^20, so r = 6,
    # alpha = (60460 - 2^20 / 40) / 38760 = 0.8835294, limit = (6 - alpha) / 20.
    assert binomial_limit(20, 0.5, 0.025) == pytest.approx(0.2558235, abs=1e-7)


@pytest.mark.parametrize("n", [1, 8, 25, 60, 150, 400])
@pytest.mark.parametrize("p0", [Fraction(1, 2), Fraction(3, 10), Fraction(47, 100)])
@pytest.mark.parametrize("probability", ["0.001", "0.025", "0.975", "0.999"])
def test_limits_match_exact_rational_arithmetic(n, p0, probability):
    expected = exact_limit(n, p0, Fraction(probability))
    assert binomial_limit(n, float(p0), float(probability)) == pytest.approx(expected, abs=1e-9)


def test_the_funnel_narrows_as_units_grow():
    plot = funnel([("A", 50, 100), ("B", 500, 1000)])
    small, large = plot.points[0].limits["95"], plot.points[1].limits["95"]
    assert small[1] - small[0] > large[1] - large[0]
    assert plot.curve[0]["n"] == 1
    assert plot.curve[-1]["n"] == 1000


def test_only_a_unit_outside_the_998_limits_is_flagged_and_order_is_kept():
    units = [("Usual", 500, 1000), ("Worse by chance", 40, 100), ("Far out", 20, 100),
             ("Empty", 0, 0)]  # fmt: skip
    plot = funnel(units)
    assert plot.pooled == pytest.approx(560 / 1200)
    by_label = {point.label: point for point in plot.points}
    assert "Empty" not in by_label
    assert [point.label for point in plot.points] == ["Usual", "Worse by chance", "Far out"]
    # 40% of 100 around 46.7%: inside the 99.8% limits (about 31.6% to 62.1%)
    assert not by_label["Worse by chance"].flagged
    assert by_label["Far out"].flagged
    assert by_label["Far out"].outside_95
    assert not by_label["Usual"].flagged


def test_no_units_give_an_empty_funnel():
    assert funnel([]).points == []
    assert funnel([("A", 0, 0)]).pooled is None
