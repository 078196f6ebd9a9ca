"""The pure rules of students' records: dates of birth as typed, what a search asks for,
likely duplicates, and when two records may not be merged. No database."""

import datetime as dt

import pytest

from joinedup.people.rules import (
    DateProblem,
    Duplicate,
    Identity,
    Match,
    MergeRefusal,
    MergeSide,
    SearchProblem,
    SearchTerms,
    age_on,
    date_of_birth_problem,
    likely_duplicates,
    merge_refusal,
    name_key,
    parse_date,
    parse_search,
    phone_to_call,
    uk_phone,
)

TODAY = dt.date(2026, 3, 1)
MARCH_14 = dt.date(2004, 3, 14)


# Dates of birth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "14/03/2004",
        "14/3/2004",
        "14-03-2004",
        "14.03.2004",
        "14 03 2004",
        "2004-03-14",
        "2004/03/14",
        "14 March 2004",
        "14 march 2004",
        "14th Mar 2004",
        "14 Mar. 2004",
        "March 14, 2004",
        " 14/03/2004 ",
    ],
)
def test_a_date_of_birth_is_read_as_people_write_it(text):
    assert parse_date(text) == MARCH_14


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31/02/2004", DateProblem.NOT_A_DATE),
        ("14/13/2004", DateProblem.NOT_A_DATE),
        ("14/03/04", DateProblem.SHORT_YEAR),
        ("yesterday", DateProblem.NOT_A_DATE),
        ("14 Smarch 2004", DateProblem.NOT_A_DATE),
        ("14/03/2004 and more", DateProblem.NOT_A_DATE),
    ],
)
def test_a_date_that_cannot_be_read_says_why(text, problem):
    assert parse_date(text) == problem


def test_day_first_is_the_uk_reading_of_a_slashed_date():
    assert parse_date("03/04/2004") == dt.date(2004, 4, 3)


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        (dt.date(2026, 3, 2), DateProblem.IN_FUTURE),
        (dt.date(2010, 3, 2), DateProblem.UNDER_MINIMUM_AGE),
        (dt.date(2010, 3, 1), None),  # 16 today
        (dt.date(1925, 1, 1), DateProblem.TOO_OLD),
        (MARCH_14, None),
    ],
)
def test_a_date_of_birth_must_make_a_student_of_16_or_over(born, problem):
    assert date_of_birth_problem(born, TODAY) == problem


def test_a_leap_day_birthday_counts_from_1_march_in_other_years():
    assert age_on(dt.date(2008, 2, 29), dt.date(2024, 2, 28)) == 15
    assert age_on(dt.date(2008, 2, 29), dt.date(2024, 2, 29)) == 16
    assert age_on(dt.date(2008, 2, 29), dt.date(2025, 2, 28)) == 16


# Searching -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Morgan Jo", ("morgan", "jo")),
        ("jo morgan", ("jo", "morgan")),
        ("Morgan, Jo", ("morgan", "jo")),
        ("  MORGAN   ", ("morgan",)),
        ("“Jo”", ("jo",)),
        ("O'Neill-Smith", ("o'neill-smith",)),
    ],
)
def test_name_words_are_searched_in_any_order_and_case(text, names):
    assert parse_search(text) == SearchTerms(names=names)


@pytest.mark.parametrize(
    "text", ["14/03/2004", "2004-03-14", "14 March 2004", "March 14 2004", "14 03 2004"]
)
def test_a_date_of_birth_is_searched_for_as_a_date(text):
    assert parse_search(text) == SearchTerms(date_of_birth=MARCH_14)


def test_a_name_and_a_date_of_birth_search_together():
    assert parse_search("Jo Morgan 14/03/2004") == SearchTerms(
        names=("jo", "morgan"), date_of_birth=MARCH_14
    )


@pytest.mark.parametrize(
    ("text", "digits"),
    [("9434765919", "9434765919"), ("943 476 5919", "9434765919"), ("943-476-5919", "9434765919"),
     ("4765", "4765"), ("1000 001", "1000001")],
)  # fmt: skip
def test_digits_search_a_student_or_nhs_number_as_written(text, digits):
    assert parse_search(text) == SearchTerms(digits=digits)


@pytest.mark.parametrize("text", ["1", "12", "943"])
def test_fewer_than_four_digits_are_refused_with_a_reason(text):
    assert parse_search(text) == SearchTerms(problem=SearchProblem.TOO_FEW_DIGITS)


def test_letters_and_digits_are_part_of_a_student_number():
    assert parse_search("nb1000") == SearchTerms(numbers=("NB1000",))
    assert parse_search("NB1") == SearchTerms(numbers=("NB1",))


@pytest.mark.parametrize(
    ("text", "problem"),
    [("31/02/2004", SearchProblem.NOT_A_DATE), ("14/03/04", SearchProblem.SHORT_YEAR)],
)
def test_a_date_that_cannot_be_is_not_searched_for(text, problem):
    assert parse_search(text) == SearchTerms(problem=problem)


def test_an_empty_search_asks_nothing():
    assert parse_search("   ").is_empty
    assert parse_search(" , ; ").is_empty


def test_only_nhs_digits_and_dates_use_identifiers():
    assert parse_search("9434765919").uses_identifiers
    assert parse_search("14/03/2004").uses_identifiers
    assert not parse_search("Jo Morgan NB1000").uses_identifiers


# Duplicates ----------------------------------------------------------------------------------


