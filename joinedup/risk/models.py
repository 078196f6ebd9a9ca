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
    # A service manager the flag escalated to asked this practitioner to act on it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

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


class Concern(models.Model):
    """A worry about a student raised by a member of staff or a fellow student. It goes to
    the triage of the student's university wellbeing service with a response clock."""

    class Urgency(models.TextChoices):
        URGENT = "urgent", _("Urgent: today")
        SOON = "soon", _("Soon: within a day")
        ROUTINE = "routine", _("Not urgent")

    class Knows(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNSURE = "unsure", _("Not sure")

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", _("The service contacted the student")
        ALREADY_KNOWN = "known", _("The student is already in contact with support")
        SIGNPOSTED = "signposted", _("The student was signposted")
        REFERRED = "referred", _("The student was referred on")
        NO_ACTION = "no_action", _("No further action")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Empty when the number given matched no student at the reporter's university: the
    # concern still goes to that university's triage, who check it with the reporter (the
    # reporter is told the same either way, so the form cannot be used to find students).
    student = models.ForeignKey(
        Student, models.CASCADE, null=True, blank=True, related_name="concerns"
    )
    student_number_given = models.CharField(_("student number given"), max_length=20, blank=True)
    service = models.ForeignKey(Service, models.PROTECT, related_name="concerns")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when a student raised it anonymously."),
    )
    is_from_student = models.BooleanField(default=False)
    # A digest of the private code an anonymous reporter uses to read replies.
    code_digest = models.CharField(max_length=64, blank=True, db_index=True)
    observed = models.TextField(_("what you observed"))
    urgency = models.CharField(max_length=8, choices=Urgency.choices)
    student_knows = models.CharField(max_length=6, choices=Knows.choices)
    student_agreed = models.BooleanField(_("the student agreed to it being passed on"))
    raised_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["service", "outcome", "due_at"], name="concern_triage")]

    def __str__(self):
        return f"{self.get_urgency_display()} concern"


class ConcernMessage(models.Model):
    """One message of a concern's thread between triage and the person who raised it."""

    concern = models.ForeignKey(Concern, models.CASCADE, related_name="messages")
    from_reporter = models.BooleanField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return self.text[:40]


DEFAULT_CRISIS_NUMBERS = (
    "Emergency: 999. NHS 111, option 2 for mental health, any time. Samaritans: 116 123, "
    "free, any time. Shout: text SHOUT to 85258."
)


class SafetyPlan(models.Model):
    """A safety plan written with the student. The student edits their part in the portal;
    another service sees it only with the student's consent (category `risk`)."""

    STUDENT_FIELDS = ("warning_signs", "things_that_help", "people_and_places", "making_safer")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="safety_plans")
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    warning_signs = models.TextField(_("warning signs"), blank=True)
    things_that_help = models.TextField(_("things that help"), blank=True)
    people_and_places = models.TextField(_("people and places"), blank=True)
    professional_contacts = models.TextField(_("professional contacts"), blank=True)
    crisis_numbers = models.TextField(_("crisis numbers"), default=DEFAULT_CRISIS_NUMBERS)
    making_safer = models.TextField(_("making the situation safer"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["student", "service"], name="one_plan_per_service")
        ]

    def __str__(self):
        return f"Safety plan ({self.service})"


class ReturnToStudyPlan(models.Model):
    """After a crisis or hospital stay: the NHS service, the university's wellbeing service
    and (with consent, adjustments only) the department agree support, who does what and
    when to review, with the student's own view. A fit-to-study disagreement keeps both
    views."""

    class FitToStudy(models.TextChoices):
        AGREED = "agreed", _("Agreed: fit to return")
        NOT_YET = "not_yet", _("Agreed: not yet fit to return")
        DISAGREED = "disagreed", _("The services disagree")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="return_plans")
    nhs_service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    university_service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    support_agreed = models.TextField(_("support agreed"))
    who_does_what = models.TextField(_("who does what"))
    adjustments = models.TextField(
        _("adjustments for the department"),
        blank=True,
        help_text=_("Shown to the department only if the student consents, and nothing else."),
    )
    review_on = models.DateField(_("review date"))
    fit_to_study = models.CharField(max_length=10, choices=FitToStudy.choices)
    nhs_view = models.TextField(_("the NHS service's view"), blank=True)
    university_view = models.TextField(_("the university's view"), blank=True)
    student_view = models.TextField(_("the student's own view"), blank=True)
    adjustments_entry = models.ForeignKey(
        "record.RecordEntry", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(fit_to_study="disagreed")
                | (~models.Q(nhs_view="") & ~models.Q(university_view="")),
                name="disagreement_has_both_views",
            )
        ]

    def __str__(self):
        return f"Return to study ({self.university_service})"


class Panel(models.Model):
    """A case review panel: a multi-disciplinary meeting across organisations."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    meets_at = models.DateTimeField()
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-meets_at"]

    def __str__(self):
        return self.title


class PanelMember(models.Model):
    """Someone invited to a panel, from one service; whether they attended is recorded."""

    panel = models.ForeignKey(Panel, models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    attended = models.BooleanField(null=True)

    class Meta:
        ordering = ["service__name"]
        constraints = [models.UniqueConstraint(fields=["panel", "user"], name="panel_member_once")]

    def __str__(self):
        return f"{self.user} ({self.service})"


class PanelCase(models.Model):
    """A student on a panel's agenda, with the presenting service's summary and the
    panel's decision."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    panel = models.ForeignKey(Panel, models.CASCADE, related_name="cases")
    student = models.ForeignKey(Student, models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    summary = models.TextField()
    decision = models.TextField(blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at"]
        constraints = [models.UniqueConstraint(fields=["panel", "student"], name="panel_case_once")]

    def __str__(self):
        return f"Case on {self.panel}"


class PanelAction(models.Model):
    """An action a panel agreed, with an owner and a due date, followed to completion."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    panel = models.ForeignKey(Panel, models.CASCADE, related_name="actions")
    case = models.ForeignKey(
        PanelCase, models.CASCADE, null=True, blank=True, related_name="actions"
    )
    description = models.CharField(max_length=300)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    due_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on"]
        indexes = [models.Index(fields=["owner", "completed_at"], name="panel_action_owner")]

    def __str__(self):
        return self.description
