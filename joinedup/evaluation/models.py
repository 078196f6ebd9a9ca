"""Research extracts, saved report snapshots and evaluation projects.

Nothing here holds personal data: an extract row lives only in its files (pseudonymised and
k-anonymous, `joinedup.evaluation.research`), and a saved report holds figures that have
already passed disclosure control.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import Organisation, Service


class ResearchExtract(models.Model):
    """One run of a research extract: what was asked for, how far it has got, and where its
    files are. Only the person who ran it may download them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready to download")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    starts_on = models.DateField(_("episodes starting from"))
    ends_on = models.DateField(_("up to (not including)"))
    services = models.ManyToManyField(Service, related_name="+")
    k = models.PositiveSmallIntegerField(default=5)
    # Below the hub's minimum k: the agreement that allows it, and who approved it.
    approved_under = models.ForeignKey(
        "consent.DataSharingAgreement", models.PROTECT, null=True, blank=True, related_name="+"
    )
    approval = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Percent done."))
    stage = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The release note (counts of rows generalised, suppressed and left out by opt-out).
    release_note = models.JSONField(default=dict, blank=True)
    # Relative to settings.VAR_DIR; blank until the files are written.
    file_path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lt=models.F("ends_on")), name="extract_period_forward"
            ),
            models.CheckConstraint(condition=Q(k__gte=2), name="extract_k_at_least_two"),
        ]

    def __str__(self):
        return f"Research extract {self.starts_on:%b %Y}–{self.ends_on:%b %Y}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class SavedReport(models.Model):
    """A frozen snapshot of a service report: the parameters that produced it and the
    figures as they were shown. Reopening shows these figures; nothing is recomputed."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="saved_reports")
    title = models.CharField(max_length=200)
    parameters = models.JSONField()
    figures = models.JSONField()
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-saved_at"]

    def __str__(self):
        return self.title


class EvaluationProject(models.Model):
    """An evaluation recorded in the four stages the sector's toolkit recommends: plan,
    conduct, report and share."""

    class Design(models.TextChoices):
        BEFORE_AFTER = "before_after", _("Before and after (outcome measures)")
        COMPARISON = "comparison", _("Comparison with another group or service")
        SERVICE_EVALUATION = "service_evaluation", _("Service evaluation (routine data)")
        QUALITATIVE = "qualitative", _("Interviews or focus groups")
        MIXED = "mixed", _("Mixed methods")
        OTHER = "other", _("Another design")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, models.PROTECT, related_name="evaluation_projects"
    )
    title = models.CharField(max_length=200)
    # Plan
    question = models.TextField(_("evaluation question"))
    design = models.CharField(max_length=20, choices=Design.choices)
    involved = models.TextField(
        _("who is involved"), help_text=_("Staff, partners and anyone else taking part.")
    )
    student_involvement = models.TextField(
        _("how students are involved"),
        help_text=_("For example a student advisory group shaping the question."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    # Conduct
    data_used = models.TextField(_("which data"), blank=True)
    saved_reports = models.ManyToManyField(
        SavedReport, blank=True, related_name="projects", verbose_name=_("saved reports")
    )
    # Report
    findings = models.TextField(blank=True)
    what_works = models.TextField(_("what works"), blank=True)
    what_could_improve = models.TextField(_("what could improve"), blank=True)
    recommendations = models.TextField(blank=True)
    # Share
    shared_with = models.TextField(_("shared with"), blank=True)
    shared_on = models.DateField(_("shared on"), null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="project_timescale_forward"
            )
        ]

    def __str__(self):
        return self.title
