"""Pure rules of the service directory: opening hours and the typical wait. No database."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from joinedup.referrals.directory import rules
from joinedup.referrals.directory.rules import (
    HoursError,
    format_day_hours,
    is_open,
    normalise_topic,
    opening_hours_problem,
    parse_day_hours,
    typical_wait_days,
)

UK = ZoneInfo("Europe/London")
# Monday 2 March 2026 to Sunday 8 March 2026.
MONDAY, TUESDAY, WEDNESDAY, SUNDAY = 2, 3, 4, 8
WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(5)}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UK)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param(at(MONDAY, 9), True, id="opening-minute-is-open"),
        pytest.param(at(MONDAY, 12, 30), True, id="middle-of-the-day"),
        pytest.param(at(MONDAY, 16, 59), True, id="last-minute"),
        pytest.param(at(MONDAY, 17), False, id="closing-minute-is-closed"),
        pytest.param(at(MONDAY, 8, 59), False, id="before-opening"),
        pytest.param(at(SUNDAY, 12), False, id="closed-day"),
    ],
)
def test_open_within_a_span_and_closed_outside_it(when, expected):
    assert is_open(WEEKDAYS_9_TO_5, when) is expected


def test_closed_between_two_spans_of_one_day():
    hours = {"0": [["09:00", "12:30"], ["13:30", "17:00"]]}

    assert is_open(hours, at(MONDAY, 12, 45)) is False
    assert is_open(hours, at(MONDAY, 14)) is True


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        pytest.param(at(MONDAY, 21, 59), False, id="before-the-evening-opening"),
        pytest.param(at(MONDAY, 23, 30), True, id="late-evening"),
        pytest.param(at(TUESDAY, 1, 59), True, id="small-hours-of-the-next-day"),
        pytest.param(at(TUESDAY, 2), False, id="closes-at-two-the-next-day"),
        pytest.param(at(WEDNESDAY, 1), False, id="not-after-a-day-without-it"),
    ],
)
def test_a_span_past_midnight_runs_into_the_next_day(when, expected):
    nightline = {"0": [["22:00", "02:00"]]}

    assert is_open(nightline, when) is expected


def test_a_span_may_end_at_midnight():
    hours = {"6": [["18:00", "24:00"]]}

    assert is_open(hours, at(SUNDAY, 23, 59)) is True
    assert is_open(hours, at(MONDAY, 0, 1)) is False


def test_twenty_four_hours_is_always_open():
    always = {str(day): [["00:00", "24:00"]] for day in range(7)}

    assert all(is_open(always, at(day, hour)) for day in range(2, 9) for hour in (0, 12, 23))


def test_no_opening_hours_is_never_open():
    assert is_open({}, at(MONDAY, 12)) is False


def test_weekday_keys_may_be_numbers_as_well_as_json_strings():
    assert is_open({0: [["09:00", "17:00"]]}, at(MONDAY, 10)) is True


@pytest.mark.parametrize(
    ("waits", "expected"),
    [
        pytest.param([], None, id="no-referrals"),
        pytest.param([3, 4, 5, 6], None, id="four-is-too-few"),
        pytest.param([30, 2, 9, 4, 7], 7, id="median-of-five"),
        pytest.param([1, 2, 3, 4, 5, 6], 4, id="even-count-rounds-the-median-up"),
        pytest.param([10] * 40 + [200], 10, id="one-long-wait-does-not-skew-it"),
    ],
)
def test_typical_wait_is_the_median_of_at_least_five_recent_waits(waits, expected):
    assert typical_wait_days(waits) == expected


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        pytest.param("09:00–17:00", [["09:00", "17:00"]], id="en-dash"),
        pytest.param("9:00-17:00", [["09:00", "17:00"]], id="hyphen-and-one-digit-hour"),
        pytest.param("9.30 to 16.45", [["09:30", "16:45"]], id="dots-and-to"),
        pytest.param(
            "09:00–12:30, 13:30–17:00",
            [["09:00", "12:30"], ["13:30", "17:00"]],
            id="two-openings",
        ),
        pytest.param(
            "18:00-20:00,09:00-12:00", [["09:00", "12:00"], ["18:00", "20:00"]], id="put-in-order"
        ),
        pytest.param("22:00–02:00", [["22:00", "02:00"]], id="past-midnight"),
        pytest.param("18:00-24:00", [["18:00", "24:00"]], id="until-midnight"),
        pytest.param("09:00–17:00, ", [["09:00", "17:00"]], id="trailing-comma"),
        pytest.param("", [], id="blank-is-closed"),
        pytest.param(" Closed ", [], id="closed"),
        pytest.param("24 hours", [["00:00", "24:00"]], id="all-day"),
    ],
)
def test_day_hours_are_read_as_written_in_the_form(text, spans):
    assert parse_day_hours(text) == spans


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("9am-5pm", "“9am” is not a time", id="am-pm"),
        pytest.param("09:00", "a start and an end", id="no-end"),
        pytest.param("09:00–17:00–18:00", "a start and an end", id="three-times"),
        pytest.param("25:00–26:00", "not a time of day", id="no-such-hour"),
        pytest.param("09:60–10:00", "not a time of day", id="no-such-minute"),
        pytest.param("24:00–02:00", "not a time of day", id="midnight-is-not-a-start"),
        pytest.param("09:00–09:00", "cannot start and end at the same time", id="no-length"),
        pytest.param("09:00–13:00, 12:00–17:00", "overlap", id="overlap"),
        pytest.param("20:00–02:00, 23:00–23:30", "overlap", id="overlap-past-midnight"),
    ],
)
def test_unreadable_day_hours_say_what_to_fix(text, message):
    with pytest.raises(HoursError, match=message):
        parse_day_hours(text)


def test_hours_written_back_for_the_form_read_the_same():
    for text in ["09:00–17:00", "09:00–12:30, 13:30–17:00", "22:00–02:00", "24 hours"]:
        assert format_day_hours(parse_day_hours(text)) == text
    assert format_day_hours([]) == "Closed"


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        pytest.param(WEEKDAYS_9_TO_5, None, id="good"),
        pytest.param({}, None, id="none-given"),
        pytest.param([["09:00", "17:00"]], "map weekdays", id="not-a-mapping"),
        pytest.param({"7": []}, "not a weekday", id="no-such-weekday"),
        pytest.param({"0": ["09:00", "17:00"]}, "pair of times", id="not-a-list-of-pairs"),
        pytest.param({"0": [[9, 17]]}, "pair of times", id="not-strings"),
        pytest.param({"0": [["09:00", "noon"]]}, "not a time", id="bad-time"),
        pytest.param({"0": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap", id="overlap"),
    ],
)
def test_stored_opening_hours_are_checked(stored, problem):
    found = opening_hours_problem(stored)

    assert (found is None) if problem is None else (problem in found)


def test_topics_are_lower_case_with_single_spaces():
    assert normalise_topic("  Eating   Difficulties ") == "eating difficulties"
    assert normalise_topic("LGBTQ+") == "lgbtq+"


@pytest.mark.parametrize(
    ("typed", "found_in"),
    [
        ("I feel depressed", "Low mood and anxiety"),
        ("lonely", "loneliness"),
        ("really anxious about exams", "anxiety, exam stress"),
        ("can't sleep", "sleep"),
        ("Grieving", "bereavement"),
        ("panic attack", "anxiety"),
        ("homesick", "international students"),
        ("lonley", "loneliness"),
        # Welsh searches, of services whose entries are in English
        ("gorbryder", "anxiety"),
        ("dw i'n teimlo'n unig", "loneliness"),
        ("straen arholiadau", "exam stress"),
        ("myfyrwyr rhyngwladol", "international students"),
        ("bwyta", "eating difficulties"),
        ("hiraeth", "homesick"),
    ],
)
def test_a_search_finds_what_services_call_what_people_type(typed, found_in):
    terms = rules.search_terms(typed)
    assert terms
    assert all(any(said in found_in.casefold() for said in term) for term in terms)


def test_words_that_say_nothing_about_a_service_are_not_searched_for():
    assert rules.search_terms("I need some help") == []
    assert rules.search_terms("I'm feeling really lonely") == [
        frozenset({"lonely", "loneliness", "lone"})
    ]


def test_a_search_for_something_no_service_offers_still_finds_nothing():
    terms = rules.search_terms("astrophysics")
    assert not any(said in "low mood, anxiety, sleep" for term in terms for said in term)
