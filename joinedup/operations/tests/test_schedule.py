"""When each job is owed a run: cron times in the hub's time zone, missed runs run once."""

from datetime import UTC, datetime

import pytest
from croniter import croniter

from joinedup.operations.schedule import JOBS, Job

gaps = Job("gaps", "30 2 * * *", "detect_gaps")
reminders = Job("reminders", "*/5 * * * *", "send_reminders")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_job_never_run_is_owed_now_when_its_time_fell_in_the_past_day():
    assert gaps.due(None, utc(2026, 12, 7, 12, 0))
    assert reminders.due(None, utc(2026, 12, 7, 12, 2))


def test_a_monthly_job_never_run_waits_for_its_next_time():
    monthly = Job("summaries", "0 7 1 * *", "email_override_summaries")
    assert not monthly.due(None, utc(2026, 12, 15, 12, 0))
    assert not monthly.due(None, utc(2026, 12, 2, 7, 0, 1))
    assert monthly.due(None, utc(2026, 12, 1, 7, 0))
    assert monthly.due(None, utc(2026, 12, 2, 6, 59, 59))


def test_a_daily_job_is_owed_from_its_time_the_next_day():
    ran = utc(2026, 12, 6, 2, 30)  # London is on GMT in December
    assert not gaps.due(ran, utc(2026, 12, 7, 2, 29, 59))
    assert gaps.due(ran, utc(2026, 12, 7, 2, 30))


def test_times_are_the_hubs_local_times_in_summer():
    ran = utc(2026, 7, 5, 1, 30)  # 02:30 British Summer Time
    assert gaps.next_after(ran) == utc(2026, 7, 6, 1, 30)


def test_a_run_late_in_the_day_waits_for_the_next_scheduled_time():
    ran = utc(2026, 12, 6, 17, 0)  # started by hand in the afternoon
    assert not gaps.due(ran, utc(2026, 12, 7, 2, 0))
    assert gaps.due(ran, utc(2026, 12, 7, 2, 30))


def test_every_five_minutes_counts_from_the_clock_not_from_the_run():
    ran = utc(2026, 12, 7, 9, 3)
    assert not reminders.due(ran, utc(2026, 12, 7, 9, 4, 59))
    assert reminders.due(ran, utc(2026, 12, 7, 9, 5))


def test_days_missed_are_owed_once():
    # Owed is yes or no: a scheduler back after three days runs the job once.
    ran = utc(2026, 12, 1, 2, 30)
    assert gaps.due(ran, utc(2026, 12, 4, 12, 0)) is True


@pytest.mark.parametrize("job", JOBS, ids=lambda job: job.name)
def test_every_job_names_a_command_and_a_valid_schedule(job):
    from django.core.management import get_commands

    assert croniter.is_valid(job.cron)
    assert job.command in get_commands()
    assert job.why


def test_job_names_are_unique():
    assert len({job.name for job in JOBS}) == len(JOBS)
