from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

from joinedup.operations.readiness import require_database


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
        call_command(
            "db_worker",
            queue_name="*",
            batch=batch,
            interval=interval,
            reload=False,
            startup_delay=not batch,
            verbosity=options["verbosity"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
