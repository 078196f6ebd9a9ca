"""The research extract's rules: pseudonyms, generalised dates and ages, k-anonymity and the
release note. No database."""

import hashlib
import hmac
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from joinedup.evaluation import research
from joinedup.evaluation.research import (
    GENERALISATION_STEPS,
    NOT_SHOWN,
    PseudonymKeyMissing,
    age_band,
    age_on,
    k_anonymise,
    month_of,
    pseudonym,
    pseudonym_key,
    release_note_text,
    wider_age_band,
)
from joinedup.measures.instruments import CODES

KEY = b"a secret kept outside the extract"


def test_the_same_student_has_the_same_pseudonym_in_every_extract():
    assert pseudonym(42, KEY) == pseudonym(42, KEY)
    assert pseudonym(42, KEY) != pseudonym(43, KEY)


def test_the_pseudonym_is_hmac_sha256_of_the_internal_id():
    expected = hmac.new(KEY, b"student:42", hashlib.sha256).hexdigest()
    assert pseudonym(42, KEY) == expected
    assert len(expected) == 64


def test_without_the_key_the_pseudonym_cannot_be_reversed_by_trying_every_id():
    target = pseudonym(1234, KEY)
    # Someone holding the extract but not the key tries every id with plain hashes and
    # guessed keys: no guess reproduces the pseudonym.
    for guess in range(5000):
        for text in (str(guess), f"student:{guess}"):
            assert hashlib.sha256(text.encode()).hexdigest() != target
        for key in (b"", b"secret", b"joinedup"):
            assert pseudonym(guess, key) != target
    assert pseudonym(1234, b"another deployment's key") != target


def test_the_configured_key_is_used(settings):
    settings.RESEARCH_PSEUDONYM_KEY = "configured"
    assert pseudonym_key() == b"configured"


def test_in_development_a_stable_key_is_derived_from_the_secret_key(settings):
    settings.RESEARCH_PSEUDONYM_KEY = None
    settings.DEBUG = True
    first = pseudonym_key()
    assert first == pseudonym_key()
    assert settings.SECRET_KEY.encode() not in first
    settings.SECRET_KEY = "another secret key for this test only"
    assert pseudonym_key() != first


def test_outside_development_a_missing_key_is_refused_clearly(settings):
    settings.RESEARCH_PSEUDONYM_KEY = ""
    settings.DEBUG = False
    with pytest.raises(PseudonymKeyMissing, match="RESEARCH_PSEUDONYM_KEY is not set"):
        pseudonym_key()


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (date(2025, 3, 9), "2025-03"),
        (datetime(2024, 12, 31, 23, 59, tzinfo=UTC), "2024-12"),
        (None, ""),
    ],
)
def test_dates_become_month_and_year(moment, shown):
    assert month_of(moment) == shown


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2004, 5, 17), date(2024, 5, 16), 19),
        (date(2004, 5, 17), date(2024, 5, 17), 20),
        (date(2004, 2, 29), date(2023, 2, 28), 18),
    ],
)
def test_age_on_a_day(born, on, age):
    assert age_on(born, on) == age


@pytest.mark.parametrize(
    ("age", "band", "wider"),
    [
        (14, "under-15", "under-15"),
        (15, "15-19", "15-24"),
        (19, "15-19", "15-24"),
        (20, "20-24", "15-24"),
        (24, "20-24", "15-24"),
        (25, "25-29", "25-34"),
        (37, "35-39", "35-44"),
        (61, "60-64", "55-64"),
    ],
)
def test_age_becomes_a_five_year_band_then_a_ten_year_band(age, band, wider):
    assert age_band(age) == band
    assert wider_age_band(band) == wider


WELLBEING = ("Wellbeing", "wellbeing", "university")


def _quasi(institution="Northbridge", age="20-24", gender="woman", ethnicity="white",
           disability="no", international="no", service=WELLBEING, month="2025-03"):  # fmt: skip
    return (institution, age, gender, ethnicity, disability, international, *service, month)


def _one_row_each(quasis: dict) -> dict:
    return {subject: [quasi] for subject, quasi in quasis.items()}


def _released_once(result, subject):
    (rows,) = [result.released[subject]]
    (quasi,) = rows
    return quasi


@pytest.mark.parametrize(
    ("month", "quarter", "year"),
    [
        ("2025-01", "2025-Q1", "2025"),
        ("2025-03", "2025-Q1", "2025"),
        ("2025-04", "2025-Q2", "2025"),
        ("2024-12", "2024-Q4", "2024"),
        ("", "", ""),
    ],
)
def test_a_referral_month_becomes_a_quarter_then_a_year(month, quarter, year):
    assert research.quarter_of(month) == quarter
    assert research.year_of(research.quarter_of(month)) == year