def _identity(**fields) -> Identity:
    defaults = {
        "university_id": 1,
        "student_number": "NB1000001",
        "nhs_number": "9434765919",
        "legal_given_name": "Joanna",
        "legal_family_name": "Morgan",
        "date_of_birth": MARCH_14,
    }
    return Identity(**(defaults | fields))


NEW = _identity(key=0)


def test_names_compare_without_case_accents_apostrophes_or_hyphens():
    assert name_key("Zoë O'Neill-Smith") == name_key("zoe  oneill smith") == "zoe oneill smith"
    assert name_key("Zoë O\u2019Neill\u2010Smith") == "zoe oneill smith"


@pytest.mark.parametrize(
    ("existing", "matches"),
    [
        pytest.param(
            _identity(student_number="NB9", legal_given_name="X",
                      date_of_birth=dt.date(2001, 1, 1)),
            {Match.NHS_NUMBER}, id="same-nhs-number",
        ),
        pytest.param(
            _identity(nhs_number="", legal_given_name="X"), {Match.STUDENT_NUMBER},
            id="same-number-same-university",
        ),
        pytest.param(
            _identity(student_number="nb1000001 ", nhs_number=""), {Match.STUDENT_NUMBER,
            Match.NAME_AND_BIRTH}, id="number-any-case",
        ),
        pytest.param(
            _identity(university_id=2, nhs_number="", legal_given_name="X"), set(),
            id="same-number-other-university",
        ),
        pytest.param(
            _identity(student_number="SG1", nhs_number="", university_id=2,
                      legal_given_name="JOANNA", legal_family_name="morgan"),
            {Match.NAME_AND_BIRTH}, id="same-name-and-birth-anywhere",
        ),
        pytest.param(
            _identity(student_number="SG1", nhs_number="", legal_given_name="Morgan",
                      legal_family_name="Joanna"),
            {Match.NAME_AND_BIRTH}, id="names-either-way-round",
        ),
        pytest.param(
            _identity(student_number="SG1", nhs_number="", date_of_birth=dt.date(2004, 3, 15)),
            set(), id="same-name-another-birthday",
        ),
        pytest.param(
            _identity(student_number="SG1", nhs_number="4857773120", legal_given_name="Jo"),
            set(), id="nothing-the-same",
        ),
    ],
)  # fmt: skip
def test_a_likely_duplicate_is_found_by_nhs_number_student_number_or_name_and_birth(
    existing, matches
):
    found = likely_duplicates(NEW, [Identity(**(existing.__dict__ | {"key": 7}))])
    assert found == ([Duplicate(7, frozenset(matches))] if matches else [])


def test_a_blank_nhs_number_matches_no_one():
    new = _identity(nhs_number="", student_number="NEW1", legal_given_name="Sam")
    existing = _identity(nhs_number="", student_number="OLD1", legal_given_name="Kit", key=3)
    assert likely_duplicates(new, [existing]) == []


def test_the_strongest_likely_duplicates_come_first():
    by_name = _identity(key=1, student_number="SG1", nhs_number="")
    by_nhs = _identity(key=2, student_number="SG2", legal_given_name="X")
    by_number = _identity(key=3, nhs_number="", legal_given_name="X")
    found = likely_duplicates(NEW, [by_name, by_nhs, by_number])
    assert [d.key for d in found] == [3, 2, 1]


# Merging -------------------------------------------------------------------------------------


def _side(key, **fields) -> MergeSide:
    return MergeSide(**({"key": key, "university_id": 1, "nhs_number": ""} | fields))


@pytest.mark.parametrize(
    ("kept", "merged", "refusal"),
    [
        (_side(1), _side(1), MergeRefusal.SAME_RECORD),
        (_side(1), _side(2, is_merged=True), MergeRefusal.ALREADY_MERGED),
        (_side(1), _side(2, university_id=2), MergeRefusal.DIFFERENT_UNIVERSITIES),
        (_side(1, nhs_number="9434765919"), _side(2, nhs_number="4857773120"),
         MergeRefusal.DIFFERENT_NHS_NUMBERS),
        (_side(1, nhs_number="9434765919"), _side(2, nhs_number="9434765919"), None),
        (_side(1, nhs_number="9434765919"), _side(2), None),
        (_side(1), _side(2, nhs_number="9434765919"), None),
    ],
)  # fmt: skip
def test_two_records_merge_only_when_they_can_be_one_person(kept, merged, refusal):
    assert merge_refusal(kept, merged) == refusal


@pytest.mark.parametrize(
    ("typed", "national"),
    [
        ("07700 900123", "07700 900123"),
        ("07700900123", "07700 900123"),
        ("+44 7700 900123", "07700 900123"),
        ("0161 496 0000", "0161 496 0000"),
        ("(0161) 4960000", "0161 496 0000"),
    ],
)
def test_a_uk_phone_number_as_people_write_it(typed, national):
    assert uk_phone(typed) == national


@pytest.mark.parametrize(
    "typed", ["", "12345", "0161 496 000", "07700 900123 4", "999", "+33 1 23 45 67 89", "phone me"]
)
def test_what_cannot_be_a_uk_phone_number(typed):
    assert uk_phone(typed) is None


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("07700 900123", "07700 900123"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("0086 138 0013 8000", "+86 138 0013 8000"),
        ("+61293744000", "+61 2 9374 4000"),
    ],
)
def test_a_number_to_call_may_be_abroad_with_its_country_code(typed, shown):
    assert phone_to_call(typed) == shown


@pytest.mark.parametrize("typed", ["", "138 0013 8000", "+33 1 23", "+44 161 496 000", "call"])
def test_what_cannot_be_called(typed):
    assert phone_to_call(typed) is None
