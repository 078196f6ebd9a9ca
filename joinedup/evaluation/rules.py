"""Disclosure control: the one function every figure passes through before it leaves the
system below hub total (`shared/spec/evaluation.md`, "Disclosure control"; NHS England's
secondary-care method and OpenSAFELY's redaction rule).

    >>> disclose(Count(5)), disclose(Count(12)), disclose(Count(0))
    ('*', '10', '0')
    >>> disclose(Percentage(30, 120))
    '25% of 120'
"""

from dataclasses import dataclass

SUPPRESSED = "*"
SMALLEST_SHOWN = 8  # a count of individuals from 1 to 7 is never shown


@dataclass(frozen=True)
class Count:
    """A count of individuals."""

    n: int


@dataclass(frozen=True)
class Statistic:
    """A mean, median or rate computed from `individuals` people."""

    value: float
    individuals: int
    places: int = 1


@dataclass(frozen=True)
class Percentage:
    """A share of individuals: numerator out of denominator, both counts of people."""

    numerator: int
    denominator: int


@dataclass(frozen=True)
class Uncontrolled:
    """A value not about individuals (a count of services): shown as it is."""

    value: object


Figure = Count | Statistic | Percentage | Uncontrolled


def round_to_five(n: int) -> int:
    """The nearest multiple of 5, halves upward (12 → 10, 13 → 15)."""
    return (n + 2) // 5 * 5


def passes(n: int) -> bool:
    """Whether a count of individuals may be shown at all: 0, or 8 and more."""
    return n == 0 or n >= SMALLEST_SHOWN


def rounded(n: int) -> int | None:
    """A count as it may be used (for example as a chart's width): rounded, or None."""
    return round_to_five(n) if n and passes(n) else (0 if n == 0 else None)


def disclose(figure: Figure) -> str:
    """The figure as it may be shown: small counts and statistics from few people become
    `*`; counts are rounded to the nearest 5; a percentage is computed from the unrounded
    numbers and shown with its rounded denominator only when both counts pass."""
    match figure:
        case Count(n):
            return SUPPRESSED if rounded(n) is None else str(rounded(n))
        case Statistic(value, individuals, places):
            if individuals == 0:
                return "—"
            return SUPPRESSED if not passes(individuals) else f"{value:.{places}f}"
        case Percentage(numerator, denominator):
            if denominator == 0:
                return "—"
            if not (passes(numerator) and passes(denominator)):
                return SUPPRESSED
            return f"{100 * numerator / denominator:.0f}% of {round_to_five(denominator)}"
        case Uncontrolled(value):
            return str(value)
    raise TypeError(f"Not a figure: {figure!r}")
