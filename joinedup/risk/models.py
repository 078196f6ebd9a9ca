"""The shared risk language, risk assessments and flags. Category `risk` of the policy."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import Service, Student
from joinedup.risk import rules


class RiskLevel(models.Model):
    """One level of the hub's shared risk language (Low, Moderate, High, Immediate)."""

    rank = models.PositiveSmallIntegerField(unique=True)
    name = models.CharField(max_length=40, unique=True)
    descriptor = models.TextField()
    expected_response = models.TextField()
    response_hours = models.PositiveIntegerField(
        help_text=_("A flag at this level must be acknowledged within this many hours.")
    )

    class Meta:
        ordering = ["rank"]

    def __str__(self):
        return self.name

    def as_rule(self) -> rules.Level:
        return rules.Level(self.rank, self.name, self.response_hours)


class ServiceScale(models.Model):
    """A service's own word for a level, mapped to the shared language."""

    service = models.ForeignKey(Service, models.CASCADE, related_name="risk_scale")
    label = models.CharField(max_length=40)
    level = models.ForeignKey(RiskLevel, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["service", "level__rank"]
        constraints = [
            models.UniqueConstraint(fields=["service", "label"], name="scale_label_unique"),
        ]

    def __str__(self):
        return f"{self.service}: {self.label} = {self.level}"


class Domain(models.TextChoices):
    SELF = "self", _("To self (self-harm, suicide)")
    SELF_NEGLECT = "self_neglect", _("Self-neglect")
    FROM_OTHERS = "from_others", _("From others")
    TO_OTHERS = "to_others", _("To others")
    ACADEMIC = "academic", _("Academic (interrupting or leaving)")


class RiskAssessment(models.Model):
    """A structured assessment: a level per domain, factors, protective factors, a plan."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="risk_assessments")
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Domain → level rank, for the domains assessed.
    domain_levels = models.JSONField()
    level = models.ForeignKey(RiskLevel, models.PROTECT, related_name="+")
    factors = models.TextField(_("risk factors"))
    protective_factors = models.TextField(_("protective factors"), blank=True)
    plan = models.TextField()
    review_on = models.DateField(_("review date"))

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["student", "service", "-created_at"], name="risk_latest")]

    def __str__(self):
        return f"{self.level} ({self.service})"


class Flag(models.Model):
    """A risk signal someone in the student's care must acknowledge within the time its
    level requires; unacknowledged, it escalates (duty worker, then service manager)."""

    class Source(models.TextChoices):
        PRACTITIONER = "practitioner", _("Raised by a practitioner")
        QUESTIONNAIRE = "questionnaire", _("Questionnaire risk item")
        CRISIS_CONTACT = "crisis_contact", _("Crisis contact")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="risk_flags")
    level = models.ForeignKey(RiskLevel, models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=300)
    service = models.ForeignKey(
        Service, models.PROTECT, related_name="+", help_text=_("The service that raised it.")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    administration = models.ForeignKey(
        "measures.Administration",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="risk_flags",
        help_text=_("The questionnaire whose risk item raised it."),
    )
    raised_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalation_stage = models.PositiveSmallIntegerField(default=rules.NOT_DUE)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["acknowledged_at", "due_at"], name="flag_open_due"),
            models.Index(fields=["student", "acknowledged_at"], name="flag_student_open"),
        ]

    def __str__(self):
        return f"{self.level}: {self.reason}"


class Escalation(models.Model):
    """A recorded step of a flag's escalation: who was emailed, and when."""

    flag = models.ForeignKey(Flag, models.CASCADE, related_name="escalations")
    stage = models.PositiveSmallIntegerField()
    sent_to = models.JSONField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]

    def __str__(self):
        return f"stage {self.stage} at {self.at:%Y-%m-%d %H:%M}"
