"""Change between two scores, and NHS Talking Therapies episode outcomes. No database.

`reliable_change(code, first, last)` gives reliable and clinically significant change for one
measure (Jacobson & Truax, `shared/spec/measures.md` §7), using the published reliable change
index (RCI) and cut-off of the measure. Where none is published (the CORE-OM), compute one with
`jacobson_truax(sd_pre, reliability)` from configured values and pass it as `rci=`.

`episode_outcome(sessions)` gives the NHS Talking Therapies flags for an ended episode from the
PHQ-9 and GAD-7 totals of its treatment sessions (spec §8)::

    >>> episode_outcome([{"PHQ-9": 15, "GAD-7": 12}, {"PHQ-9": 6, "GAD-7": 5}]).recovery
    True

Flags are None where the spec says they do not apply (recovery when the episode was not a case
at the start) or when there is nothing to compare (fewer than two sessions, or a measure without
a first and a last score).
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from joinedup.measures import instruments
from joinedup.measures.scoring import check_main_score

# The anxiety measure is the GAD-7 unless an anxiety-disorder-specific measure replaces it; those
# are not covered by the spec (§8).
TALKING_THERAPIES_MEASURES = ("PHQ-9", "GAD-7")
# Jacobson & Truax: a change is reliable when it is 1.96 standard errors of the difference.
RELIABLE_CHANGE_Z = 1.96


@dataclass(frozen=True)
class Change:
    """Change on one measure between a first and a last main score (spec §7).

    `change` is last - first. `improvement` is the same amount signed so that a positive value
    is better, whichever way the measure runs. The reliable and clinically significant flags
    are None when no RCI (or, for clinical significance, no cut-off) is known. The meaningful
    flags use a published minimal change that is not an RCI (WEMWBS: 3 points).
    """

    code: str
    first: float
    last: float
    change: float
    improvement: float
    rci: float | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    clinically_significant: bool | None
    meaningful_improvement: bool | None = None
    meaningful_deterioration: bool | None = None


@dataclass(frozen=True)
class EpisodeOutcome:
    """NHS Talking Therapies outcome flags for one ended episode (spec §8).

    `changes` holds the PHQ-9 and GAD-7 changes for each measure that has a first and a last
    score. `has_paired_scores` is false when either measure lacks one; the episode then counts
    in "outcomes not available".
    """

    finished_treatment: bool
    has_paired_scores: bool
    caseness_at_start: bool | None
    caseness_at_end: bool | None
    recovery: bool | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    reliable_recovery: bool | None
    changes: dict[str, Change] = field(default_factory=dict, hash=False)


def reliable_change(
    code: str,
    first: float,
    last: float,
    *,
    rci: float | None = None,
    cutoff: float | None = None,
) -> Change:
    """Reliable and clinically significant change on one measure (Jacobson & Truax, spec §7).

    `first` and `last` are main scores. The measure's published RCI and caseness cut-off are
    used unless `rci` or `cutoff` is given. A change is reliable when it is at least the RCI
    (the NHS Talking Therapies "6 or more"); a fall is improvement except on the WEMWBS and
    SWEMWBS. Clinically significant means reliable improvement that also moves from the
    clinical side of the cut-off (at or beyond it) to the other side.
    """
    instrument = instruments.get(code)
    check_main_score(code, first)
    check_main_score(code, last)
    rci = instrument.reliable_change if rci is None else rci
    cutoff = instrument.caseness_cutoff if cutoff is None else cutoff
    if rci is not None and not rci > 0:
        raise ValueError(f"The reliable change index must be above 0, not {rci!r}")
    is_fall_better = instrument.improvement == "decrease"
    improvement = first - last if is_fall_better else last - first

    reliable_improvement = reliable_deterioration = clinically_significant = None
    if rci is not None:
        reliable_improvement = improvement >= rci
        reliable_deterioration = -improvement >= rci
        if cutoff is not None:
            clinically_significant = (
                reliable_improvement
                and _is_clinical(first, cutoff, is_fall_better)
                and not _is_clinical(last, cutoff, is_fall_better)
            )
    meaningful_improvement = meaningful_deterioration = None
    if instrument.meaningful_change is not None:
        meaningful_improvement = improvement >= instrument.meaningful_change
        meaningful_deterioration = -improvement >= instrument.meaningful_change
    return Change(
        code=code,
        first=first,
        last=last,
        change=last - first,
        improvement=improvement,
        rci=rci,
        reliable_improvement=reliable_improvement,
        reliable_deterioration=reliable_deterioration,
        clinically_significant=clinically_significant,
        meaningful_improvement=meaningful_improvement,
        meaningful_deterioration=meaningful_deterioration,
    )


def _is_clinical(value: float, cutoff: float, is_fall_better: bool) -> bool:
    # The cut-off itself counts as clinical, as caseness does (PHQ-9 >= 10 is a case).
    return value >= cutoff if is_fall_better else value <= cutoff


def episode_outcome(sessions: Sequence[Mapping[str, float | None]]) -> EpisodeOutcome:
    """NHS Talking Therapies outcome flags for an ended episode (spec §8).

    `sessions` are the episode's treatment sessions in date order, each a mapping of measure
    code to main score, e.g. `{"PHQ-9": 15, "GAD-7": 12}`; other measures are ignored. Only
    the first and the last score of each measure are used.

    - finished_treatment: at least two sessions.
    - caseness: PHQ-9 >= 10 or GAD-7 >= 8, at the start (first scores) and end (last scores).
    - recovery: a case at the start and not at the end (None when not a case at the start).
    - reliable_improvement: one measure falls by at least its RCI (PHQ-9 6, GAD-7 4) and
      neither rises by its RCI. reliable_deterioration: one rises by at least its RCI.
    - reliable_recovery: recovery and reliable improvement (None when not a case at start).

    Every flag is None when there are fewer than two sessions or either measure lacks a first
    and a last score.
    """
    finished_treatment = len(sessions) >= 2
    changes = {}
    for code in TALKING_THERAPIES_MEASURES:
        scores = [session[code] for session in sessions if session.get(code) is not None]
        if len(scores) >= 2:
            changes[code] = reliable_change(code, scores[0], scores[-1])
    has_paired_scores = len(changes) == len(TALKING_THERAPIES_MEASURES)
    if not (finished_treatment and has_paired_scores):
        return EpisodeOutcome(
            finished_treatment=finished_treatment,
            has_paired_scores=has_paired_scores,
            caseness_at_start=None,
            caseness_at_end=None,
            recovery=None,
            reliable_improvement=None,
            reliable_deterioration=None,
            reliable_recovery=None,
            changes=changes,
        )

    caseness_at_start = any(
        instruments.get(code).is_case(change.first) for code, change in changes.items()
    )
    caseness_at_end = any(
        instruments.get(code).is_case(change.last) for code, change in changes.items()
    )
    reliable_deterioration = any(change.reliable_deterioration for change in changes.values())
    reliable_improvement = not reliable_deterioration and any(
        change.reliable_improvement for change in changes.values()
    )
    recovery = reliable_recovery = None
    if caseness_at_start:
        recovery = not caseness_at_end
        reliable_recovery = recovery and reliable_improvement
    return EpisodeOutcome(
        finished_treatment=finished_treatment,
        has_paired_scores=has_paired_scores,
        caseness_at_start=caseness_at_start,
        caseness_at_end=caseness_at_end,
        recovery=recovery,
        reliable_improvement=reliable_improvement,
        reliable_deterioration=reliable_deterioration,
        reliable_recovery=reliable_recovery,
        changes=changes,
    )


def standard_error_of_measurement(sd_pre: float, reliability: float) -> float:
    """SE = SD1 · √(1 - r): SD1 of the pre-treatment scores, r the reliability (spec §7)."""
    if not sd_pre > 0:
        raise ValueError(f"The pre-treatment SD must be above 0, not {sd_pre!r}")
    if not 0 <= reliability < 1:
        raise ValueError(f"The reliability must be at least 0 and below 1, not {reliability!r}")
    return sd_pre * math.sqrt(1 - reliability)


def standard_error_of_difference(sd_pre: float, reliability: float) -> float:
    """S_diff = √(2 · SE²) (Jacobson & Truax, spec §7)."""
    return math.sqrt(2 * standard_error_of_measurement(sd_pre, reliability) ** 2)


def jacobson_truax(sd_pre: float, reliability: float, *, z: float = RELIABLE_CHANGE_Z) -> float:
    """The reliable change index in score points, z · S_diff (Jacobson & Truax, spec §7).

    For measures without a published RCI (the CORE-OM): pass the SD of the pre-treatment
    scores and the reliability that the service has configured, never values made up here,
    and hand the result to `reliable_change(..., rci=...)`.
    """
    return z * standard_error_of_difference(sd_pre, reliability)


def reliable_change_statistic(
    first: float, last: float, sd_pre: float, reliability: float
) -> float:
    """RC = (last - first) / S_diff; reliable when |RC| > 1.96 (Jacobson & Truax, spec §7)."""
    return (last - first) / standard_error_of_difference(sd_pre, reliability)


def clinical_cutoff(
    clinical_mean: float,
    clinical_sd: float,
    functional_mean: float | None = None,
    functional_sd: float | None = None,
    *,
    improvement: str = "decrease",
) -> float:
    """Jacobson & Truax's clinical cut-off (spec §7).

    With norms for both populations this is criterion c = (SD0·M1 + SD1·M0) / (SD0 + SD1);
    without functional norms it is criterion a, two clinical SDs from the clinical mean
    toward health (M1 - 2·SD1 when a fall is improvement, M1 + 2·SD1 when a rise is).
    """
    if improvement not in instruments.IMPROVEMENTS:
        raise ValueError(f"improvement must be one of {', '.join(instruments.IMPROVEMENTS)}")
    if functional_mean is None or functional_sd is None:
        toward_health = -1 if improvement == "decrease" else 1
        return clinical_mean + toward_health * 2 * clinical_sd
    return (functional_sd * clinical_mean + clinical_sd * functional_mean) / (
        functional_sd + clinical_sd
    )
