"""Reliable change and NHS Talking Therapies outcomes (shared/spec/measures.md §7, §8)."""

import math

import pytest

from joinedup.measures.outcomes import (
    clinical_cutoff,
    episode_outcome,
    jacobson_truax,
    reliable_change,
    reliable_change_statistic,
    standard_error_of_difference,
    standard_error_of_measurement,
)

FLAGS = (
    "caseness_at_start",
    "caseness_at_end",
    "recovery",
    "reliable_improvement",
    "reliable_deterioration",
    "reliable_recovery",
)


def _episode(start: tuple[float, float], end: tuple[float, float]):
    """An episode of two sessions, each (PHQ-9, GAD-7)."""
    return episode_outcome(
        [{"PHQ-9": start[0], "GAD-7": start[1]}, {"PHQ-9": end[0], "GAD-7": end[1]}]
    )


def _flags(outcome) -> dict:
    return {flag: getattr(outcome, flag) for flag in FLAGS}


# Caseness and recovery


@pytest.mark.parametrize(
    ("phq9", "gad7", "is_case"),
    [
        (10, 0, True),
        (0, 8, True),
        (9, 7, False),
        (27, 21, True),
    ],
)
def test_caseness_at_start_is_phq9_10_or_gad7_8(phq9, gad7, is_case):
    assert _episode((phq9, gad7), (0, 0)).caseness_at_start is is_case


def test_recovery_is_none_when_not_a_case_at_the_start():
    outcome = _episode((9, 7), (2, 2))
    assert outcome.caseness_at_start is False
    assert outcome.recovery is None
    assert outcome.reliable_recovery is None


def test_reliable_improvement_is_given_even_when_not_a_case_at_the_start():
    outcome = _episode((9, 7), (3, 7))
    assert outcome.reliable_improvement is True
    assert outcome.recovery is None


@pytest.mark.parametrize(
    ("end", "recovery"),
    [
        ((9, 7), True),
        ((10, 5), False),
        ((4, 8), False),
        ((12, 12), False),
    ],
)
def test_recovery_needs_both_measures_below_their_thresholds_at_the_end(end, recovery):
    outcome = _episode((15, 12), end)
    assert outcome.caseness_at_end is (not recovery)
    assert outcome.recovery is recovery


def test_a_case_by_one_measure_recovers_only_when_both_are_below_at_the_end():
    assert _episode((12, 3), (5, 9)).recovery is False
    assert _episode((12, 3), (5, 7)).recovery is True


# Reliable improvement and deterioration


@pytest.mark.parametrize(
    ("start", "end", "improvement"),
    [
        ((15, 5), (9, 5), True),  # PHQ-9 falls by 6
        ((15, 5), (10, 5), False),  # PHQ-9 falls by 5
        ((5, 12), (5, 8), True),  # GAD-7 falls by 4
        ((5, 12), (5, 9), False),  # GAD-7 falls by 3
        ((15, 12), (10, 9), False),  # neither reaches its value
    ],
)
def test_reliable_improvement_thresholds_are_6_and_4_inclusive(start, end, improvement):
    outcome = _episode(start, end)
    assert outcome.reliable_improvement is improvement
    assert outcome.reliable_deterioration is False


@pytest.mark.parametrize(
    ("start", "end", "deterioration"),
    [
        ((5, 5), (11, 5), True),  # PHQ-9 rises by 6
        ((5, 5), (10, 5), False),  # PHQ-9 rises by 5
        ((5, 5), (5, 9), True),  # GAD-7 rises by 4
        ((5, 5), (5, 8), False),  # GAD-7 rises by 3
    ],
)
def test_reliable_deterioration_thresholds_are_6_and_4_inclusive(start, end, deterioration):
    outcome = _episode(start, end)
    assert outcome.reliable_deterioration is deterioration
    assert outcome.reliable_improvement is False


def test_improvement_is_false_when_the_other_measure_reliably_deteriorates():
    # The CORC convention (spec §8, unconfirmed for NHS Digital).
    outcome = _episode((18, 4), (8, 8))
    assert outcome.reliable_improvement is False
    assert outcome.reliable_deterioration is True


# Reliable recovery


@pytest.mark.parametrize(
    ("start", "end", "recovery", "reliable_improvement", "reliable_recovery"),
    [
        ((16, 12), (6, 5), True, True, True),
        ((10, 8), (9, 7), True, False, False),  # recovered without reliable change
        ((20, 15), (12, 6), False, True, False),  # reliably improved, still a case
    ],
)
def test_reliable_recovery_needs_recovery_and_reliable_improvement(
    start, end, recovery, reliable_improvement, reliable_recovery
):
    outcome = _episode(start, end)
    assert outcome.recovery is recovery
    assert outcome.reliable_improvement is reliable_improvement
    assert outcome.reliable_recovery is reliable_recovery