def test_the_ladder_ends_with_everything_but_the_institution_hidden():
    hidden = research.generalise(_quasi(), len(GENERALISATION_STEPS))
    assert hidden == ("Northbridge", *[NOT_SHOWN] * 9)
    # A blank referral month (no referral) stays blank: the referral source says as much.
    assert research.generalise(_quasi(month=""), len(GENERALISATION_STEPS))[-1] == ""
    named = {step.quasi_identifier for step in GENERALISATION_STEPS}
    assert named == set(research.QUASI_IDENTIFIERS) - {"institution"}


def test_groups_of_k_or_more_are_released_as_recorded():
    subjects = {n: _quasi() for n in range(5)} | {n: _quasi(gender="man") for n in range(5, 10)}
    result = k_anonymise(_one_row_each(subjects), 5)
    assert result.released == {n: frozenset({q}) for n, q in subjects.items()}
    assert set(result.steps.values()) == {0}
    assert result.suppressed == frozenset()


def test_a_small_group_is_generalised_until_it_joins_others():
    # Five women aged 20-24, and five students aged 15-19 and 20-24 differing only by
    # ethnicity: the referral month as a quarter, a ten-year age band, the year, the
    # service's kind are not enough; hiding the ethnicity is.
    subjects = {n: _quasi() for n in range(5)}
    subjects |= {
        5: _quasi(age="15-19", ethnicity="asian"),
        6: _quasi(age="20-24", ethnicity="black"),
        7: _quasi(age="15-19", ethnicity="mixed"),
        8: _quasi(age="20-24", ethnicity="other"),
        9: _quasi(age="15-19", ethnicity="not_recorded"),
    }
    result = k_anonymise(_one_row_each(subjects), 5)
    assert all(result.steps[n] == 0 for n in range(5))
    for n in range(5, 10):
        assert result.steps[n] == 5
        assert _released_once(result, n) == _quasi(
            age="15-24", ethnicity=NOT_SHOWN, service=(NOT_SHOWN, "wellbeing", "university"),
            month="2025",
        )  # fmt: skip
    assert result.suppressed == frozenset()


def test_referral_months_in_one_quarter_are_shown_as_that_quarter():
    # Two referred in January, one in February and two in March: five in the first quarter.
    # The five referred in June are a group of their own and keep their month.
    months = ["2025-01", "2025-01", "2025-02", "2025-03", "2025-03"] + ["2025-06"] * 5
    result = k_anonymise(_one_row_each({n: _quasi(month=m) for n, m in enumerate(months)}), 5)
    assert [result.steps[n] for n in range(10)] == [1] * 5 + [0] * 5
    assert {_released_once(result, n)[-1] for n in range(5)} == {"2025-Q1"}
    assert {_released_once(result, n)[-1] for n in range(5, 10)} == {"2025-06"}
    assert result.suppressed == frozenset()


def test_two_services_of_one_kind_are_shown_by_their_kind():
    # Three at North Counselling and two at South Counselling, otherwise alike: the month as
    # a quarter, the wider age band and the year change nothing; showing only the kind of
    # service makes one group of five.
    north = ("North Counselling", "counselling", "university")
    south = ("South Counselling", "counselling", "university")
    subjects = {n: _quasi(service=north) for n in range(3)}
    subjects |= {n: _quasi(service=south) for n in range(3, 5)}
    result = k_anonymise(_one_row_each(subjects), 5)
    assert set(result.steps.values()) == {4}
    assert {_released_once(result, n) for n in range(5)} == {
        _quasi(age="15-24", service=(NOT_SHOWN, "counselling", "university"), month="2025")
    }


@pytest.mark.parametrize(
    "apart",
    [
        pytest.param(_quasi(service=("Crisis Team", "crisis", "nhs_trust")), id="service"),
        pytest.param(_quasi(month="2025-09"), id="referral month"),
    ],
)
def test_a_student_set_apart_only_by_service_or_referral_month_is_not_released_as_recorded(
    apart,
):
    # Alike in everything the student is (institution, age, gender, ...): if the service or
    # the referral month were not quasi-identifiers, the sixth would join the five.
    subjects = {n: _quasi() for n in range(5)} | {5: apart}
    result = k_anonymise(_one_row_each(subjects), 5)
    assert result.suppressed == frozenset({5})
    assert all(result.steps[n] == 0 for n in range(5))


