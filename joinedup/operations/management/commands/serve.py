import os
import shutil
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from joinedup.operations.readiness import require_database


def default_workers() -> int:
    """Gunicorn's own rule of thumb: two workers per core, and one more."""
    return 2 * (os.cpu_count() or 1) + 1


class Command(BaseCommand):
    help = (
        "Serve JoinedUp with gunicorn: WORKERS processes (default two per core and one "
        "more) on BIND (default 127.0.0.1:8000). Run several side by side behind one proxy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WORKERS", default_workers()))
        )

    def handle(self, *args, bind, workers, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        require_database("server")
        if not settings.DEBUG and not any(settings.STATIC_ROOT.glob("*")):
            raise CommandError(
                f"No static files in {settings.STATIC_ROOT}: run `joinedup collectstatic "
                "--noinput` first."
            )
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable))
        if gunicorn is None:
            raise CommandError("gunicorn is not installed beside this Python.")
        argv = [gunicorn, "--config", "python:joinedup.operations.gunicorn_config"]
        argv += ["--bind", bind, "--workers", str(workers), "joinedup.wsgi:application"]
        os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "30000")
        # Each worker keeps its connection (checked before reuse): opening one costs a
        # signed-in request more than the rest of its fixed work.
        os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
        self.stdout.write(f"Serving on http://{bind} with {workers} workers.")
        self.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606 (gunicorn replaces this process)
