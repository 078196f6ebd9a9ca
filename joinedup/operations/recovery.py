"""Work left running by a worker that died (killed, out of memory, its machine gone) is
marked failed, never left "running": each `joinedup worker` holds a lease while it runs
(renewed like the scheduler's), and a task still running under a worker whose lease ran out
is failed, with what it was making (a bulk export, a research extract), so that whoever
asked for it sees it failed and can start it again."""

from datetime import timedelta

from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
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
