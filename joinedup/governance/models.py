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