def test_a_student_counts_once_in_a_group_however_many_of_their_rows_it_holds():
    # Five rows, four students: one was referred to Wellbeing twice in March.
    subjects = {n: [_quasi()] for n in range(4)}
    subjects[0] = [_quasi(), _quasi()]
    assert k_anonymise(subjects, 5).suppressed == frozenset(range(4))


def test_all_of_a_students_rows_move_together_and_their_groups_move_with_them():
    # Student 0 was at Wellbeing (with four others) and at Counselling (with four others),
    # all referred in March, except that the four at Counselling were referred in February.
    # The four at Counselling are too few; student 0 is alone in the March counselling
    # group, so must move with all their rows; that leaves four at Wellbeing, who move too.
    # At the first step (quarters) they all meet again: two groups of five.
    counselling = ("Counselling", "counselling", "university")
    subjects = {0: [_quasi(), _quasi(service=counselling)]}
    subjects |= {n: [_quasi()] for n in range(1, 5)}
    subjects |= {n: [_quasi(service=counselling, month="2025-02")] for n in range(5, 9)}
    result = k_anonymise(subjects, 5)
    assert set(result.steps.values()) == {1}
    assert result.released[0] == {
        _quasi(month="2025-Q1"),
        _quasi(service=counselling, month="2025-Q1"),
    }
    assert result.released[1] == {_quasi(month="2025-Q1")}
    assert result.released[5] == {_quasi(service=counselling, month="2025-Q1")}
    assert result.suppressed == frozenset()


def test_students_who_cannot_reach_k_are_suppressed():
    subjects = {n: _quasi() for n in range(5)} | {5: _quasi(institution="Southgate")}
    result = k_anonymise(_one_row_each(subjects), 5)
    assert result.suppressed == frozenset({5})
    assert 5 not in result.released
    assert len(result.released) == 5


def test_everyone_can_be_suppressed():
    result = k_anonymise(_one_row_each({n: _quasi(institution=str(n)) for n in range(4)}), 5)
    assert result.released == {}
    assert result.suppressed == frozenset(range(4))


def test_k_below_two_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        k_anonymise({}, 1)


_services = st.sampled_from(
    [WELLBEING, ("Counselling", "counselling", "university"),
     ("Crisis Team", "crisis", "nhs_trust"), ("Talking Therapies", "talking_therapies",
                                               "nhs_trust")]
)  # fmt: skip
_student = st.tuples(
    st.sampled_from(["Northbridge", "Southgate"]),
    st.sampled_from(["15-19", "20-24", "25-29", "30-34", "45-49"]),
    st.sampled_from(["woman", "man", "non_binary", "not_recorded"]),
    st.sampled_from(["asian", "black", "mixed", "white", "other"]),
    st.sampled_from(["yes", "no", "not_said"]),
    st.sampled_from(["yes", "no"]),
)
_episode = st.tuples(_services, st.sampled_from(["", "2025-01", "2025-02", "2025-05", "2025-11"]))
_subject = st.tuples(_student, st.lists(_episode, min_size=1, max_size=3))


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(_subject, max_size=80), st.integers(min_value=2, max_value=10))
def test_every_released_combination_describes_at_least_k_students(students, k):
    subjects = {
        n: [(*student, *service, month) for service, month in episodes]
        for n, (student, episodes) in enumerate(students)
    }
    result = k_anonymise(subjects, k)
    sizes = Counter(quasi for rows in result.released.values() for quasi in rows)
    assert all(size >= k for size in sizes.values())
    # Nobody is lost: each student is released or suppressed, and keeps their institution.
    assert set(result.released) | result.suppressed == set(subjects)
    for n, rows in result.released.items():
        assert {quasi[0] for quasi in rows} == {students[n][0][0]}
        # Every row of a student is generalised by the same steps, so shows the same student.
        assert len({quasi[:6] for quasi in rows}) == 1
        assert rows == {research.generalise(q, result.steps[n]) for q in subjects[n]}
        assert 0 <= result.steps[n] <= len(GENERALISATION_STEPS)


def test_the_release_note_counts_how_each_quasi_identifier_was_shown():
    counselling = ("Counselling", "counselling", "university")
    rows = [
        ("a", _quasi(), 0),
        ("b", _quasi(month=""), 3),  # no referral: the month stays blank
        ("b", _quasi(service=counselling), 3),
        ("c", _quasi(age="under-15"), 2),  # a band that cannot widen
        ("d", _quasi(), 5),
    ]
    summary = {item["name"]: item["generalised"] for item in
               research.generalised_by_quasi_identifier(rows)}  # fmt: skip
    assert list(summary) == list(research.QUASI_IDENTIFIERS.values())
    assert summary["institution"] == summary["gender"] == []
    assert summary["age band"] == [{"shown": "widened to ten years", "students": 2, "rows": 3}]
    assert summary["ethnicity group"] == [{"shown": "not shown", "students": 1, "rows": 1}]
    assert summary["service"] == [{"shown": "shown only as its kind", "students": 1, "rows": 1}]
    assert summary["referral month"] == [
        {"shown": "shown as its quarter", "students": 1, "rows": 1},
        {"shown": "shown as its year", "students": 2, "rows": 2},
    ]


