"""Scoring rules of shared/spec/measures.md §0 to §6, one table row per rule. No database."""

# Error messages print ranges with an en dash (U+2013), so the expected strings do too.

import re

import pytest

from joinedup.measures import instruments
from joinedup.measures.scoring import (
    Score,
    check_main_score,
    classify,
    score,
    short_form_answers,
)


def positions_for(code: str, item_scores: list[int | None]) -> list[int | None]:
    """The answer positions that give each item the wanted score (reversed items mirrored)."""
    instrument = instruments.get(code)
    mirror = instrument.answer_min + instrument.answer_max
    return [
        None if wanted is None else (mirror - wanted if item.is_reversed else wanted)
        for item, wanted in zip(instrument.items, item_scores, strict=True)
    ]


def item_scores_summing_to(code: str, total: int) -> list[int]:
    """Item scores, filled from the first item, that add up to `total`."""
    instrument = instruments.get(code)
    low, high = instrument.answer_min, instrument.answer_max
    scores = [low] * instrument.item_count
    remaining = total - low * instrument.item_count
    for index in range(instrument.item_count):
        step = min(high - low, remaining)
        scores[index] += step
        remaining -= step
    assert remaining == 0, f"{code} cannot total {total}"
    return scores


def answers_totalling(code: str, total: int) -> list[int | None]:
    return positions_for(code, item_scores_summing_to(code, total))


def all_scoring(code: str, value: int) -> list[int | None]:
    return positions_for(code, [value] * instruments.get(code).item_count)


# Totals, bands and caseness


BAND_EDGES = [
    ("PHQ-9", 0, "minimal"),
    ("PHQ-9", 4, "minimal"),
    ("PHQ-9", 5, "mild"),
    ("PHQ-9", 9, "mild"),
    ("PHQ-9", 10, "moderate"),
    ("PHQ-9", 14, "moderate"),
    ("PHQ-9", 15, "moderately severe"),
    ("PHQ-9", 19, "moderately severe"),
    ("PHQ-9", 20, "severe"),
    ("PHQ-9", 27, "severe"),
    ("GAD-7", 0, "minimal"),
    ("GAD-7", 4, "minimal"),
    ("GAD-7", 5, "mild"),
    ("GAD-7", 9, "mild"),
    ("GAD-7", 10, "moderate"),
    ("GAD-7", 14, "moderate"),
    ("GAD-7", 15, "severe"),
    ("GAD-7", 21, "severe"),
    ("CORE-10", 0, "healthy"),
    ("CORE-10", 5, "healthy"),
    ("CORE-10", 6, "low"),
    ("CORE-10", 10, "low"),
    ("CORE-10", 11, "mild"),
    ("CORE-10", 14, "mild"),
    ("CORE-10", 15, "moderate"),
    ("CORE-10", 19, "moderate"),
    ("CORE-10", 20, "moderate-to-severe"),
    ("CORE-10", 24, "moderate-to-severe"),
    ("CORE-10", 25, "severe"),
    ("CORE-10", 40, "severe"),
]


@pytest.mark.parametrize(("code", "total", "band"), BAND_EDGES)
def test_each_band_edge_from_answers(code, total, band):
    result = score(code, answers_totalling(code, total))
    assert result.valid
    assert result.total == total
    assert result.main_score == total
    assert result.band == band


@pytest.mark.parametrize(("code", "total", "band"), BAND_EDGES)
def test_each_band_edge_of_an_imported_total(code, total, band):
    assert classify(code, total)[0] == band


@pytest.mark.parametrize(
    ("clinical_score", "band"),
    [
        (0, "healthy"),
        (5.99, "healthy"),
        (6, "low"),
        (9.99, "low"),
        (10, "mild"),
        (14.99, "mild"),
        (15, "moderate"),
        (19.99, "moderate"),
        (20, "moderate-to-severe"),
        (24.99, "moderate-to-severe"),
        (25, "severe"),
        (40, "severe"),
    ],
)
def test_each_core_om_band_edge_on_the_clinical_score(clinical_score, band):
    assert classify("CORE-OM", clinical_score)[0] == band


