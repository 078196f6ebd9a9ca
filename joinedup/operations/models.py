"""What the scheduler has run, and who may run each job now."""

from django.db import models


class JobRun(models.Model):
    """One run of a periodic job: when, by which scheduler, how it ended and what it said."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=60, db_index=True)
    scheduler = models.CharField(max_length=200, help_text="The process that ran it.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    output = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "-started_at"], name="jobrun_latest")]

    def __str__(self):
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M} ({self.outcome})"


class JobLock(models.Model):
    """Who holds a job, until when. A holder renews its lease while it runs, so a slow run
    keeps the job and a scheduler that died frees it when the lease runs out."""

    job = models.CharField(max_length=60, primary_key=True)
    holder = models.CharField(max_length=200, blank=True)
    held_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.job}: {self.holder or 'free'}"
