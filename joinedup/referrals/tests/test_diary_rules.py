"""The diary's rules: clashes in a clinician's time, appointment lengths, episodes' bounds,
how each ending counts, who an episode may be allocated to, and answers to students'
requests. No database."""

import datetime as dt

import pytest

from joinedup.referrals import rules
from joinedup.referrals.rules import Slot

NINE = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def slot(start_minutes: int, length_minutes: int = 60, pk: int | None = None) -> Slot:
    return Slot(pk, NINE + start_minutes * MINUTE, length_minutes * MINUTE)


# Clashes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "booked", "clash"),
    [
        (slot(0), slot(0), True),  # the same time
        (slot(30), slot(0), True),  # starts inside another
        (slot(-30), slot(0), True),  # ends inside another
        (slot(10, 20), slot(0), True),  # wholly inside another
        (slot(-10, 90), slot(0), True),  # wholly around another
        (slot(59), slot(0), True),  # one minute of overlap
        (slot(60), slot(0), False),  # back to back: starts as the other ends
        (slot(-60), slot(0), False),  # back to back: ends as the other starts
        (slot(120), slot(0), False),  # well apart
    ],
)
def test_two_appointments_clash_only_when_they_share_time(new, booked, clash):
    assert rules.overlap(new, booked) is clash
    assert rules.overlap(booked, new) is clash  # whichever is booked first
    assert (rules.clashes(new, [booked]) == [booked]) is clash


def test_back_to_back_on_both_sides_is_not_a_clash():
    assert rules.clashes(slot(60), [slot(0), slot(120)]) == []


def test_a_moved_appointment_does_not_clash_with_itself():
    booked = slot(0, pk=7)
    assert rules.clashes(slot(15, pk=7), [booked]) == []
    assert rules.clashes(slot(15, pk=8), [booked]) == [booked]
    assert rules.clashes(slot(15), [booked]) == [booked]  # a new one has no id


def test_every_clash_is_named_earliest_first():
    later, earlier, apart = slot(60, pk=2), slot(0, pk=1), slot(300, pk=3)
    assert rules.clashes(slot(30, 60), [later, apart, earlier]) == [earlier, later]


def test_a_slot_ends_after_its_length():
    assert slot(0, 50).ends_at == NINE + 50 * MINUTE


# Lengths and episodes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "problem"),
    [
        (4, "An appointment lasts at least 5 minutes."),
        (5, ""),
        (50, ""),
        (240, ""),
        (241, "An appointment lasts at most 4 hours."),
        (0, "An appointment lasts at least 5 minutes."),
    ],
)
def test_an_appointment_lasts_between_five_minutes_and_four_hours(minutes, problem):
    assert rules.length_problem(minutes * MINUTE) == problem


def test_an_appointment_falls_inside_its_episode_ends_included():
    start, end = NINE, NINE + 30 * 24 * HOUR
    assert rules.inside_episode(start, start, end)
    assert rules.inside_episode(end, start, end)
    assert not rules.inside_episode(start - MINUTE, start, end)
    assert not rules.inside_episode(end + MINUTE, start, end)
    assert rules.inside_episode(end + 365 * 24 * HOUR, start, None)  # still open


# Endings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ending", "planned"),
    [("planned", True), ("transferred", True), ("unplanned", False), ("disengaged", False)],
)
def test_each_ending_counts_as_planned_or_unplanned(ending, planned):
    assert rules.ending_is_planned(ending) is planned


def test_every_ending_of_an_episode_is_counted_one_way_or_the_other():
    from joinedup.referrals.models import Episode

    assert set(rules.ENDING_IS_PLANNED) == set(Episode.Ending.values)


def test_an_unknown_ending_is_refused():
    with pytest.raises(ValueError, match="Unknown ending 'finished'"):
        rules.ending_is_planned("finished")


# Allocation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "allowed"),
    [
        ([(1, "practitioner")], True),
        ([(1, "triage")], True),
        ([(1, "liaison")], True),
        ([(1, "service_manager")], False),  # a manager of the service is not its clinician
        ([(2, "practitioner")], False),  # a practitioner of another service
        ([(None, "org_admin"), (2, "practitioner")], False),
        ([(2, "practitioner"), (1, "triage")], True),
        ([], False),
    ],
)
def test_an_episode_is_allocated_only_to_a_clinician_of_its_service(seats, allowed):
    assert rules.is_clinician_of(1, seats) is allowed


# Requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wants", "answer", "allowed"),
    [
        ("cancel", "cancelled", True),
        ("cancel", "kept", True),
        ("cancel", "rebooked", False),  # asked to cancel: not moved instead
        ("rebook", "rebooked", True),
        ("rebook", "cancelled", True),
        ("rebook", "kept", True),
        ("rebook", "", False),
        ("other", "kept", False),
    ],
)
def test_a_request_is_answered_only_in_ways_that_fit_it(wants, answer, allowed):
    assert rules.may_answer(wants, answer) is allowed


def test_a_week_runs_monday_to_sunday():
    thursday = dt.date(2026, 3, 5)
    week = rules.week_of(thursday)
    assert (week[0], week[-1]) == (dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    assert rules.week_of(dt.date(2026, 3, 8)) == week == rules.week_of(dt.date(2026, 3, 2))