def test_a_full_recovery_gives_every_flag():
    outcome = _episode((15, 12), (6, 5))
    assert outcome.finished_treatment is True
    assert outcome.has_paired_scores is True
    assert _flags(outcome) == {
        "caseness_at_start": True,
        "caseness_at_end": False,
        "recovery": True,
        "reliable_improvement": True,
        "reliable_deterioration": False,
        "reliable_recovery": True,
    }


# Sessions and pairs


@pytest.mark.parametrize("sessions", [[], [{"PHQ-9": 15, "GAD-7": 12}]])
def test_fewer_than_two_sessions_is_not_a_finished_treatment(sessions):
    outcome = episode_outcome(sessions)
    assert outcome.finished_treatment is False
    assert all(value is None for value in _flags(outcome).values())


def test_a_measure_without_a_pair_gives_no_flags():
    outcome = episode_outcome([{"PHQ-9": 15, "GAD-7": 12}, {"PHQ-9": 5}])
    assert outcome.finished_treatment is True
    assert outcome.has_paired_scores is False
    assert all(value is None for value in _flags(outcome).values())
    assert set(outcome.changes) == {"PHQ-9"}


def test_sessions_without_either_measure_give_no_flags():
    outcome = episode_outcome([{"CORE-10": 20}, {"CORE-10": 10}])
    assert outcome.finished_treatment is True
    assert outcome.has_paired_scores is False
    assert outcome.recovery is None


def test_only_the_first_and_last_scores_are_used():
    outcome = episode_outcome(
        [
            {"PHQ-9": 15, "GAD-7": 12},
            {"PHQ-9": 27, "GAD-7": 21},
            {"PHQ-9": 0, "GAD-7": 0},
            {"PHQ-9": 8, "GAD-7": 7},
        ]
    )
    assert outcome.changes["PHQ-9"].first == 15
    assert outcome.changes["PHQ-9"].last == 8
    assert outcome.recovery is True
    assert outcome.reliable_improvement is True


def test_each_measure_pairs_its_own_first_and_last_sessions():
    outcome = episode_outcome(
        [
            {"PHQ-9": 16},
            {"PHQ-9": 14, "GAD-7": 12},
            {"GAD-7": 6},
            {"PHQ-9": 8, "GAD-7": None},
        ]
    )
    assert (outcome.changes["PHQ-9"].first, outcome.changes["PHQ-9"].last) == (16, 8)
    assert (outcome.changes["GAD-7"].first, outcome.changes["GAD-7"].last) == (12, 6)
    assert outcome.recovery is True


def test_other_measures_in_a_session_are_ignored():
    outcome = episode_outcome(
        [{"PHQ-9": 8, "GAD-7": 6, "CORE-10": 30}, {"PHQ-9": 7, "GAD-7": 6, "CORE-10": 5}]
    )
    assert outcome.caseness_at_start is False
    assert set(outcome.changes) == {"PHQ-9", "GAD-7"}


def test_a_session_total_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="PHQ-9 score 30"):
        episode_outcome([{"PHQ-9": 30, "GAD-7": 12}, {"PHQ-9": 5, "GAD-7": 5}])


# Reliable and clinically significant change on one measure


def test_change_is_last_minus_first_and_improvement_is_signed_by_direction():
    change = reliable_change("PHQ-9", 18, 11)
    assert change.change == -7
    assert change.improvement == 7
    assert change.rci == 6


@pytest.mark.parametrize(
    ("first", "last", "reliable", "significant"),
    [
        (17, 10, True, True),
        (17, 11, True, False),  # reliable, but 11 is still clinical
        (16, 10, True, True),  # a fall of exactly 6 counts
        (16, 11, False, False),  # a fall of 5 does not
        (12, 6, True, True),
        (10, 4, True, False),  # started on the non-clinical side
    ],
)
def test_core_10_clinically_significant_change_crosses_11(first, last, reliable, significant):
    change = reliable_change("CORE-10", first, last)
    assert change.reliable_improvement is reliable
    assert change.clinically_significant is significant


def test_core_10_reliable_deterioration_is_a_rise_of_6():
    assert reliable_change("CORE-10", 5, 11).reliable_deterioration is True
    assert reliable_change("CORE-10", 5, 10).reliable_deterioration is False


def test_gad7_change_uses_its_own_values():
    change = reliable_change("GAD-7", 12, 7)
    assert change.reliable_improvement is True
    assert change.clinically_significant is True
    assert reliable_change("GAD-7", 9, 6).reliable_improvement is False


def test_core_om_has_no_reliable_change_until_one_is_configured():
    change = reliable_change("CORE-OM", 18, 8)
    assert change.rci is None
    assert change.reliable_improvement is None
    assert change.reliable_deterioration is None
    assert change.clinically_significant is None


