"""Funnel plots for comparing proportions between services and institutions. No database.

Spiegelhalter, "Funnel plots for comparing institutional performance", Statistics in Medicine
24:1185 (2005), as `shared/spec/evaluation.md` ("Fair comparison") asks: x is the number of
eligible episodes, y the rate, the centre line the pooled rate p0, and control limits from the
exact binomial distribution around p0. For a unit of size n, the limit at probability P is the
binomial quantile r_P (the smallest r with F(r) >= P), interpolated as in the paper's appendix
so the limits are smooth in n:

    alpha = (F(r_P) - P) / (F(r_P) - F(r_P - 1)),   limit = (r_P - alpha) / n

P is 0.025 and 0.975 for the 95% limits and 0.001 and 0.999 for the 99.8% limits. A unit is
flagged only outside the 99.8% limits; units are never ranked.
"""

import math
from dataclasses import dataclass

LIMITS = {"95": (0.025, 0.975), "99.8": (0.001, 0.999)}


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binomial_limit(n: int, p0: float, probability: float) -> float:
    """Spiegelhalter's interpolated exact binomial limit, as a proportion, for a unit of
    size `n` around the pooled proportion `p0`."""
    if n <= 0:
        raise ValueError("A unit needs at least one eligible episode.")
    if not 0 < probability < 1:
        raise ValueError("The probability must be between 0 and 1.")
    if p0 <= 0 or p0 >= 1:
        return p0  # no spread around a rate of 0% or 100%
    cumulative, previous, r = 0.0, 0.0, -1
    while cumulative < probability and r < n:
        r += 1
        previous = cumulative
        cumulative = min(1.0, cumulative + math.exp(_log_pmf(r, n, p0)))
    alpha = (cumulative - probability) / (cumulative - previous)
    return min(1.0, max(0.0, (r - alpha) / n))


@dataclass(frozen=True)
class Point:
    """One unit on the plot, with where it lies against the limits."""

    label: str
    numerator: int
    denominator: int
    rate: float
    limits: dict[str, tuple[float, float]]

    @property
    def outside_95(self) -> bool:
        low, high = self.limits["95"]
        return not low <= self.rate <= high

    @property
    def flagged(self) -> bool:
        """Outside the 99.8% limits: the only thing that marks a unit out."""
        low, high = self.limits["99.8"]
        return not low <= self.rate <= high


@dataclass(frozen=True)
class Funnel:
    pooled: float | None
    points: list[Point]
    curve: list[dict]  # {"n": ..., "95": (low, high), "99.8": (low, high)} along the x axis


def limits_at(n: int, p0: float) -> dict[str, tuple[float, float]]:
    return {
        name: (binomial_limit(n, p0, low), binomial_limit(n, p0, high))
        for name, (low, high) in LIMITS.items()
    }


def curve_sizes(largest: int, points: int = 40) -> list[int]:
    """Log-spaced sizes from 1 to `largest`, so the narrow end of the funnel is smooth."""
    return sorted({max(1, round(largest ** (i / points))) for i in range(points + 1)})


def funnel(units: list[tuple[str, int, int]], *, curve_points: int = 40) -> Funnel:
    """The funnel for units given as (label, numerator, denominator). Units with no eligible
    episodes are left out; the pooled rate is the sum of numerators over the sum of
    denominators. Points keep the order they came in: nothing is ranked."""
    units = [(label, num, den) for label, num, den in units if den > 0]
    total = sum(den for _, _, den in units)
    if not total:
        return Funnel(None, [], [])
    p0 = sum(num for _, num, _ in units) / total
    points = [Point(label, num, den, num / den, limits_at(den, p0)) for label, num, den in units]
    largest = max(den for _, _, den in units)
    curve = [{"n": n, **limits_at(n, p0)} for n in curve_sizes(largest, curve_points)]
    return Funnel(p0, points, curve)
