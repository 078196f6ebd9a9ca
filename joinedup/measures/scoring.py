"""Scoring questionnaires, exactly as `shared/spec/measures.md` §0 to §6 says. No database.

Usage without Django or a database::

    >>> from joinedup.measures.scoring import score, classify
    >>> result = score("PHQ-9", [1, 2, 1, 0, 3, 1, 0, 2, 1])
    >>> result.total, result.band, result.caseness, result.risk
    (11.0, 'moderate', True, True)
    >>> classify("GAD-7", 8)  # an imported total: (band, caseness)
    ('mild', True)

`score(code, answers)` takes one answer per item, in item order. An answer is the position of
the chosen option in the printed list (CORE "Not at all" = 0, WEMWBS "None of the time" = 1);
`None` means unanswered. The scorer applies reverse-scoring itself, so callers never reverse an
answer first. A list of the wrong length, or an answer that is not one of the positions, raises
ValueError naming the item and the allowed positions.

The result is a `Score`. `main_score` is the score that bands, caseness, reliable change and
charts use: the total for the PHQ-9, GAD-7, CORE-10 and WEMWBS, the clinical score for the
CORE-OM and the metric score for the SWEMWBS. Prorated scores are kept unrounded; round them
only to show them. Risk is reported whether or not the score is valid.

`classify(code, main_score)` bands and classifies a total recorded elsewhere, and
`check_main_score(code, value)` rejects one outside the measure's range. Never trust a stated
total when the answers are available: recompute it (spec §9).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from joinedup.measures import instruments
from joinedup.measures.instruments import CLINICAL_SCORE_FACTOR, Instrument, format_range


@dataclass(frozen=True)
class Score:
    """The result of scoring one completed questionnaire.

    `total`: the sum of the scored items, prorated (mean of the answered items times the
    number of items) when the missing-item rule allows; for the CORE-10 this equals the
    clinical score and for the CORE-OM it is the mean times 34. `mean`: the item mean (0 to 4,
    CORE only). `clinical_score`: the mean times 10 (CORE only). `raw_score` and
    `metric_score`: the SWEMWBS raw sum and its Rasch conversion. Every score is None when
    `valid` is false.

    `risk` is true when a risk item has a positive answer; `risk_unanswered` when a risk item
    was left blank (follow it up). `risk_to_self`/`risk_to_others` are given for the CORE-OM.
    `subscales` maps CORE-OM domain codes (W, P, F, R, non_risk) to domain means (0 to 4), None
    when the domain has too many missing items; a domain can be valid while the whole score is
    not, and the reverse. `missing_items` lists the unanswered item numbers.
    """

    code: str
    valid: bool
    main_score: float | None
    total: float | None
    prorated: bool
    band: str | None
    caseness: bool | None
    risk: bool
    risk_unanswered: bool
    risk_to_self: bool | None = None
    risk_to_others: bool | None = None
    mean: float | None = None
    clinical_score: float | None = None
    raw_score: int | None = None
    metric_score: float | None = None
    subscales: dict[str, float | None] = field(default_factory=dict, hash=False)
    missing_items: tuple[int, ...] = ()


def score(code: str, answers: Sequence[int | None]) -> Score:
    """Score one questionnaire from its answers (spec §0 to §6; see the module docstring)."""
    instrument = instruments.get(code)
    _check_answers(instrument, answers)
    scored = [
        None if answer is None else instrument.item_score(item, answer)
        for item, answer in zip(instrument.items, answers, strict=True)
    ]
    missing_items = tuple(
        item.number
        for item, answer in zip(instrument.items, answers, strict=True)
        if answer is None
    )
    risk, risk_unanswered, risk_to_self, risk_to_others = _risk(instrument, answers)
    subscales = {
        subscale.code: _domain_mean([scored[number - 1] for number in subscale.items], subscale)
        for subscale in instrument.subscales
    }
    if len(missing_items) > instrument.max_missing:
        return Score(
            code=code,
            valid=False,
            main_score=None,
            total=None,
            prorated=False,
            band=None,
            caseness=None,
            risk=risk,
            risk_unanswered=risk_unanswered,
            risk_to_self=risk_to_self,
            risk_to_others=risk_to_others,
            subscales=subscales,
            missing_items=missing_items,
        )

    answered = [value for value in scored if value is not None]
    raw_sum = sum(answered)
    # Multiplying before dividing keeps complete totals exact (no 10.000000000000002).
    total = raw_sum * instrument.item_count / len(answered)
    mean = clinical_score = raw_score = metric_score = None
    main_score = total
    if instrument.method == "clinical_score":
        mean = raw_sum / len(answered)
        clinical_score = main_score = raw_sum * CLINICAL_SCORE_FACTOR / len(answered)
    elif instrument.method == "conversion_table":
        raw_score = raw_sum
        metric_score = main_score = instrument.metric_for(raw_sum)
    return Score(
        code=code,
        valid=True,
        main_score=main_score,
        total=total,
        prorated=bool(missing_items),
        band=instrument.band_for(main_score),
        caseness=instrument.is_case(main_score),
        mean=mean,
        clinical_score=clinical_score,
        raw_score=raw_score,
        metric_score=metric_score,
        risk=risk,
        risk_unanswered=risk_unanswered,
        risk_to_self=risk_to_self,
        risk_to_others=risk_to_others,
        subscales=subscales,
        missing_items=missing_items,
    )


def classify(code: str, main_score: float) -> tuple[str | None, bool | None]:
    """The band and caseness of a main score recorded elsewhere, e.g. an imported total.

    Raises ValueError when the score is outside the measure's range (spec §0 to §6).
    """
    check_main_score(code, main_score)
    instrument = instruments.get(code)
    return instrument.band_for(main_score), instrument.is_case(main_score)


def check_main_score(code: str, value: float) -> None:
    """Raise ValueError unless `value` is a number within the range of the measure's main score.

    The range is the total's for sums, the clinical score's (0 to 40) for CORE measures and
    the metric score's (7 to 35) for the SWEMWBS (spec §1 to §6).
    """
    instrument = instruments.get(code)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or not instrument.score_min <= value <= instrument.score_max:
        raise ValueError(
            f"{code} score {value!r} is not within "
            f"{format_range(instrument.score_min, instrument.score_max)}"
        )


@dataclass(frozen=True)
class Stated:
    """What a score alone tells, for a questionnaire recorded without its answers (another
    system's score): the fields of a `Score` that recording reads."""

    valid: bool
    prorated: bool
    total: float | None
    main_score: float
    band: str | None
    caseness: bool | None
    risk: bool = False
    risk_unanswered: bool = False
    subscales: dict = field(default_factory=dict)


def stated(code: str, value: float) -> Stated:
    """A main score stated without answers, checked against the measure's range and banded
    as a scored one is; raises ValueError outside the range."""
    check_main_score(code, value)
    instrument = instruments.get(code)
    band, caseness = classify(code, value)
    total = value if instrument.main_score_field == "total" else None
    return Stated(True, False, total, value, band, caseness)


def short_form_answers(code: str, long_form_answers: Sequence[int | None]) -> list[int | None]:
    """The answers to the short form `code` picked out of its parent's answers.

    For example `short_form_answers("SWEMWBS", wemwbs_answers)` takes WEMWBS items 1, 2, 3,
    6, 7, 9 and 11 (spec §6), so a completed WEMWBS also gives a SWEMWBS score.
    """
    instrument = instruments.get(code)
    if instrument.short_form_of is None:
        raise ValueError(f"{code} is not a short form of another measure")
    _check_answers(instruments.get(instrument.short_form_of), long_form_answers)
    return [long_form_answers[number - 1] for number in instrument.source_items]


def _check_answers(instrument: Instrument, answers: Sequence[int | None]) -> None:
    count = instrument.item_count
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValueError(f"{instrument.code} answers must be a list, not {answers!r}")
    if len(answers) != count:
        if len(answers) < count:
            detail = f"item {len(answers) + 1} is missing (use None for an unanswered item)"
        else:
            detail = f"item {count + 1} is not part of {instrument.code}"
        raise ValueError(
            f"{instrument.code} has {count} items; got {len(answers)} answers: {detail}"
        )
    allowed = format_range(instrument.answer_min, instrument.answer_max)
    for item, answer in zip(instrument.items, answers, strict=True):
        if answer is None:
            continue
        is_position = isinstance(answer, int) and not isinstance(answer, bool)
        if not is_position or not instrument.answer_min <= answer <= instrument.answer_max:
            raise ValueError(
                f"{instrument.code} item {item.number}: {answer!r} is not one of {allowed}"
            )


def _risk(
    instrument: Instrument, answers: Sequence[int | None]
) -> tuple[bool, bool, bool | None, bool | None]:
    """(risk, risk_unanswered, risk_to_self, risk_to_others), as spec §0 defines them.

    An unanswered risk item never sets risk, but is reported so that someone follows it up.
    """
    positive_kinds: set[str] = set()
    unanswered = False
    for item, answer in zip(instrument.items, answers, strict=True):
        if item.risk and answer is None:
            unanswered = True
        elif item.risk and answer >= instrument.risk_threshold:
            positive_kinds.add(item.risk)
    if not instrument.risk_by_kind:
        return bool(positive_kinds), unanswered, None, None
    return bool(positive_kinds), unanswered, "self" in positive_kinds, "others" in positive_kinds


def _domain_mean(values: list[int | None], subscale: instruments.Subscale) -> float | None:
    answered = [value for value in values if value is not None]
    if len(values) - len(answered) > subscale.max_missing:
        return None
    return sum(answered) / len(answered)