def test_core_om_reliable_change_from_a_configured_sd_and_reliability():
    rci = jacobson_truax(sd_pre=6.0, reliability=0.94)
    assert rci == pytest.approx(1.96 * math.sqrt(2) * 6.0 * math.sqrt(0.06))
    assert rci == pytest.approx(4.07, abs=0.01)
    change = reliable_change("CORE-OM", 16.0, 11.0, rci=rci)
    assert change.reliable_improvement is True
    assert change.clinically_significant is False  # 11 is still at or above 10
    assert reliable_change("CORE-OM", 16.0, 12.0, rci=rci).reliable_improvement is False
    assert reliable_change("CORE-OM", 14.0, 9.0, rci=rci).clinically_significant is True
    assert reliable_change("CORE-OM", 9.0, 14.0, rci=rci).reliable_deterioration is True


def test_wemwbs_improvement_is_a_rise():
    change = reliable_change("WEMWBS", 40, 45)
    assert change.change == 5
    assert change.improvement == 5
    assert change.reliable_improvement is None  # no published RCI
    assert change.meaningful_improvement is True
    assert change.meaningful_deterioration is False


@pytest.mark.parametrize(
    ("first", "last", "improvement", "deterioration"),
    [(40, 43, True, False), (40, 42, False, False), (43, 40, False, True)],
)
def test_wemwbs_meaningful_change_is_3_points(first, last, improvement, deterioration):
    change = reliable_change("WEMWBS", first, last)
    assert change.meaningful_improvement is improvement
    assert change.meaningful_deterioration is deterioration


@pytest.mark.parametrize(("code", "first", "last"), [("WEMWBS", 40, 48), ("SWEMWBS", 18.59, 26.02)])
def test_wellbeing_measures_improve_upwards_with_a_configured_rci(code, first, last):
    up = reliable_change(code, first, last, rci=5)
    assert (up.reliable_improvement, up.reliable_deterioration) == (True, False)
    down = reliable_change(code, last, first, rci=5)
    assert (down.reliable_improvement, down.reliable_deterioration) == (False, True)


def test_a_clinically_significant_rise_on_a_wellbeing_measure_crosses_the_cutoff_upwards():
    change = reliable_change("WEMWBS", 38, 48, rci=5, cutoff=44)
    assert change.clinically_significant is True
    assert reliable_change("WEMWBS", 45, 55, rci=5, cutoff=44).clinically_significant is False


def test_no_change_is_neither_improvement_nor_deterioration():
    change = reliable_change("PHQ-9", 12, 12)
    assert (change.reliable_improvement, change.reliable_deterioration) == (False, False)
    assert change.clinically_significant is False


@pytest.mark.parametrize(("first", "last"), [(28, 10), (10, -1)])
def test_reliable_change_rejects_scores_out_of_range(first, last):
    with pytest.raises(ValueError, match="PHQ-9 score"):
        reliable_change("PHQ-9", first, last)


def test_reliable_change_rejects_a_non_positive_rci():
    with pytest.raises(ValueError, match="must be above 0"):
        reliable_change("CORE-OM", 20, 10, rci=0)


# Jacobson & Truax helpers


def test_jacobson_truax_formulae():
    assert standard_error_of_measurement(7.5, 0.84) == pytest.approx(3.0)
    assert standard_error_of_difference(7.5, 0.84) == pytest.approx(3.0 * math.sqrt(2))
    assert jacobson_truax(7.5, 0.84) == pytest.approx(1.96 * 3.0 * math.sqrt(2))
    assert jacobson_truax(7.5, 0.84, z=1.645) == pytest.approx(1.645 * 3.0 * math.sqrt(2))
    assert reliable_change_statistic(20, 11, 7.5, 0.84) == pytest.approx(-9 / (3 * math.sqrt(2)))


@pytest.mark.parametrize(
    ("sd_pre", "reliability"), [(0, 0.9), (-1, 0.9), (5, 1), (5, -0.1), (5, 1.2)]
)
def test_jacobson_truax_rejects_impossible_inputs(sd_pre, reliability):
    with pytest.raises(ValueError, match="must be"):
        jacobson_truax(sd_pre, reliability)


def test_clinical_cutoff_c_weights_the_means_by_the_other_sd():
    # c = (SD0 * M1 + SD1 * M0) / (SD0 + SD1)
    assert clinical_cutoff(18, 6, 5, 4) == pytest.approx((4 * 18 + 6 * 5) / 10)


def test_clinical_cutoff_a_is_two_sds_toward_health():
    assert clinical_cutoff(18, 5) == 8
    assert clinical_cutoff(40, 6, improvement="increase") == 52


def test_clinical_cutoff_rejects_an_unknown_direction():
    with pytest.raises(ValueError, match="improvement must be one of"):
        clinical_cutoff(18, 5, improvement="down")
