"""What belongs to a practitioner's day: today's moments, what is due, which reviews."""

import datetime as dt
from zoneinfo import ZoneInfo

from joinedup.record.my_day import rules

LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2026, 5, 14)


def test_the_day_runs_from_midnight_to_midnight_where_the_practitioner_works():
    start, end = rules.day_bounds(TODAY, LONDON)
    assert start == dt.datetime(2026, 5, 14, tzinfo=LONDON)
    assert end == dt.datetime(2026, 5, 15, tzinfo=LONDON)
    assert start.astimezone(dt.UTC).hour == 23  # 11 pm the day before, in UTC (summer)


def test_a_moment_is_today_from_the_first_to_the_last_minute_of_the_local_day():
    assert rules.is_today(dt.datetime(2026, 5, 14, 0, 0, tzinfo=LONDON), TODAY, LONDON)
    assert rules.is_today(dt.datetime(2026, 5, 14, 23, 59, tzinfo=LONDON), TODAY, LONDON)
    assert not rules.is_today(dt.datetime(2026, 5, 15, 0, 0, tzinfo=LONDON), TODAY, LONDON)
    # 23:30 UTC on the 13th is already the 14th in London.
    assert rules.is_today(dt.datetime(2026, 5, 13, 23, 30, tzinfo=dt.UTC), TODAY, LONDON)
    assert not rules.is_today(dt.datetime(2026, 5, 13, 22, 59, tzinfo=dt.UTC), TODAY, LONDON)


def test_due_today_means_today_or_earlier_and_not_later():
    assert rules.is_due_today(TODAY, TODAY)
    assert rules.is_due_today(TODAY - dt.timedelta(days=10), TODAY)
    assert not rules.is_due_today(TODAY + dt.timedelta(days=1), TODAY)


def _assessed(pk, student, service, days_ago, review_on):
    created = dt.datetime(2026, 5, 14, tzinfo=dt.UTC) - dt.timedelta(days=days_ago)
    return rules.Assessed(pk, student, service, created, review_on)


def test_a_review_is_due_on_each_services_latest_assessment_once_its_date_has_come():
    assessments = [
        _assessed(1, 10, 1, 30, TODAY - dt.timedelta(days=5)),  # replaced by 2
        _assessed(2, 10, 1, 3, TODAY + dt.timedelta(days=7)),  # latest, not yet due
        _assessed(3, 11, 1, 20, TODAY),  # due today
        _assessed(4, 11, 2, 40, TODAY - dt.timedelta(days=1)),  # another service's, overdue
    ]
    assert rules.reviews_due(assessments, TODAY) == [4, 3]


def test_of_two_assessments_made_at_once_the_later_recorded_counts():
    same = TODAY - dt.timedelta(days=1)
    assessments = [_assessed(5, 10, 1, 2, same), _assessed(6, 10, 1, 2, TODAY + dt.timedelta(1))]
    assert rules.reviews_due(assessments, TODAY) == []
    assert rules.reviews_due(list(reversed(assessments)), TODAY) == []
