"""The rules of tasks: overdue, who may be given one, who may mark it done, when it is due."""

import datetime as dt
from zoneinfo import ZoneInfo

from joinedup.referrals.work import rules

UTC = dt.UTC
NOW = dt.datetime(2026, 5, 14, 12, 0, tzinfo=UTC)
MINE = {1: "Wellbeing", 2: "Counselling"}


def test_a_task_not_done_by_its_due_moment_is_overdue():
    assert rules.is_overdue(NOW - dt.timedelta(minutes=1), None, NOW)


def test_a_task_due_now_or_later_is_not_overdue():
    assert not rules.is_overdue(NOW, None, NOW)
    assert not rules.is_overdue(NOW + dt.timedelta(days=1), None, NOW)


def test_a_done_task_is_never_overdue():
    assert not rules.is_overdue(NOW - dt.timedelta(days=3), NOW - dt.timedelta(days=1), NOW)


def test_a_task_is_due_by_the_end_of_its_day_where_the_service_is():
    london = ZoneInfo("Europe/London")
    due_at = rules.due_at_for(dt.date(2026, 5, 14), london)
    assert due_at == dt.datetime(2026, 5, 14, 23, 59, tzinfo=london)
    assert due_at.utcoffset() == dt.timedelta(hours=1)  # summer time


def test_a_task_may_be_due_today_or_later_but_not_in_the_past():
    today = dt.date(2026, 5, 14)
    assert rules.due_on_problem(today, today) is None
    assert rules.due_on_problem(today + dt.timedelta(days=1), today) is None
    assert rules.due_on_problem(today - dt.timedelta(days=1), today) == (
        "The due date must be today or later."
    )


def test_a_team_task_goes_to_a_service_the_author_works_in():
    assert rules.assignment_problem(MINE, 2) is None
    assert rules.assignment_problem(MINE, 3) == (
        "You can set tasks only for a service you work in."
    )


def test_a_person_is_given_a_task_only_in_a_service_they_work_in():
    assert rules.assignment_problem(MINE, 1, "Wes Hale", {1, 5}) is None
    assert rules.assignment_problem(MINE, 1, "Cara Lund", {2}) == (
        "Cara Lund does not work in Wellbeing. Choose someone who does."
    )
    assert rules.assignment_problem(MINE, 1, "Cara Lund", ()) is not None


def test_a_person_outside_the_authors_services_is_refused_for_the_service_first():
    assert rules.assignment_problem(MINE, 3, "Cara Lund", {3}) == (
        "You can set tasks only for a service you work in."
    )


def test_the_person_it_is_for_or_anyone_in_its_team_marks_it_done():
    assert rules.may_complete(7, 7, 1, set())  # the assignee, whatever their services
    assert rules.may_complete(8, 7, 1, {1})  # a colleague in the team, covering
    assert rules.may_complete(8, None, 1, {1, 2})  # a team task
    assert not rules.may_complete(8, 7, 1, {2})
    assert not rules.may_complete(8, None, 1, set())


def test_only_a_follow_up_after_crisis_care_must_say_what_was_done():
    assert rules.needs_outcome(True)
    assert not rules.needs_outcome(False)
