"""The rules of the banner and of the record's order: NHS numbers as read aloud, the risk and
flags a banner shows, and the order a clinician reads the sections in. No database."""

import datetime as dt

import pytest

from joinedup.consent.rules import CATEGORIES
from joinedup.people.rules import age_on
from joinedup.record.rules import (
    READ_FIRST,
    flags_in_banner,
    in_reading_order,
    risk_in_banner,
    spaced_nhs_number,
)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("9434765919", "943 476 5919"),
        ("943 476 5919", "943 476 5919"),
        ("", ""),
        ("943476591", "943476591"),  # not ten digits: left alone, never mis-spaced
        ("94347659AB", "94347659AB"),
    ],
)
def test_an_nhs_number_is_spaced_three_three_four(number, shown):
    assert spaced_nhs_number(number) == shown


@pytest.mark.parametrize(
    ("today", "age"),
    [(dt.date(2026, 5, 16), 21), (dt.date(2026, 5, 17), 22), (dt.date(2026, 12, 6), 22)],
)
def test_age_turns_on_the_birthday(today, age):
    assert age_on(dt.date(2004, 5, 17), today) == age


def test_a_level_the_reader_may_see_is_shown_as_it_is():
    level = "High · assessed since by Crisis Team — not shared with you"

    assert risk_in_banner(level, ["Crisis Team"], allowed=True) == level


@pytest.mark.parametrize("allowed", [True, False])
def test_risk_held_elsewhere_names_who_holds_it(allowed):
    shown = risk_in_banner("", ["Counselling", "Crisis Team"], allowed=allowed)

    assert shown == "Risk held by Counselling, Crisis Team — not shared with you"


def test_risk_refused_with_no_holder_named_is_not_shared_never_not_assessed():
    assert risk_in_banner("", [], allowed=False) == "Risk not shared with you"


def test_not_assessed_only_when_risk_is_readable_and_nothing_is_held_back():
    assert risk_in_banner("", [], allowed=True) == "Not assessed"


@pytest.mark.parametrize(
    ("count", "highest", "shown"),
    [
        (0, "", "None open"),
        (1, "High", "1 open · High"),
        (3, "Immediate", "3 open · highest Immediate"),
    ],
)
def test_open_flags_say_how_many_and_the_highest_level(count, highest, shown):
    assert flags_in_banner(count, highest, allowed=True) == shown


def test_flags_the_reader_may_not_read_are_not_shared_never_none():
    assert flags_in_banner(0, "", allowed=False) == "Not shared with you"


def test_sections_come_in_the_order_a_clinician_reads_them():
    assert in_reading_order(CATEGORIES) == [
        "risk", "engagement", "notes", "outcomes", "assessment", "discharge", "adjustments",
        "registration", "identity",
    ]  # fmt: skip


def test_a_category_the_order_does_not_know_comes_last():
    assert in_reading_order(["identity", "new", "risk"]) == ["risk", "identity", "new"]


def test_risk_care_notes_and_measures_are_open_the_rest_folded():
    assert {"risk", "engagement", "notes", "outcomes"} == READ_FIRST
