import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from joinedup.operations.models import JobRun
from joinedup.operations.readiness import require_database
from joinedup.operations.schedule import JOBS, JOBS_BY_NAME
from joinedup.operations.scheduler import holder_name, last_started, run_due, run_job


class Command(BaseCommand):
    help = (
        "Run every periodic job on its schedule (gaps, flags, follow-ups, reminders, "
        "retention, exports, the audit chain), each run locked so that two schedulers or a "
        "slow run never overlap, and recorded with its outcome."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run what is owed, then stop.")
        parser.add_argument(
            "--list", dest="show", action="store_true", help="Say each job's last and next run."
        )
        parser.add_argument(
            "--run", metavar="JOB", choices=sorted(JOBS_BY_NAME), help="Run one job now."
        )
        parser.add_argument(
            "--tick", type=float, default=30.0, help="Seconds between looks at the schedule."
        )

    def handle(self, *args, once, show, run, tick, **options):
        require_database("scheduler")
        if show:
            return self.list_jobs()
        holder = holder_name()
        if run:
            done = run_job(JOBS_BY_NAME[run], holder, force=True)
            if done is None:
                raise CommandError(f"{run} is running in another scheduler; nothing was run.")
            self.report(done)
            return
        if once:
            for done in run_due(holder):
                self.report(done)
            return
        self.loop(holder, tick)

    def loop(self, holder: str, tick: float) -> None:
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        self.stdout.write(f"Scheduler {holder} running {len(JOBS)} jobs; Ctrl-C stops it.")
        while not stopping.is_set():
            try:
                for done in run_due(holder, stopping=stopping):
                    self.report(done)
            except DatabaseError as error:
                # The database restarted or went away: try again next tick, keep running.
                self.stderr.write(f"Database unavailable, trying again shortly: {error}")
                close_old_connections()
            stopping.wait(tick)
        self.stdout.write("Scheduler stopped.")

    def report(self, run: JobRun) -> None:
        style = self.style.SUCCESS if run.outcome == JobRun.Outcome.SUCCEEDED else self.style.ERROR
        last_line = run.output.strip().splitlines()[-1:] or [""]
        self.stdout.write(style(f"{run.job}: {run.get_outcome_display()}. {last_line[0]}"))

    def list_jobs(self) -> None:
        for job in JOBS:
            latest = JobRun.objects.filter(job=job.name).first()
            began = last_started(job)
            state = (
                f"last {latest.started_at:%Y-%m-%d %H:%M} {latest.get_outcome_display().lower()}"
                if latest
                else "never run"
            )
            now = timezone.now()
            owed = job.due(began, now)
            following = job.next_after(began or now)
            when = "owed now" if owed else f"next {timezone.localtime(following):%Y-%m-%d %H:%M}"
            self.stdout.write(f"{job.name:28} {job.cron:14} {state}; {when} — {job.why}")