def test_the_release_note_says_what_was_generalised_suppressed_and_left_out():
    note = {
        "starts_on": "2025-01-01",
        "ends_on": "2026-01-01",
        "services": ["Crisis Team", "Wellbeing"],
        "produced_at": "2026-02-01T09:00:00+00:00",
        "k": 5,
        "rows": 40,
        "students": 31,
        "quasi_identifiers": [
            {"name": "institution", "generalised": []},
            {
                "name": "referral month",
                "generalised": [
                    {"shown": "shown as its quarter", "students": 1, "rows": 1},
                    {"shown": "shown as its year", "students": 4, "rows": 6},
                ],
            },
        ],
        "generalised": [
            {"step": "age band widened to ten years", "students": 4, "rows": 6},
            {"step": "ethnicity group not shown", "students": 3, "rows": 3},
        ],
        "suppressed": {"students": 2, "rows": 5},
        "opted_out": {"students": 3, "rows": 4},
    }
    text = release_note_text(note)
    assert "Rows released: 40 episodes of 31 students." in text
    assert "at least 5 students" in text
    assert "- age band widened to ten years: 4 students, 6 episodes" in text
    assert "- ethnicity group not shown: 3 students, 3 episodes" in text
    assert "- institution: as recorded for everyone released." in text
    assert (
        "- referral month: shown as its quarter for 1 student (1 episode); shown as its year "
        "for 4 students (6 episodes)." in text
    )
    assert (
        "(institution, age band, gender, ethnicity group, disability, international "
        "status, service, referral month)" in text
    )
    assert "Suppressed (left out, still in groups smaller than 5): 2 students, 5 episodes." in text
    assert "opt-out are left out: 4 episodes of 3 students." in text
    assert "Services: Crisis Team, Wellbeing." in text


def test_the_data_dictionary_describes_every_column():
    assert len(set(research.COLUMN_NAMES)) == len(research.COLUMNS)
    assert all(column.description for column in research.COLUMNS)
    assert set(research.QUASI_IDENTIFIER_COLUMNS) <= set(research.COLUMN_NAMES)
    assert set(research.QUASI_IDENTIFIERS) <= set(research.QUASI_IDENTIFIER_COLUMNS)


def test_the_data_dictionary_has_a_first_and_last_score_of_every_measure():
    columns = {column.name: column for column in research.COLUMNS}
    for code in CODES:
        for end in ("first", "last"):
            column = columns[f"{research.measure_column(code)}_{end}"]
            assert column.type == "DOUBLE"
            assert code in column.description
    assert research.measure_column("PHQ-9") == "phq9"
    assert research.measure_column("CORE-OM") == "coreom"
    assert "clinical score" in columns["core10_first"].description
    assert "metric score" in columns["swemwbs_last"].description
    assert "higher is better" in columns["wemwbs_first"].description


def test_the_release_note_counts_one_in_the_singular():
    note = {
        "starts_on": "2025-01-01", "ends_on": "2026-01-01", "services": ["Wellbeing"],
        "produced_at": "2026-02-01T09:00:00+00:00", "k": 5, "rows": 1, "students": 1,
        "generalised": [], "suppressed": {"students": 1, "rows": 2},
        "opted_out": {"students": 1, "rows": 1},
    }  # fmt: skip
    text = release_note_text(note)
    assert "Rows released: 1 episode of 1 student." in text
    assert "smaller than 5): 1 student, 2 episodes." in text
    assert "opt-out are left out: 1 episode of 1 student." in text
    assert "- none" in text


def test_an_episodes_months_follow_its_referral_months_ladder():
    steps = {step.shown: n + 1 for n, step in enumerate(research.GENERALISATION_STEPS)
             if step.quasi_identifier == "referral_month"}  # fmt: skip
    assert research.month_as_shown("2025-05", 0) == "2025-05"
    assert research.month_as_shown("2025-05", steps["shown as its quarter"]) == "2025-Q2"
    assert research.month_as_shown("2025-05", steps["shown as its year"]) == "2025"
    assert research.month_as_shown("2025-05", steps["not shown"]) == research.NOT_SHOWN
    assert research.month_as_shown("", steps["not shown"]) == ""  # still open