@pytest.mark.parametrize(
    ("item_score", "clinical_score", "band"),
    [(0, 0, "healthy"), (1, 10, "mild"), (2, 20, "moderate-to-severe"), (4, 40, "severe")],
)
def test_core_om_bands_follow_the_clinical_score_of_the_answers(item_score, clinical_score, band):
    result = score("CORE-OM", all_scoring("CORE-OM", item_score))
    assert result.clinical_score == clinical_score
    assert result.main_score == clinical_score
    assert result.band == band


def test_core_10_bands_use_the_unrounded_prorated_score():
    # Nine items scoring 1 and one missing: clinical score 10 exactly, "low".
    result = score("CORE-10", positions_for("CORE-10", [1] * 9 + [None]))
    assert result.total == 10
    assert result.band == "low"
    # Answered sum 10 over 9 items: 11.11, "mild" (rounding would not change it here).
    result = score("CORE-10", positions_for("CORE-10", [2, 1, 1, 1, 1, 1, 1, 1, 1, None]))
    assert result.total == pytest.approx(11.111, abs=1e-3)
    assert result.band == "mild"


CASENESS = [
    ("PHQ-9", 9, False),
    ("PHQ-9", 10, True),
    ("GAD-7", 7, False),
    ("GAD-7", 8, True),
    ("CORE-10", 10, False),
    ("CORE-10", 11, True),
    ("CORE-OM", 9.9, False),
    ("CORE-OM", 10, True),
    ("WEMWBS", 40, None),
    ("SWEMWBS", 20, None),
]


@pytest.mark.parametrize(("code", "main_score", "caseness"), CASENESS)
def test_caseness_cutoffs(code, main_score, caseness):
    assert classify(code, main_score)[1] is caseness


@pytest.mark.parametrize(
    ("code", "total", "caseness"),
    [
        ("PHQ-9", 9, False),
        ("PHQ-9", 10, True),
        ("GAD-7", 7, False),
        ("GAD-7", 8, True),
        ("CORE-10", 10, False),
        ("CORE-10", 11, True),
    ],
)
def test_caseness_from_answers(code, total, caseness):
    assert score(code, answers_totalling(code, total)).caseness is caseness


def test_gad7_caseness_is_the_talking_therapies_8_not_the_authors_10():
    result = score("GAD-7", answers_totalling("GAD-7", 8))
    assert (result.band, result.caseness) == ("mild", True)


def test_phq9_total_is_the_plain_sum():
    result = score("PHQ-9", [1, 2, 1, 0, 3, 1, 0, 2, 1])
    assert result == Score(
        code="PHQ-9",
        valid=True,
        main_score=11,
        total=11,
        prorated=False,
        band="moderate",
        caseness=True,
        risk=True,
        risk_unanswered=False,
    )


def test_wemwbs_total_is_the_sum_of_1_to_5_answers_without_bands():
    result = score("WEMWBS", [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4])
    assert (result.total, result.main_score) == (40, 40)
    assert (result.band, result.caseness) == (None, None)
    assert score("WEMWBS", [1] * 14).total == 14
    assert score("WEMWBS", [5] * 14).total == 70


@pytest.mark.parametrize(
    ("code", "field"),
    [
        ("PHQ-9", "total"),
        ("GAD-7", "total"),
        ("CORE-10", "total"),
        ("CORE-OM", "clinical_score"),
        ("WEMWBS", "total"),
        ("SWEMWBS", "metric_score"),
    ],
)
def test_main_score_is_the_score_the_spec_bands(code, field):
    instrument = instruments.get(code)
    result = score(code, [instrument.answer_max - 1] * instrument.item_count)
    assert result.main_score == getattr(result, field)


