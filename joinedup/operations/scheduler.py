"""Runs periodic jobs so that no two runs of one job overlap, however many schedulers run.

A scheduler takes a job's lease (`JobLock`) with one conditional UPDATE, which succeeds for
one process only on either engine; while the job runs, a thread renews the lease, so a
slow run keeps it. A scheduler that died loses its leases when they run out, and the next
holder marks what it left running as failed. Every run is a `JobRun` with its outcome and
what the command said."""

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from joinedup.operations.models import JobLock, JobRun
from joinedup.operations.schedule import JOBS, Job

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
OUTPUT_KEPT = 20_000  # characters of a run's output kept with it
ABANDONED = "The scheduler running this stopped before it finished."


def holder_name() -> str:
    """This process, as its leases and runs name it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def take_lease(job: str, holder: str, length: timedelta = LEASE) -> bool:
    """Take the job's lease if it is free or has run out; True if this holder has it now."""
    JobLock.objects.get_or_create(job=job)  # the first time any scheduler runs it
    now = timezone.now()
    free = Q(holder="") | Q(held_until__lt=now) | Q(held_until__isnull=True)
    taken = JobLock.objects.filter(free, job=job).update(holder=holder, held_until=now + length)
    return taken == 1


def renew_lease(job: str, holder: str, length: timedelta = LEASE) -> bool:
    renewed = JobLock.objects.filter(job=job, holder=holder).update(
        held_until=timezone.now() + length
    )
    return renewed == 1


def release_lease(job: str, holder: str) -> None:
    JobLock.objects.filter(job=job, holder=holder).update(holder="", held_until=None)


def keep_lease(job: str, holder: str, length: timedelta, stop: threading.Event) -> None:
    """Renew the lease every third of its length until `stop` is set."""
    while not stop.wait(length.total_seconds() / 3):
        try:
            if not renew_lease(job, holder, length):
                logger.error("Lost the lease of %s while running it.", job)
                return
        except DatabaseError:
            logger.warning("Could not renew the lease of %s; trying again.", job)


@contextmanager
def lease(job: str, holder: str, length: timedelta = LEASE) -> Iterator[bool]:
    """Hold the job's lease for the block, renewed by a thread of its own; yields whether it
    was taken (False: another scheduler holds it)."""
    if not take_lease(job, holder, length):
        yield False
        return
    stop = threading.Event()

    def keep() -> None:
        try:
            keep_lease(job, holder, length, stop)
        finally:
            connection.close()

    keeper = threading.Thread(target=keep, name=f"lease-{job}", daemon=True)
    keeper.start()
    try:
        yield True
    finally:
        stop.set()
        keeper.join()
        release_lease(job, holder)


def last_started(job: Job) -> datetime | None:
    return (
        JobRun.objects.filter(job=job.name)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )


def run_job(job: Job, holder: str, *, force: bool = False, length: timedelta = LEASE):
    """Run the job if it is owed (or `force`) and no one else is running it; the run, or
    None when nothing ran."""
    with lease(job.name, holder, length) as held:
        if not held:
            return None
        now = timezone.now()
        if not (force or job.due(last_started(job), now)):
            return None  # another scheduler ran it while this one waited
        # Whoever ran it last lost the lease without finishing: say so.
        JobRun.objects.filter(job=job.name, outcome=JobRun.Outcome.RUNNING).update(
            outcome=JobRun.Outcome.FAILED, finished_at=now, output=ABANDONED
        )
        run = JobRun.objects.create(job=job.name, scheduler=holder, started_at=now)
        said = StringIO()
        try:
            call_command(job.command, *job.args, stdout=said, stderr=said)
        except Exception:
            logger.exception("Job %s failed.", job.name)
            said.write(traceback.format_exc())
            run.outcome = JobRun.Outcome.FAILED
        else:
            run.outcome = JobRun.Outcome.SUCCEEDED
        run.finished_at = timezone.now()
        run.output = said.getvalue()[-OUTPUT_KEPT:]
        run.save(update_fields=["outcome", "finished_at", "output"])
        return run


def run_due(holder: str, jobs=JOBS, stopping: threading.Event | None = None) -> list[JobRun]:
    """Run, one after another, every job that is owed a run; once `stopping` is set, none
    more (the one running finishes)."""
    now = timezone.now()
    runs = []
    for job in jobs:
        if stopping is not None and stopping.is_set():
            break
        if job.due(last_started(job), now):
            run = run_job(job, holder)
            if run is not None:
                runs.append(run)
    return runs
