"""Funnel plot limits against values computed independently: by hand, and by exact rational
arithmetic with math.comb (a second way to the same binomial distribution). No database."""

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from joinedup.evaluation.funnel import binomial_limit, funnel
from joinedup.evaluation.reports import funnel_plot


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


# --- What the chart receives ---------------------------------------------------------------


def _drawn_limit(curve: list[dict], name: str, side: int, x: float) -> float:
    """The limit line as the chart draws it: straight segments between the curve's points."""
    for left, right in itertools.pairwise(curve):
        if left["n"] <= x <= right["n"]:
            share = (x - left["n"]) / (right["n"] - left["n"])
            return left[name][side] + share * (right[name][side] - left[name][side])
    (only,) = [c for c in curve if c["n"] == x]
    return only[name][side]


def _unit(draw):
    denominator = draw(st.integers(min_value=0, max_value=400))
    numerator = draw(st.integers(min_value=0, max_value=denominator))
    return (f"unit {draw(st.integers())}", numerator, denominator)


@hypothesis_settings(max_examples=400, deadline=None)
@given(st.lists(st.composite(_unit)(), min_size=1, max_size=12, unique_by=lambda u: u[0]))
def test_every_drawn_point_lies_on_the_side_of_each_drawn_limit_its_flag_says(units):
    plot = funnel_plot("Recovery", "service", units)
    for point in plot["points"]:
        if point["x"] is None:
            assert not point["flagged"]
            assert not point["outside_95"]
            continue
        x, y = point["x"], point["y"]
        for name, flag in (("99.8", point["flagged"]), ("95", point["outside_95"])):
            low = _drawn_limit(plot["curve"], name, 0, x)
            high = _drawn_limit(plot["curve"], name, 1, x)
            assert flag == (y < low or y > high), (point, name, low, high)


def test_a_unit_near_the_limit_is_judged_where_it_is_drawn():
    """Ten units of 200 at 36% and one of 48 at 62% (exactly 61.8% limits at its 48 would
    not be the limits drawn at 50): the flag follows the drawn size and the drawn hub rate."""
    plot = funnel_plot(
        "Recovery", "service", [(f"U{n}", 72, 200) for n in range(10)] + [("Near", 30, 48)]
    )
    near = plot["points"][-1]
    at = next(c for c in plot["curve"] if c["n"] == near["x"])
    assert (near["x"], near["y"], plot["pooled"]) == (50.0, 62, 37)
    assert near["flagged"] == (near["y"] > at["99.8"][1])
