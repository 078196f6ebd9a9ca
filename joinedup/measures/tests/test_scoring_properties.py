"""Properties of the scorer over random answers (shared/spec/measures.md §0 to §6). No database."""

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joinedup.measures import instruments
from joinedup.measures.instruments import CODES
from joinedup.measures.scoring import score

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None)
WITHOUT_REVERSED_ITEMS = [code for code in CODES if not instruments.get(code).reversed_items]
# The SWEMWBS conversion table is not symmetric about its midpoint, so mirroring answers
# does not mirror the metric score.
MIRRORED_BY_ANSWERS = [code for code in CODES if code != "SWEMWBS"]
CORE = ("CORE-10", "CORE-OM")


@st.composite
def answer_lists(draw, code: str, *, max_missing: int | None = None):
    """Answers to `code` with at most `max_missing` blanks (the measure's limit by default)."""
    instrument = instruments.get(code)
    count = instrument.item_count
    limit = instrument.max_missing if max_missing is None else max_missing
    answers: list[int | None] = draw(
        st.lists(
            st.integers(instrument.answer_min, instrument.answer_max),
            min_size=count,
            max_size=count,
        )
    )
    blanks = draw(st.sets(st.integers(0, count - 1), max_size=limit))
    for index in blanks:
        answers[index] = None
    return answers


def _scored(code: str, answers: list[int | None]) -> list[int]:
    instrument = instruments.get(code)
    return [
        instrument.item_score(item, answer)
        for item, answer in zip(instrument.items, answers, strict=True)
        if answer is not None
    ]


@pytest.mark.parametrize("code", WITHOUT_REVERSED_ITEMS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_raising_one_answer_never_lowers_the_score(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code))
    raisable = [i for i, a in enumerate(answers) if a is not None and a < instrument.answer_max]
    if not raisable:
        return
    index = data.draw(st.sampled_from(raisable))
    raised = list(answers)
    raised[index] = data.draw(st.integers(answers[index] + 1, instrument.answer_max))
    before, after = score(code, answers), score(code, raised)
    assert after.total >= before.total
    assert after.main_score >= before.main_score


@pytest.mark.parametrize("code", CODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_raising_one_item_score_never_lowers_the_score(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code))
    answered = [i for i, a in enumerate(answers) if a is not None]
    index = data.draw(st.sampled_from(answered))
    item = instrument.items[index]
    raised = list(answers)
    # On a reversed item a lower position is a higher score.
    step = -1 if item.is_reversed else 1
    moved = answers[index] + step
    if not instrument.answer_min <= moved <= instrument.answer_max:
        return
    raised[index] = moved
    assert score(code, raised).main_score >= score(code, answers).main_score


@pytest.mark.parametrize("code", CODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_valid_prorated_score_stays_in_range(code, data):
    instrument = instruments.get(code)
    result = score(code, data.draw(answer_lists(code)))
    assert result.valid
    assert instrument.score_min <= result.main_score <= instrument.score_max
    count = instrument.item_count
    assert count * instrument.answer_min <= result.total <= count * instrument.answer_max
    if instrument.bands:
        assert result.band is not None
    if result.mean is not None:
        assert instrument.answer_min <= result.mean <= instrument.answer_max


@pytest.mark.parametrize("code", CODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_validity_follows_the_missing_item_limit(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code, max_missing=instrument.item_count))
    result = score(code, answers)
    missing = answers.count(None)
    assert result.valid is (missing <= instrument.max_missing)
    assert result.prorated is (result.valid and missing > 0)
    assert (result.main_score is None) is not result.valid


@pytest.mark.parametrize("code", MIRRORED_BY_ANSWERS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_mirroring_every_answer_mirrors_the_score(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code))
    mirror = instrument.answer_min + instrument.answer_max
    mirrored = [None if a is None else mirror - a for a in answers]
    expected = instrument.score_min + instrument.score_max - score(code, answers).main_score
    assert score(code, mirrored).main_score == pytest.approx(expected)


@pytest.mark.parametrize("code", CORE)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_reversed_item_scores_4_minus_its_position(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code, max_missing=0))
    # Flipping the reversed items' answers undoes the scorer's own reversal, so the total
    # becomes the plain sum of the positions.
    flipped = [
        4 - answer if item.is_reversed else answer
        for item, answer in zip(instrument.items, answers, strict=True)
    ]
    assert score(code, flipped).total == sum(answers)


@pytest.mark.parametrize("code", CORE)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_prorated_core_mean_is_the_mean_of_the_answered_scored_items(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code))
    result = score(code, answers)
    mean = statistics.fmean(_scored(code, answers))
    assert result.mean == pytest.approx(mean)
    assert result.clinical_score == pytest.approx(mean * 10)
    assert result.total == pytest.approx(mean * instrument.item_count)


@pytest.mark.parametrize("code", ["PHQ-9", "CORE-10", "CORE-OM"])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_prorated_total_is_the_answered_mean_times_the_item_count(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code))
    expected = statistics.fmean(_scored(code, answers)) * instrument.item_count
    assert score(code, answers).total == pytest.approx(expected)


@pytest.mark.parametrize("code", CODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_risk_is_a_positive_answered_risk_item(code, data):
    instrument = instruments.get(code)
    answers = data.draw(answer_lists(code, max_missing=instrument.item_count))
    risk_answers = [
        answer for item, answer in zip(instrument.items, answers, strict=True) if item.risk
    ]
    result = score(code, answers)
    assert result.risk is any(a is not None and a >= 1 for a in risk_answers)
    assert result.risk_unanswered is (None in risk_answers)


@PROPERTY_SETTINGS
@given(answers=answer_lists("CORE-OM", max_missing=34))
def test_core_om_domains_follow_their_own_missing_limits(answers):
    instrument = instruments.get("CORE-OM")
    result = score("CORE-OM", answers)
    for subscale in instrument.subscales:
        values = [answers[number - 1] for number in subscale.items]
        too_many_missing = values.count(None) > subscale.max_missing
        assert (result.subscales[subscale.code] is None) is too_many_missing
        if not too_many_missing:
            assert 0 <= result.subscales[subscale.code] <= 4
