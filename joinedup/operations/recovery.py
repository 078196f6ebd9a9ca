"""Work left running by a worker that died (killed, out of memory, its machine gone) is
marked failed, never left "running": each `joinedup worker` holds a lease while it runs
(renewed like the scheduler's), and a task still running under a worker whose lease ran out
is failed, with what it was making (a bulk export, a research extract), so that whoever
asked for it sees it failed and can start it again. A task that failed because a server
could not be reached (the mail server, GOV.UK Notify) is tried again, five more times over
about two and a half hours."""

from datetime import timedelta

from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from joinedup.evaluation.models import ResearchExtract
from joinedup.fhir.models import ExportJob
from joinedup.operations.models import JobLock
from joinedup.operations.scheduler import LEASE

WORKER = "worker:"
STOPPED = "The worker running this stopped before it finished."


class WorkerStoppedError(Exception):
    """What a task left running by a dead worker is failed with."""


def worker_lease(worker_id: str) -> str:
    return f"{WORKER}{worker_id}"


def _export_stopped(job_id: int) -> None:
    ExportJob.objects.filter(
        pk=job_id, status__in=(ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
    ).update(
        status=ExportJob.Status.FAILED,
        error="The export stopped when the server running it did. Start a new export.",
        finished_at=timezone.now(),
    )


def _extract_stopped(extract_id: int) -> None:
    ResearchExtract.objects.filter(
        pk=extract_id, status__in=(ResearchExtract.Status.QUEUED, ResearchExtract.Status.RUNNING)
    ).update(
        status=ResearchExtract.Status.FAILED,
        error="The extract stopped when the server building it did. Ask for it again.",
    )


# What a task that was stopped leaves behind, by task.
LEFT_BEHIND = {
    "joinedup.fhir.tasks.run_export": _export_stopped,
    "joinedup.evaluation.tasks.build_extract": _extract_stopped,
}


def recover_abandoned(worker_id: str | None = None) -> int:
    """Fail every task still running under a worker whose lease has run out, and what it
    was making; how many. A task started less than a lease ago is left alone (its worker
    may have just begun). With `worker_id`, fail what that worker left running when the
    database went away under it, whatever its lease says."""
    now = timezone.now()
    live = {
        job.removeprefix(WORKER)
        for job in JobLock.objects.filter(job__startswith=WORKER, held_until__gte=now)
        .exclude(holder="")
        .values_list("job", flat=True)
    }
    stopped = 0
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    if worker_id is None:
        running = running.filter(started_at__lt=now - LEASE)
    for result in running:
        last = result.worker_ids[-1] if result.worker_ids else None
        if (last != worker_id) if worker_id else (last in live):
            continue
        with transaction.atomic():
            result.set_failed(WorkerStoppedError(STOPPED))
            if left := LEFT_BEHIND.get(result.task_path):
                left(*result.args_kwargs.get("args", ()), **result.args_kwargs.get("kwargs", {}))
        stopped += 1
    JobLock.objects.filter(job__startswith=WORKER, held_until__lt=now - timedelta(days=1)).delete()
    return stopped


# Tasks that make something with a state of its own (failed for whoever asked, who starts
# it again), or that run again on their schedule anyway, are not retried.
NOT_RETRIED = {
    *LEFT_BEHIND,
    "joinedup.referrals.tasks.detect_gaps",
    "joinedup.governance.tasks.check_audit_chain",
}
ATTEMPTS = 6
FIRST_WAIT = timedelta(minutes=5)


def _could_not_reach(exception_class_path: str) -> bool:
    """Whether a task failed because a server could not be reached or answered (a mail
    server down, GOV.UK Notify unreachable): worth trying again."""
    try:
        failure = import_string(exception_class_path)
    except ImportError:
        return False
    return isinstance(failure, type) and issubclass(failure, OSError)


def retry_failed_sends() -> tuple[int, int]:
    """Queue again each task (an email, a text message) that failed because a server could
    not be reached, after 5, 10, 20, 40 and 80 minutes; (queued again, given up after
    the last attempt in the past day)."""
    now = timezone.now()
    failed = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__gte=now - timedelta(days=1)
    ).exclude(task_path__in=NOT_RETRIED)
    retried = given_up = 0
    for result in failed:
        if not _could_not_reach(result.exception_class_path):
            continue
        attempts = len(result.worker_ids)
        if attempts >= ATTEMPTS:
            given_up += 1
            continue
        if result.finished_at + FIRST_WAIT * 2 ** (attempts - 1) > now:
            continue
        DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.FAILED).update(
            status=TaskResultStatus.READY, run_after=now, finished_at=None
        )
        retried += 1
    return retried, given_up