@pytest.mark.parametrize(
    ("code", "has_mean", "has_clinical", "has_metric"),
    [
        ("PHQ-9", False, False, False),
        ("GAD-7", False, False, False),
        ("CORE-10", True, True, False),
        ("CORE-OM", True, True, False),
        ("WEMWBS", False, False, False),
        ("SWEMWBS", False, False, True),
    ],
)
def test_each_measure_gives_only_its_own_scores(code, has_mean, has_clinical, has_metric):
    instrument = instruments.get(code)
    result = score(code, [instrument.answer_min] * instrument.item_count)
    assert (result.mean is not None) is has_mean
    assert (result.clinical_score is not None) is has_clinical
    assert (result.metric_score is not None) is has_metric
    assert (result.raw_score is not None) is has_metric


# CORE scores and reverse-scoring


def test_core_10_clinical_score_equals_the_sum_when_complete():
    result = score("CORE-10", [3, 1, 0, 2, 4, 0, 1, 2, 3, 4])
    # Items 2 and 3 are reversed: 1 scores 3 and 0 scores 4.
    assert result.total == result.clinical_score == 3 + 3 + 4 + 2 + 4 + 0 + 1 + 2 + 3 + 4
    assert result.mean == pytest.approx(2.6)


def test_core_10_all_not_at_all_scores_8_from_the_two_reversed_items():
    assert score("CORE-10", [0] * 10).total == 8


@pytest.mark.parametrize("number", range(1, 11))
def test_core_10_reverse_scored_items_are_2_and_3(number):
    answers = all_scoring("CORE-10", 0)
    answers[number - 1] = 0
    expected = 4 if number in (2, 3) else 0
    assert score("CORE-10", answers).total == expected


@pytest.mark.parametrize("position", range(5))
def test_core_10_reversed_item_scores_4_minus_the_position(position):
    answers = all_scoring("CORE-10", 0)
    answers[1] = position
    assert score("CORE-10", answers).total == 4 - position


@pytest.mark.parametrize("number", range(1, 35))
def test_core_om_reverse_scored_items_are_3_4_7_12_19_21_31_32(number):
    answers = all_scoring("CORE-OM", 0)
    answers[number - 1] = 0
    expected_sum = 4 if number in (3, 4, 7, 12, 19, 21, 31, 32) else 0
    assert score("CORE-OM", answers).total == expected_sum


def test_core_om_item_30_is_scored_as_answered():
    answers = all_scoring("CORE-OM", 0)
    answers[29] = 3
    assert score("CORE-OM", answers).total == 3
    answers = all_scoring("CORE-OM", 0)
    answers[31] = 1
    assert score("CORE-OM", answers).total == 3


def test_core_om_total_mean_and_clinical_score():
    item_scores = [2] * 17 + [1] * 17
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert result.total == 51
    assert result.mean == pytest.approx(1.5)
    assert result.clinical_score == pytest.approx(15)
    assert result.band == "moderate"


def test_core_om_domain_means():
    item_scores = [0] * 34
    for number in (4, 14, 17, 31):  # W
        item_scores[number - 1] = 4
    for number in (6, 9, 16, 22, 24, 34):  # R
        item_scores[number - 1] = 1
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert result.subscales == {
        "W": 4,
        "P": 0,
        "F": 0,
        "R": 1,
        "non_risk": pytest.approx(16 / 28),
    }


# Missing items


@pytest.mark.parametrize(
    ("code", "missing", "valid"),
    [
        ("PHQ-9", 1, True),
        ("PHQ-9", 2, True),
        ("PHQ-9", 3, False),
        ("GAD-7", 1, False),
        ("CORE-10", 1, True),
        ("CORE-10", 2, False),
        ("CORE-OM", 3, True),
        ("CORE-OM", 4, False),
        ("WEMWBS", 1, False),
        ("SWEMWBS", 1, False),
    ],
)
def test_missing_item_limits(code, missing, valid):
    instrument = instruments.get(code)
    answers: list[int | None] = [instrument.answer_min + 1] * instrument.item_count
    # Leave out the first non-risk items, so risk plays no part.
    blanks = [item.number for item in instrument.items if not item.risk][:missing]
    for number in blanks:
        answers[number - 1] = None
    result = score(code, answers)
    assert result.valid is valid
    assert result.prorated is valid
    assert result.missing_items == tuple(blanks)
    if not valid:
        assert result.total is None
        assert result.main_score is None
        assert result.band is None
        assert result.caseness is None
        assert result.mean is None
        assert result.clinical_score is None
        assert result.metric_score is None


