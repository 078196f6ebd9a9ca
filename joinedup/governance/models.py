"""The data protection officer's review of each emergency override; invitations to staff
and suspended roles."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import BreakGlass
from joinedup.governance import rules
from joinedup.people.models import Department, Organisation, Role, Service


class OverrideReview(models.Model):
    """One review of one emergency override, by an admin of the organisation whose member
    used it: appropriate or not, with a note. Written once; the audit log keeps who."""

    class Outcome(models.TextChoices):
        APPROPRIATE = rules.APPROPRIATE, _("Appropriate")
        NOT_APPROPRIATE = rules.NOT_APPROPRIATE, _("Not appropriate")

    access = models.OneToOneField(BreakGlass, models.CASCADE, related_name="review")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.access_id}: {self.outcome}"


class Invitation(models.Model):
    """An organisation admin's invitation to someone, by email, to take a role in a service,
    department or the organisation. Used once; it expires (`rules.INVITATION_LASTS`)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField()
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    service = models.ForeignKey(Service, models.CASCADE, null=True, blank=True, related_name="+")
    department = models.ForeignKey(
        Department, models.CASCADE, null=True, blank=True, related_name="+"
    )
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-invited_at"]

    def __str__(self) -> str:
        return f"{self.email}: {self.role}"

    @property
    def place(self) -> str:
        return str(self.service or self.department or self.organisation)


class Suspension(models.Model):
    """A role held in an organisation, suspended by its admin: the membership is taken away
    (so nothing reads it) and kept here to be given back when the suspension ends."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    service = models.ForeignKey(Service, models.CASCADE, null=True, blank=True, related_name="+")
    department = models.ForeignKey(
        Department, models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    suspended_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    suspended_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role} suspended"


class RightsRequest(models.Model):
    """A data protection rights request made outside the portal (by letter, email, phone or
    in person), on the organisation's log with its statutory clock and its answer."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access: a copy of their data")
        RECTIFICATION = "rectification", _("Rectification: correct their data")
        ERASURE = "erasure", _("Erasure: delete their data")
        RESTRICTION = "restriction", _("Restriction: limit how it is used")
        OBJECTION = "objection", _("Objection to processing")
        PORTABILITY = "portability", _("Portability: their data to take elsewhere")

    class Received(models.TextChoices):
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")

    class Outcome(models.TextChoices):
        COMPLIED = "complied", _("Done in full")
        PARTLY = "partly", _("Done in part, with exemptions given")
        REFUSED = "refused", _("Refused, with the reason given")
        WITHDRAWN = "withdrawn", _("Withdrawn by the requester")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    received_on = models.DateField()
    received_by = models.CharField(max_length=10, choices=Received.choices)
    requester = models.CharField(max_length=200)
    student_number = models.CharField(max_length=20, blank=True)
    details = models.TextField(blank=True)
    extended = models.BooleanField(default=False)
    extension_reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    responded_on = models.DateField(null=True, blank=True)
    response = models.TextField(blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    logged_at = models.DateTimeField(default=timezone.now)
    # The tasks set for the services that hold the student's records, to prepare what the
    # request needs from them: the admin sees whether each is done, never what it holds.
    service_tasks = models.ManyToManyField(
        "referrals.FollowUpTask", blank=True, related_name="rights_requests"
    )

    class Meta:
        ordering = ["received_on", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} from {self.requester}"

    @property
    def due_on(self):
        return rules.response_due(self.received_on, extended=self.extended)


class OverrideEscalation(models.Model):
    """An override not reviewed within `rules.REVIEW_WITHIN`, escalated once to the
    organisation's data protection contact and all its admins."""

    access = models.OneToOneField(BreakGlass, models.CASCADE, related_name="escalation")
    escalated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.access_id} escalated"


class OptOutCheck(models.Model):
    """One check of an NHS organisation's patients against the national data opt-out: the
    NHS numbers sent to NHS England's Check for National Data Opt-outs service, and, once its
    answer is imported, those it left out (the opted out). The answer is a cache that expires
    (`rules.OPT_OUT_CHECK_LASTS`); nothing is written onto the students' records."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    numbers = models.JSONField(default=list)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    opted_out = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.organisation_id} sent {self.sent_at:%Y-%m-%d}"


class RetentionRule(models.Model):
    """An organisation's own retention period for one kind of record, in years after the
    student's last contact with it; where none is set, `rules.DEFAULT_RETENTION_YEARS`."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    category = models.CharField(max_length=20)
    years = models.PositiveSmallIntegerField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "category"], name="one_rule_each")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.category}: {self.years} years"


class RetentionRun(models.Model):
    """One listing of the records past their retention at an organisation, and, once an admin
    confirms it, their erasure. The listing names record ids only."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    listed_at = models.DateTimeField(default=timezone.now)
    listed = models.JSONField(default=dict)  # kind kept (`retention.KEPT`) → ids listed
    # What a listing names (a record entry's kind of record, or the kind kept) → how many.
    by_category = models.JSONField(default=dict)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    erased = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-listed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.listed_at:%Y-%m-%d}"

    @property
    def count(self) -> int:
        return sum(self.by_category.values())


class ChainCheck(models.Model):
    """A check of the whole audit chain an admin asked for, run outside the request (a large
    log takes minutes to read): when it was asked, and what it found once it has finished."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveBigIntegerField(default=0)
    broken_seq = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)
    checkpoints = models.PositiveIntegerField(default=0)
    anchored = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"chain check {self.uuid} ({'done' if self.finished_at else 'running'})"

    @property
    def outcome(self) -> str:
        """ "running"; "unfinished" (it stopped, or its worker died: nothing is known from
        it, never read as intact); "broken"; or "intact"."""
        if self.finished_at is None:
            late = timezone.now() - self.requested_at >= rules.CHAIN_CHECK_LASTS
            return "unfinished" if late else "running"
        if self.broken_seq is not None:
            return "broken"
        return "unfinished" if self.problem else "intact"
