"""Leases, runs and their outcomes, and two schedulers at once."""

import threading
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone

from joinedup.operations import scheduler
from joinedup.operations.models import JobLock, JobRun
from joinedup.operations.schedule import JOBS, Job

pytestmark = pytest.mark.django_db

flags = Job("escalate_flags", "*/5 * * * *", "escalate_flags")
broken = Job("broken", "*/5 * * * *", "verify_audit", ("--checkpoints", "/no/such/file"))


def test_a_lease_is_held_by_one_holder_until_released():
    assert scheduler.take_lease("gaps", "a")
    assert not scheduler.take_lease("gaps", "b")
    assert not scheduler.renew_lease("gaps", "b")
    assert scheduler.renew_lease("gaps", "a")
    scheduler.release_lease("gaps", "b")  # not b's to release
    assert not scheduler.take_lease("gaps", "b")
    scheduler.release_lease("gaps", "a")
    assert scheduler.take_lease("gaps", "b")


def test_a_lease_that_ran_out_can_be_taken():
    assert scheduler.take_lease("gaps", "a")
    JobLock.objects.filter(job="gaps").update(held_until=timezone.now() - timedelta(seconds=1))
    assert scheduler.take_lease("gaps", "b")
    assert JobLock.objects.get(job="gaps").holder == "b"


def test_a_run_is_recorded_with_its_outcome_and_what_it_said():
    run = scheduler.run_job(flags, "a")
    assert run.outcome == JobRun.Outcome.SUCCEEDED
    assert "Escalated 0 flags" in run.output
    assert run.started_at <= run.finished_at
    assert JobLock.objects.get(job="escalate_flags").holder == ""  # released


def test_a_failing_run_is_recorded_as_failed_and_the_lease_freed():
    run = scheduler.run_job(broken, "a")
    assert run.outcome == JobRun.Outcome.FAILED
    assert "No checkpoint file at /no/such/file" in run.output
    assert JobLock.objects.get(job="broken").holder == ""


@time_machine.travel(datetime(2026, 12, 15, 12, 2, tzinfo=UTC), tick=False)  # mid-slot
def test_a_job_not_owed_is_not_run_unless_forced():
    scheduler.run_job(flags, "a")
    assert scheduler.run_job(flags, "a") is None
    assert scheduler.run_job(flags, "a", force=True) is not None
    assert JobRun.objects.filter(job="escalate_flags").count() == 2


def test_a_run_left_running_by_a_scheduler_that_died_is_marked_failed():
    left = JobRun.objects.create(
        job="escalate_flags", scheduler="gone", started_at=timezone.now() - timedelta(hours=1)
    )
    scheduler.run_job(flags, "a", force=True)
    left.refresh_from_db()
    assert left.outcome == JobRun.Outcome.FAILED
    assert left.output == scheduler.ABANDONED


def test_a_held_lease_is_renewed_until_the_run_ends(monkeypatch):
    scheduler.take_lease("gaps", "a", timedelta(seconds=1))
    before = JobLock.objects.get(job="gaps").held_until
    stop = threading.Event()
    renewals = []
    real_renew = scheduler.renew_lease

    def renew(job, holder, length):
        renewals.append(real_renew(job, holder, length))
        stop.set()  # the run ends after one renewal
        return renewals[-1]

    monkeypatch.setattr(stop, "wait", lambda timeout: stop.is_set())
    monkeypatch.setattr(scheduler, "renew_lease", renew)
    scheduler.keep_lease("gaps", "a", timedelta(hours=1), stop)
    assert renewals == [True]
    assert JobLock.objects.get(job="gaps").held_until > before + timedelta(minutes=59)


def test_a_lease_taken_by_another_stops_the_renewals():
    scheduler.take_lease("gaps", "b")
    stop = threading.Event()
    stop.wait = lambda timeout: False
    scheduler.keep_lease("gaps", "a", timedelta(hours=1), stop)  # returns: a lost it
    assert JobLock.objects.get(job="gaps").holder == "b"


# Two schedulers race for the lease through two connections; the SQLite test database lives
# in memory behind one connection, so the race is run on PostgreSQL (production's engine).
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections racing need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_never_run_one_job_twice(monkeypatch):
    started, finish = threading.Event(), threading.Event()
    calls = []

    def slow_command(*args, **kwargs):
        calls.append(args)
        started.set()
        assert finish.wait(timeout=60)

    monkeypatch.setattr(scheduler, "call_command", slow_command)

    def scheduler_a():
        try:
            scheduler.run_due("a", [flags])
        finally:
            connections.close_all()

    first = threading.Thread(target=scheduler_a)
    first.start()
    try:
        assert started.wait(timeout=60)
        # While a runs it, b finds the job owed but leased: it runs nothing.
        assert scheduler.run_due("b", [flags]) == []
    finally:
        finish.set()
        first.join()
    # Once a has finished, the job is no longer owed: b still runs nothing.
    assert scheduler.run_due("b", [flags]) == []
    assert len(calls) == 1
    assert JobRun.objects.get().scheduler == "a"


def test_the_command_runs_what_is_owed_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    said = StringIO()
    # Mid-month: a new installation runs every job but the monthly summary, which waits.
    with time_machine.travel(datetime(2026, 12, 15, 12, tzinfo=UTC), tick=False):
        call_command("scheduler", once=True, stdout=said)
        ran = set(JobRun.objects.values_list("job", flat=True))
        assert ran == {job.name for job in JOBS} - {"email_override_summaries"}
        assert "detect_gaps: Succeeded. Raised 0 new gap items." in said.getvalue()
        assert set(JobRun.objects.values_list("outcome", flat=True)) == {"succeeded"}
        call_command("scheduler", once=True, stdout=StringIO())
        assert JobRun.objects.count() == len(JOBS) - 1
        listed = StringIO()
        call_command("scheduler", show=True, stdout=listed)
    assert "never run; next 2027-01-01 08:00" in listed.getvalue()


@time_machine.travel(datetime(2026, 12, 15, 12, 2, tzinfo=UTC), tick=False)  # mid-slot
def test_the_list_says_each_jobs_last_and_next_run():
    scheduler.run_job(flags, "a")
    said = StringIO()
    call_command("scheduler", show=True, stdout=said)
    lines = {line.split()[0]: line for line in said.getvalue().splitlines()}
    assert "never run; owed now" in lines["detect_gaps"]
    assert "succeeded; next" in lines["escalate_flags"]


def test_run_names_a_job_and_runs_it_now():
    said = StringIO()
    call_command("scheduler", run="escalate_flags", stdout=said)
    call_command("scheduler", run="escalate_flags", stdout=said)
    assert JobRun.objects.filter(job="escalate_flags").count() == 2
    with pytest.raises(CommandError, match="invalid choice: 'gap'"):
        call_command("scheduler", "--run", "gap")


def test_run_says_when_another_scheduler_holds_the_job():
    scheduler.take_lease("escalate_flags", "elsewhere")
    with pytest.raises(CommandError, match="escalate_flags is running in another scheduler"):
        call_command("scheduler", run="escalate_flags")
    assert not JobRun.objects.exists()


def test_once_told_to_stop_the_scheduler_starts_no_further_job():
    stopping = threading.Event()
    ran = []

    def stop_after_first(job, holder, **kwargs):
        ran.append(job.name)
        stopping.set()  # SIGTERM arrives while the first job runs

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scheduler, "run_job", stop_after_first)
        scheduler.run_due("a", stopping=stopping)
    assert ran == [JOBS[0].name]