def test_complete_answers_are_not_prorated():
    assert score("CORE-10", [1] * 10).prorated is False


def test_core_10_prorates_one_missing_item_with_the_mean_of_the_others():
    result = score("CORE-10", positions_for("CORE-10", [None, 3, 3, 3, 3, 2, 2, 2, 2, 2]))
    assert result.prorated
    assert result.mean == pytest.approx(22 / 9)
    assert result.total == pytest.approx(220 / 9)
    assert result.clinical_score == pytest.approx(220 / 9)


def test_core_10_two_missing_items_are_invalid():
    result = score("CORE-10", positions_for("CORE-10", [None, None, 3, 3, 3, 2, 2, 2, 2, 2]))
    assert not result.valid
    assert result.total is None


def test_phq9_prorates_up_to_two_missing_items():
    result = score("PHQ-9", [3, 3, 3, 0, 0, 0, 1, None, None])
    assert result.prorated
    assert result.total == pytest.approx(10 / 7 * 9)
    assert result.band == "moderate"


def test_core_om_prorates_three_missing_items():
    item_scores: list[int | None] = [2] * 34
    for number in (1, 2, 5):  # one F, two P: P is then too incomplete
        item_scores[number - 1] = None
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert result.valid
    assert result.prorated
    assert result.total == 68
    assert result.clinical_score == 20
    assert result.subscales["P"] is None
    assert result.subscales["F"] == 2


def test_swemwbs_missing_item_gives_no_metric_score():
    result = score("SWEMWBS", [3, 3, 3, 3, 3, 3, None])
    assert not result.valid
    assert (result.raw_score, result.metric_score, result.main_score) == (None, None, None)


@pytest.mark.parametrize(
    ("domain", "missing_numbers", "mean"),
    [
        ("W", [], 2),
        ("W", [4], None),
        ("R", [], 1),
        ("R", [16], None),
        ("P", [2], 2),
        ("P", [2, 5], None),
        ("F", [1], 2),
        ("F", [1, 3], None),
        ("non_risk", [1, 2, 4], 2),
    ],
)
def test_core_om_domain_missing_limits(domain, missing_numbers, mean):
    item_scores: list[int | None] = [2] * 34
    for number in (6, 9, 16, 22, 24, 34):
        item_scores[number - 1] = 1
    for number in missing_numbers:
        item_scores[number - 1] = None
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert result.subscales[domain] == mean


def test_core_om_non_risk_allows_three_missing_but_not_four():
    item_scores: list[int | None] = [2] * 34
    for number in (1, 2, 4, 5):
        item_scores[number - 1] = None
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert result.subscales["non_risk"] is None
    assert not result.valid


def test_core_om_domain_is_none_while_the_overall_score_is_valid():
    item_scores: list[int | None] = [2] * 34
    item_scores[13] = None  # item 14, wellbeing
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert result.valid
    assert result.clinical_score == 20
    assert result.subscales["W"] is None
    assert result.subscales["P"] == 2


def test_core_om_domains_are_scored_while_the_overall_score_is_invalid():
    item_scores: list[int | None] = [2] * 34
    for number in (6, 9, 16, 22):  # four risk items
        item_scores[number - 1] = None
    result = score("CORE-OM", positions_for("CORE-OM", item_scores))
    assert not result.valid
    assert result.subscales == {"W": 2, "P": 2, "F": 2, "R": None, "non_risk": 2}


