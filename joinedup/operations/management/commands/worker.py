import time
import uuid

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

from joinedup.operations.models import JobLock
from joinedup.operations.readiness import require_database
from joinedup.operations.recovery import recover_abandoned, worker_lease
from joinedup.operations.scheduler import lease

RETRY_SECONDS = 5


class Command(BaseCommand):
    help = (
        "Run background tasks (emails, bulk exports, extracts, gap runs) from the database "
        "queue, in development as in production. Several may run side by side."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch", action="store_true", help="Run every task queued now, then stop."
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between looks at an empty queue."
        )

    def handle(self, *args, batch, interval, **options):
        backend = task_backends["default"]
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                f"TASKS_BACKEND is {type(backend).__module__}.{type(backend).__name__}, which "
                "runs each task as it is queued, so there is no queue for a worker. Unset "
                "TASKS_BACKEND to queue tasks in the database."
            )
        require_database("worker")
        worker_id = uuid.uuid4().hex
        # The lease says this worker is alive; a task it leaves running when it dies is
        # failed once the lease runs out (`recover_abandoned_tasks`).
        with lease(worker_lease(worker_id), worker_id):
            while True:
                try:
                    recover_abandoned(worker_id)  # what it was running when the database went
                    call_command(
                        "db_worker",
                        queue_name="*",
                        batch=batch,
                        interval=interval,
                        reload=False,
                        startup_delay=not batch,
                        worker_id=worker_id,
                        verbosity=options["verbosity"],
                        stdout=self.stdout,
                        stderr=self.stderr,
                    )
                    break
                except DatabaseError as error:
                    # The database restarted or went away: wait, then carry on working.
                    self.stderr.write(f"Database unavailable, trying again shortly: {error}")
                    close_old_connections()
                    time.sleep(RETRY_SECONDS)
        JobLock.objects.filter(job=worker_lease(worker_id)).delete()
