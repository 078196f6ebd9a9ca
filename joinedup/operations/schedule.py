"""Every periodic job and when it runs: cron expressions in the hub's time zone
(`TIME_ZONE`), read by `croniter`. A job that was missed while no scheduler ran (a
deployment, a machine down) runs once when one starts again, not once for each time missed.
A job that has never run starts with the first scheduled time of its new installation's past
day, so a hub that starts mid-month sends no monthly summary until the month ends."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from django.utils import timezone

# How far back a job never run looks for a scheduled time it missed.
FIRST_LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    command: str
    args: tuple[str, ...] = ()
    why: str = ""

    def due(self, last_started: datetime | None, now: datetime) -> bool:
        """Whether a run is owed: a scheduled time has passed since the last run began (or,
        for a job never run, within the past day)."""
        if last_started is None:
            last_started = now - FIRST_LOOK_BACK
        return self.next_after(last_started) <= now

    def next_after(self, moment: datetime) -> datetime:
        return croniter(self.cron, timezone.localtime(moment)).get_next(datetime)


JOBS = (
    Job("send_reminders", "*/5 * * * *", "send_reminders", why="appointment reminders"),
    Job("escalate_flags", "*/5 * * * *", "escalate_flags", why="unacknowledged risk flags"),
    Job(
        "recover_abandoned_tasks",
        "*/5 * * * *",
        "recover_abandoned_tasks",
        why="tasks left by a stopped worker",
    ),
    Job(
        "retry_failed_sends",
        "*/5 * * * *",
        "retry_failed_sends",
        why="emails and texts whose server was away",
    ),
    Job("escalate_follow_ups", "0 * * * *", "escalate_follow_ups", why="overdue follow-ups"),
    Job("detect_gaps", "30 2 * * *", "detect_gaps", ("--now",), why="students between services"),
    Job("list_retention_due", "0 6 * * *", "list_retention_due", why="retention listing"),
    Job(
        "escalate_override_reviews",
        "0 7 * * *",
        "escalate_override_reviews",
        why="emergency accesses not reviewed",
    ),
    Job(
        "email_override_summaries",
        "0 8 1 * *",
        "email_override_summaries",
        why="last month's emergency access",
    ),
    Job(
        "add_audit_partitions",
        "45 4 * * *",
        "add_audit_partitions",
        why="the audit log's months ahead",
    ),
    Job("prune_fhir_exports", "15 3 * * *", "prune_fhir_exports", why="old bulk exports"),
    Job("remove_old_extracts", "45 3 * * *", "remove_old_extracts", why="old extract files"),
    Job(
        "prune_task_results",
        "0 4 * * *",
        "prune_db_task_results",
        why="finished background tasks",
    ),
    Job("verify_audit", "30 4 * * *", "verify_audit", why="the audit log's chain"),
)
JOBS_BY_NAME = {job.name: job for job in JOBS}
