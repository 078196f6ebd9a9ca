"""A task left running by a worker that died is failed, with the export it was making,
once the worker's lease has run out; a live worker's task is left alone."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from joinedup.fhir.models import ExportJob
from joinedup.operations.models import JobLock
from joinedup.operations.recovery import (
    STOPPED,
    recover_abandoned,
    retry_failed_sends,
    worker_lease,
)
from joinedup.operations.scheduler import take_lease

pytestmark = pytest.mark.django_db


def running(task_path: str, worker: str, *args, minutes_ago: int = 10) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        task_path=task_path,
        args_kwargs={"args": list(args), "kwargs": {}},
        worker_ids=[worker],
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def export(hub):
    return ExportJob.objects.create(
        requested_by=hub.practitioner, request_url="/fhir/$export", status="running"
    )


def test_a_dead_workers_export_is_failed_with_its_task(export):
    take_lease(worker_lease("dead"), "dead", timedelta(seconds=-1))  # ran out
    task = running("joinedup.fhir.tasks.run_export", "dead", export.pk)
    assert recover_abandoned() == 1
    task.refresh_from_db()
    export.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert STOPPED in task.traceback
    assert export.status == ExportJob.Status.FAILED
    assert export.error == "The export stopped when the server running it did. Start a new export."
    assert recover_abandoned() == 0  # once


def test_a_live_workers_task_is_left_running(export):
    take_lease(worker_lease("alive"), "alive")
    task = running("joinedup.fhir.tasks.run_export", "alive", export.pk)
    assert recover_abandoned() == 0
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_task_just_started_is_given_a_lease_to_show_its_worker(export):
    task = running("joinedup.fhir.tasks.run_export", "new", export.pk, minutes_ago=0)
    assert recover_abandoned() == 0
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_task_of_another_kind_is_failed_alone(hub):
    task = running("joinedup.referrals.tasks.email_new_referral", "gone", 1)
    assert recover_abandoned() == 1
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED


def test_leases_of_workers_long_gone_are_cleared():
    take_lease(worker_lease("old"), "old", timedelta(days=-2))
    take_lease(worker_lease("recent"), "recent", timedelta(hours=-1))
    recover_abandoned()
    assert list(JobLock.objects.values_list("job", flat=True)) == ["worker:recent"]


def test_a_worker_fails_what_it_was_running_when_the_database_went(export):
    task = running("joinedup.fhir.tasks.run_export", "me", export.pk, minutes_ago=0)
    other = running("joinedup.fhir.tasks.run_export", "another", export.pk, minutes_ago=0)
    assert recover_abandoned("me") == 1
    task.refresh_from_db()
    other.refresh_from_db()
    assert (task.status, other.status) == (TaskResultStatus.FAILED, TaskResultStatus.RUNNING)


def failed(task_path: str, exception: str, attempts: int, minutes_ago: int) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status=TaskResultStatus.FAILED,
        task_path=task_path,
        args_kwargs={"args": [1], "kwargs": {}},
        worker_ids=[f"w{n}" for n in range(attempts)],
        backend_name="default",
        run_after=timezone.now(),
        finished_at=timezone.now() - timedelta(minutes=minutes_ago),
        exception_class_path=exception,
    )


ESCALATION = "joinedup.risk.tasks.email_escalation"
DOWN = "smtplib.SMTPServerDisconnected"


@pytest.mark.parametrize(
    ("attempts", "minutes_ago", "queued"),
    [(1, 4, False), (1, 5, True), (2, 9, False), (2, 10, True), (5, 80, True), (5, 79, False)],
)
def test_an_email_whose_server_was_away_is_tried_again_after_a_growing_wait(
    attempts, minutes_ago, queued
):
    task = failed(ESCALATION, DOWN, attempts, minutes_ago)
    assert retry_failed_sends() == (int(queued), 0)
    task.refresh_from_db()
    assert task.status == (TaskResultStatus.READY if queued else TaskResultStatus.FAILED)


def test_after_six_attempts_it_is_given_up_and_the_run_says_so():
    failed(ESCALATION, "builtins.ConnectionRefusedError", 6, 300)
    assert retry_failed_sends() == (0, 1)
    with pytest.raises(CommandError, match="1 message\\(s\\) of the past day could not be sent"):
        call_command("retry_failed_sends", stdout=StringIO())


def test_only_failures_to_reach_a_server_are_retried_and_never_exports():
    failed(ESCALATION, "builtins.ValueError", 1, 60)
    failed("joinedup.fhir.tasks.run_export", DOWN, 1, 60)
    failed(ESCALATION, "no.such.Error", 1, 60)
    assert retry_failed_sends() == (0, 0)
