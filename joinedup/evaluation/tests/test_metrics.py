"""The report's metrics against hand-computed expectations. No database."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import AppointmentRow, EpisodeRow, ReferralRow

S1, S2, TT = 1, 2, 3


def referral(student, to, sent, *, first=None, treated=None, state="accepted", source="self",
             from_service=None, reason=""):  # fmt: skip
    return ReferralRow(student, source, from_service, to, state, reason, sent, first, treated)


@pytest.mark.parametrize(
    ("percentile", "value"), [(5, 15), (30, 20), (40, 20), (50, 35), (75, 40), (100, 50)]
)
def test_nearest_rank_percentile_is_always_one_of_the_values(percentile, value):
    # The worked example of the nearest-rank method: {15, 20, 35, 40, 50}.
    assert metrics.nearest_rank([15, 20, 35, 40, 50], percentile) == value


def test_nearest_rank_of_nothing_is_none_and_of_one_value_is_that_value():
    assert metrics.nearest_rank([], 50) is None
    assert metrics.nearest_rank([12], 95) == 12


@pytest.mark.parametrize(
    ("on", "band"),
    [
        (dt.date(2021, 5, 16), "Under 18"),
        (dt.date(2022, 5, 17), "18 to 20"),
        (dt.date(2025, 5, 16), "18 to 20"),  # the day before the 21st birthday
        (dt.date(2025, 5, 17), "21 to 24"),
        (dt.date(2034, 5, 17), "30 to 39"),
        (dt.date(2050, 1, 1), "40 and over"),
    ],
)
def test_age_band_counts_whole_years_at_the_date(on, band):
    assert metrics.age_band(dt.date(2004, 5, 17), on) == band


def test_waiting_times_percentiles_standards_and_still_waiting():
    rows = [
        referral(1, S1, 100, first=110, treated=130),  # 10 and 30 days
        referral(2, S1, 100, first=120),  # seen at 20 days, still waiting for treatment
        referral(3, TT, 100, first=103, treated=150),  # 3 and 50 days
        referral(4, S1, 100, state="sent"),  # not yet decided: still waiting
        referral(5, S1, 100, state="declined", reason="not_eligible"),  # not waiting
    ]
    waiting = metrics.waiting(rows, {S1: 14, TT: 42}, frozenset({TT}), today=200)

    assert waiting.to_first_contact.count == 3
    assert waiting.to_first_contact.percentiles == {50: 10, 75: 20, 95: 20}
    assert waiting.to_treatment.percentiles == {50: 30, 75: 50, 95: 50}
    # 10 days within 14; 20 days not; 3 days within the Talking Therapies service's 42
    assert (waiting.within_standard, waiting.with_standard) == (2, 3)
    # treatment at 50 days: not within 6 weeks, within 18 weeks
    assert waiting.talking_therapies_started == 1
    assert waiting.talking_therapies_within == (0, 1)
    assert waiting.still_waiting.count == 2
    assert waiting.still_waiting.students == 2
    assert waiting.still_waiting.percentiles[50] == 100


def test_waiting_bands_put_every_wait_in_one_band():
    rows = [referral(i, S1, 0, first=wait) for i, wait in enumerate([0, 13, 14, 41, 42, 200])]
    bands = metrics.waiting(rows, {}, frozenset(), today=300).to_first_contact.bands
    assert bands == (2, 1, 1, 1, 0, 1)


def test_activity_counts_sources_outcomes_and_distinct_students():
    rows = [
        referral(1, S1, 0, source="self"),
        referral(1, S1, 5, source="gp", state="declined", reason="out_of_area"),
        referral(2, S1, 0, source="service", from_service=S2, state="withdrawn"),
        referral(3, S1, 0, source="academic", state="sent"),
        referral(4, S1, 0, source="service", from_service=S2, state="discharged"),
        referral(5, S2, 0, source="service", from_service=S1),  # not received by S1
    ]
    activity = metrics.activity(rows, frozenset({S1}))
    assert (activity.referrals, activity.students) == (5, 4)
    assert activity.by_source == {"self": 1, "gp": 1, "service": 2, "academic": 1}
    assert activity.from_services == {S2: 2}
    assert activity.by_outcome == {"accepted": 2, "declined": 1, "withdrawn": 1, "open": 1}
    assert activity.declined_by_reason == {"out_of_area": 1}
    flows = metrics.flows(rows, frozenset({S1}))
    assert flows == {(S2, S1): {2, 4}, (S1, S2): {5}}


def test_missed_appointments_are_a_share_of_appointments_not_of_students():
    rows = [AppointmentRow(1, S1, 3, 1), AppointmentRow(2, S1, 0, 2), AppointmentRow(3, S1, 0, 0)]
    result = metrics.appointments(rows)
    assert (result.attended, result.missed, result.offered, result.students) == (3, 3, 6, 2)


def test_endings_are_counted_per_episode():
    rows = [EpisodeRow(1, S1, "planned", 2), EpisodeRow(1, S1, "unplanned", 0),
            EpisodeRow(2, S1, "unplanned", 1)]  # fmt: skip
    assert metrics.endings(rows) == metrics.Endings(ended=3, planned=1, unplanned=2, students=2)


def test_outcomes_on_one_measure_by_hand():
    rows = [
        EpisodeRow(1, S1, "planned", 3, {"PHQ-9": (20, 8, 3)}),  # -12: improved, recovered
        EpisodeRow(2, S1, "planned", 3, {"PHQ-9": (12, 10, 2)}),  # -2: no reliable change
        EpisodeRow(3, S1, "planned", 3, {"PHQ-9": (6, 14, 2)}),  # +8: deteriorated
        EpisodeRow(4, S1, "unplanned", 1, {"PHQ-9": (15, 15, 1)}),  # one score: no pair
        EpisodeRow(5, S1, "unplanned", 0, {}),  # no scores at all
    ]
    outcome = metrics.measure_outcome(rows, "PHQ-9", asked_by=frozenset({S1}))
    assert (outcome.ended, outcome.paired, outcome.not_available) == (5, 3, 2)
    assert outcome.mean_first == pytest.approx(38 / 3)
    assert outcome.mean_last == pytest.approx(32 / 3)
    # SD of 20, 12, 6 (n - 1): sqrt(98.667 / 2) = 7.0238; mean change -2
    assert outcome.effect_size == pytest.approx(-2 / 7.023769, abs=1e-5)
    assert (outcome.reliable_improvement, outcome.no_reliable_change,
            outcome.reliable_deterioration) == (1, 1, 1)  # fmt: skip
    assert (outcome.case_at_start, outcome.recovery, outcome.reliable_recovery) == (2, 1, 1)
    assert outcome.clinically_significant == 1


def test_a_measure_reports_on_the_endings_of_episodes_it_was_asked_of():
    rows = [
        EpisodeRow(1, S1, "planned", 3, {"PHQ-9": (20, 8, 3)}),
        EpisodeRow(2, S1, "unplanned", 0, {}),  # S1 asks for the PHQ-9: not available
        EpisodeRow(3, S2, "planned", 3, {"CORE-10": (20, 8, 3)}),  # S2 never asks for it
        EpisodeRow(4, S2, "unplanned", 1, {"PHQ-9": (15, 15, 1)}),  # but asked this once
    ]
    outcome = metrics.measure_outcome(rows, "PHQ-9", asked_by=frozenset({S1}))
    assert (outcome.ended, outcome.paired, outcome.not_available) == (3, 1, 2)
    nobody_asks = metrics.measure_outcome(rows, "PHQ-9")
    assert (nobody_asks.ended, nobody_asks.paired, nobody_asks.not_available) == (2, 1, 1)


def test_outcomes_with_no_paired_scores_report_every_ending_as_not_available():
    rows = [EpisodeRow(1, S1, "unplanned", 0, {"GAD-7": (9, 9, 1)})]
    outcome = metrics.measure_outcome(rows, "GAD-7")
    assert (outcome.paired, outcome.not_available) == (0, 1)
    assert outcome.mean_first is None
    assert outcome.effect_size is None
    assert (outcome.reliable_improvement, outcome.case_at_start) == (0, 0)


def test_a_single_student_has_no_effect_size():
    outcome = metrics.measure_outcome([EpisodeRow(1, S1, "planned", 2, {"PHQ-9": (20, 8, 2)})],
                                      "PHQ-9")  # fmt: skip
    assert outcome.paired == 1
    assert outcome.effect_size is None


def test_a_measure_without_reliable_change_index_leaves_those_figures_undefined():
    outcome = metrics.measure_outcome([EpisodeRow(1, S1, "planned", 2, {"WEMWBS": (40, 50, 2)})],
                                      "WEMWBS")  # fmt: skip
    assert outcome.paired == 1
    assert outcome.reliable_improvement is None
    assert outcome.recovery is None


def test_talking_therapies_outcomes_by_hand():
    rows = [
        # finished, a case, both measures fall reliably, below both cut-offs at the end
        EpisodeRow(1, TT, "planned", 3, {"PHQ-9": (15, 6, 4), "GAD-7": (12, 5, 4)}),
        # one attended treatment appointment: not finished
        EpisodeRow(2, TT, "unplanned", 1, {"PHQ-9": (15, 6, 2), "GAD-7": (12, 5, 2)}),
        # finished but the GAD-7 has no pair
        EpisodeRow(3, TT, "planned", 2, {"PHQ-9": (15, 6, 2), "GAD-7": (12, 12, 1)}),
        # finished, not a case at the start: in the improvement denominator only
        EpisodeRow(4, TT, "planned", 2, {"PHQ-9": (8, 7, 2), "GAD-7": (6, 5, 2)}),
    ]
    result = metrics.talking_therapies(rows)
    assert (result.ended, result.finished, result.eligible, result.not_available) == (4, 3, 2, 2)
    assert (result.case_at_start, result.recovery, result.reliable_recovery) == (1, 1, 1)
    assert (result.reliable_improvement, result.reliable_deterioration) == (1, 0)


def test_talking_therapies_flags_come_from_the_measures_rules():
    # One measure improves reliably and the other deteriorates: deterioration wins (CORC).
    outcome = metrics.talking_therapies_episode(
        EpisodeRow(1, TT, "planned", 5, {"PHQ-9": (20, 10, 5), "GAD-7": (5, 12, 5)})
    )
    assert outcome.reliable_deterioration is True
    assert outcome.reliable_improvement is False


@given(
    attended=st.integers(0, 4),
    phq=st.one_of(st.none(), st.tuples(st.integers(0, 27), st.integers(0, 27), st.integers(1, 3))),
    gad=st.one_of(st.none(), st.tuples(st.integers(0, 21), st.integers(0, 21), st.integers(1, 3))),
)
def test_counting_talking_therapies_outcomes_agrees_with_the_measures_rule(attended, phq, gad):
    scores = {code: value for code, value in (("PHQ-9", phq), ("GAD-7", gad)) if value}
    row = EpisodeRow(1, TT, "planned", attended, scores)
    outcome = metrics.talking_therapies_episode(row)
    counted = metrics.talking_therapies([row])
    assert counted.finished == outcome.finished_treatment
    assert counted.eligible == (outcome.reliable_improvement is not None)
    assert counted.reliable_improvement == bool(outcome.reliable_improvement)
    assert counted.recovery == bool(outcome.recovery)
    assert counted.reliable_recovery == bool(outcome.reliable_recovery)