# Risk


@pytest.mark.parametrize(("position", "risk"), [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_item_9_is_positive_from_several_days(position, risk):
    answers = [0] * 8 + [position]
    assert score("PHQ-9", answers).risk is risk


def test_phq9_other_items_never_set_risk():
    result = score("PHQ-9", [3] * 8 + [0])
    assert result.risk is False
    assert (result.risk_to_self, result.risk_to_others) == (None, None)


@pytest.mark.parametrize(("position", "risk"), [(0, False), (1, True), (4, True)])
def test_core_10_item_6_is_the_risk_item(position, risk):
    answers = all_scoring("CORE-10", 0)
    answers[5] = position
    assert score("CORE-10", answers).risk is risk


def test_core_10_other_items_never_set_risk():
    answers = all_scoring("CORE-10", 4)
    answers[5] = 0
    assert score("CORE-10", answers).risk is False


@pytest.mark.parametrize(
    ("number", "to_self", "to_others"),
    [
        (6, False, True),
        (9, True, False),
        (16, True, False),
        (22, False, True),
        (24, True, False),
        (34, True, False),
    ],
)
def test_core_om_risk_items_and_whom_they_concern(number, to_self, to_others):
    answers = all_scoring("CORE-OM", 0)
    answers[number - 1] = 1
    result = score("CORE-OM", answers)
    assert result.risk is True
    assert (result.risk_to_self, result.risk_to_others) == (to_self, to_others)


def test_core_om_without_risk_answers_reports_no_risk_of_either_kind():
    result = score("CORE-OM", all_scoring("CORE-OM", 0))
    assert (result.risk, result.risk_to_self, result.risk_to_others) == (False, False, False)


def test_core_om_non_risk_items_never_set_risk():
    item_scores = [4] * 34
    for number in (6, 9, 16, 22, 24, 34):
        item_scores[number - 1] = 0
    assert score("CORE-OM", positions_for("CORE-OM", item_scores)).risk is False


@pytest.mark.parametrize(("code", "number"), [("PHQ-9", 9), ("CORE-10", 6), ("CORE-OM", 9)])
def test_an_unanswered_risk_item_is_not_risk_but_is_reported(code, number):
    answers = all_scoring(code, 0)
    answers[number - 1] = None
    result = score(code, answers)
    assert result.risk is False
    assert result.risk_unanswered is True
    assert result.valid


def test_answered_risk_items_are_not_reported_unanswered():
    assert score("PHQ-9", [0] * 9).risk_unanswered is False


def test_measures_without_risk_items_never_report_risk():
    for code in ("GAD-7", "WEMWBS", "SWEMWBS"):
        instrument = instruments.get(code)
        result = score(code, [None] + [instrument.answer_max] * (instrument.item_count - 1))
        assert (result.risk, result.risk_unanswered) == (False, False)


def test_risk_is_reported_when_the_score_is_invalid():
    result = score("PHQ-9", [None, None, None, 0, 0, 0, 0, 0, 2])
    assert not result.valid
    assert result.risk is True


# SWEMWBS conversion

SWEMWBS_TABLE = {
    7: 7.00,
    8: 9.51,
    9: 11.25,
    10: 12.40,
    11: 13.33,
    12: 14.08,
    13: 14.75,
    14: 15.32,
    15: 15.84,
    16: 16.36,
    17: 16.88,
    18: 17.43,
    19: 17.98,
    20: 18.59,
    21: 19.25,
    22: 19.98,
    23: 20.73,
    24: 21.54,
    25: 22.35,
    26: 23.21,
    27: 24.11,
    28: 25.03,
    29: 26.02,
    30: 27.03,
    31: 28.13,
    32: 29.31,
    33: 30.70,
    34: 32.55,
    35: 35.00,
}


@pytest.mark.parametrize(("raw", "metric"), sorted(SWEMWBS_TABLE.items()))
def test_swemwbs_raw_score_converts_to_the_metric_score(raw, metric):
    result = score("SWEMWBS", answers_totalling("SWEMWBS", raw))
    assert result.raw_score == raw
    assert result.total == raw
    assert result.metric_score == metric
    assert result.main_score == metric


def test_swemwbs_takes_wemwbs_items_1_2_3_6_7_9_11():
    wemwbs_answers = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4]
    assert short_form_answers("SWEMWBS", wemwbs_answers) == [1, 2, 3, 1, 2, 4, 1]


def test_short_form_answers_needs_a_short_form():
    with pytest.raises(ValueError, match="PHQ-9 is not a short form"):
        short_form_answers("PHQ-9", [0] * 9)


# Bad input


@pytest.mark.parametrize(
    ("code", "answers", "message"),
    [
        ("PHQ-9", [0] * 8 + [4], "PHQ-9 item 9: 4 is not one of 0–3"),
        ("PHQ-9", [-1] + [0] * 8, "PHQ-9 item 1: -1 is not one of 0–3"),
        ("GAD-7", [0, 0, 1.5, 0, 0, 0, 0], "GAD-7 item 3: 1.5 is not one of 0–3"),
        ("GAD-7", [0, 0, 0, "2", 0, 0, 0], "GAD-7 item 4: '2' is not one of 0–3"),
        ("GAD-7", [0, 0, 0, 0, True, 0, 0], "GAD-7 item 5: True is not one of 0–3"),
        ("CORE-10", [0] * 9 + [5], "CORE-10 item 10: 5 is not one of 0–4"),
        ("WEMWBS", [0] + [3] * 13, "WEMWBS item 1: 0 is not one of 1–5"),
        ("SWEMWBS", [3] * 6 + [6], "SWEMWBS item 7: 6 is not one of 1–5"),
        (
            "PHQ-9",
            [0] * 8,
            "PHQ-9 has 9 items; got 8 answers: item 9 is missing (use None for an unanswered item)",
        ),
        ("PHQ-9", [0] * 10, "PHQ-9 has 9 items; got 10 answers: item 10 is not part of PHQ-9"),
        ("GAD-7", "0000000", "GAD-7 answers must be a list"),
        ("GAD-7", None, "GAD-7 answers must be a list"),
    ],
)
def test_bad_answers_raise_value_error_naming_the_item(code, answers, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        score(code, answers)


def test_unknown_measure_raises_value_error():
    with pytest.raises(ValueError, match="Unknown measure 'HADS'"):
        score("HADS", [0] * 14)


def test_answers_may_be_a_tuple():
    assert score("GAD-7", (1, 1, 1, 1, 1, 1, 1)).total == 7


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("PHQ-9", 28),
        ("PHQ-9", -1),
        ("GAD-7", 21.5),
        ("CORE-10", 41),
        ("CORE-OM", 136),
        ("WEMWBS", 13),
        ("SWEMWBS", 6.99),
        ("PHQ-9", "12"),
        ("PHQ-9", True),
        ("PHQ-9", None),
    ],
)
def test_a_stated_score_outside_the_range_is_rejected(code, value):
    with pytest.raises(ValueError, match=re.escape(f"{code} score {value!r} is not within")):
        check_main_score(code, value)
    with pytest.raises(ValueError, match=re.escape(f"{code} score")):
        classify(code, value)


def test_a_stated_score_range_message_shows_the_range():
    with pytest.raises(ValueError, match=re.escape("PHQ-9 score 28 is not within 0–27")):
        check_main_score("PHQ-9", 28)


@pytest.mark.parametrize(
    ("code", "value"),
    [("PHQ-9", 0), ("PHQ-9", 27), ("CORE-OM", 40), ("WEMWBS", 14), ("SWEMWBS", 35.0)],
)
def test_a_stated_score_at_either_end_of_the_range_is_accepted(code, value):
    check_main_score(code, value)
