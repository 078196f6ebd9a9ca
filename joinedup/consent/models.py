"""Consent grants, data sharing agreements, care relationships and break-glass access."""

import uuid
from datetime import date, datetime
from typing import Self, cast

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent import agreement_terms
from joinedup.people.models import Department, Organisation, Service, Student


class Category(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    REGISTRATION = "registration", _("Registration")
    ENGAGEMENT = "engagement", _("Engagement")
    ASSESSMENT = "assessment", _("Assessment")
    OUTCOMES = "outcomes", _("Outcomes")
    RISK = "risk", _("Risk")
    NOTES = "notes", _("Notes")
    ADJUSTMENTS = "adjustments", _("Adjustments")
    DISCHARGE = "discharge", _("Discharge")


class Purpose(models.TextChoices):
    DIRECT_CARE = "direct_care", _("Direct care")
    ACADEMIC_SUPPORT = "academic_support", _("Academic support")


def consent_active_at(now: datetime) -> Q:
    """The one rule for "this consent is active at `now`": started, not ended, not
    withdrawn. `ConsentGrant.active_at()` is its twin for one fetched grant."""
    return Q(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now),
        valid_from__lte=now,
        withdrawn_at__isnull=True,
    )


def override_active_at(now: datetime) -> Q:
    """The one rule for "this emergency override is in force at `now`"."""
    return Q(opened_at__lte=now, expires_at__gt=now)


class ConsentGrantQuerySet(models.QuerySet["ConsentGrant"]):
    def active(self, now: datetime | None = None) -> Self:
        return self.filter(consent_active_at(now or timezone.now()))


class ConsentGrant(models.Model):
    """A student's opt-in: one data category, to one recipient, for one purpose, for a time."""

    class HowGiven(models.TextChoices):
        PORTAL = "portal", _("In the student portal")
        IN_PERSON = "in_person", _("In person")
        PAPER_FORM = "paper_form", _("On a paper form")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="consent_grants")
    category = models.CharField(max_length=20, choices=Category.choices)
    recipient_service = models.ForeignKey(
        Service, models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_department = models.ForeignKey(
        Department, models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_organisation = models.ForeignKey(
        Organisation, models.PROTECT, null=True, blank=True, related_name="+"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    how_given = models.CharField(max_length=12, choices=HowGiven.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(recipient_service__isnull=False,
                      recipient_department__isnull=True, recipient_organisation__isnull=True)
                    | Q(recipient_service__isnull=True,
                        recipient_department__isnull=False, recipient_organisation__isnull=True)
                    | Q(recipient_service__isnull=True,
                        recipient_department__isnull=True, recipient_organisation__isnull=False)
                ),
                name="consent_one_recipient",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="consent_ends_after_start",
            ),
        ]  # fmt: skip
        indexes = [models.Index(fields=["student", "category"], name="consent_student_category")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} to {self.recipient}"

    @property
    def recipient(self) -> Service | Department | Organisation | None:
        return self.recipient_service or self.recipient_department or self.recipient_organisation

    @property
    def recipient_in_words(self) -> str:
        """Who the grant reaches, as what it is: one service, a whole organisation's
        services, or an academic department's staff."""
        if self.recipient_service_id:
            service = cast(Service, self.recipient_service)  # its id is set
            return f"{service.name} ({service.organisation.name})"
        if self.recipient_organisation_id:
            organisation = cast(Organisation, self.recipient_organisation)  # its id is set
            return _("every service of %(organisation)s") % {"organisation": organisation.name}
        return _("academic staff of %(department)s") % {"department": self.recipient_department}

    @property
    def is_active(self) -> bool:
        return self.active_at(timezone.now())

    def active_at(self, now: datetime) -> bool:
        """`consent_active_at` for this grant (the agreement test holds them together)."""
        return (
            self.withdrawn_at is None
            and self.valid_from <= now
            and (self.valid_until is None or self.valid_until > now)
        )


def agreement_in_force(today: date) -> Q:
    """The one rule for "this data sharing agreement is in force on `today`": started, not
    ended, and activated by every organisation party to it, none of them suspending it since
    (as EMIS's sharing agreements are). `DataSharingAgreement.in_force_on()` is its twin for
    one fetched agreement with its sides."""
    return Q(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today),
        ~Q(pk__in=AgreementSide.objects.filter(active=False).values("agreement")),
        starts_on__lte=today,
    )


class DataSharingAgreement(models.Model):
    """An agreement between two organisations covering some categories for some purposes.
    Data flows under it only while both have activated it (`agreement_in_force`)."""

    # The bases an agreement records (staff pages only: `agreement_terms`).
    LawfulBasis = agreement_terms.LawfulBasis
    Condition = agreement_terms.Condition

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200)
    organisations = models.ManyToManyField(
        Organisation, related_name="agreements", through="AgreementSide"
    )
    # Blank only on agreements made before the basis was asked for.
    lawful_basis = models.CharField(max_length=20, choices=LawfulBasis.choices, blank=True)
    condition = models.CharField(max_length=20, choices=Condition.choices, blank=True)
    categories = models.JSONField(default=list, help_text=_("Data categories covered."))
    purposes = models.JSONField(default=list, help_text=_("Purposes covered."))
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    review_on = models.DateField(
        null=True, blank=True, help_text=_("When both sides review the agreement.")
    )
    follow_up_hours = models.PositiveIntegerField(
        default=72,
        help_text=_(
            "After an NHS crisis contact or discharge, the university follows up within this "
            "many hours."
        ),
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    drafted_at = models.DateTimeField(default=timezone.now)
    # A draft either side withdrew before anyone activated it: never in force, kept as history.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title

    @property
    def may_be_revised(self) -> bool:
        """Its terms may change while it is not withdrawn and not in force on every side: a
        change undoes each side's activation (they agreed to the old terms)."""
        return self.withdrawn_at is None and not all(side.active for side in self.sides.all())

    @property
    def is_draft(self) -> bool:
        """Not withdrawn, and never active on any side: the only state it may be withdrawn
        in. (Agreements made before sides could activate them are active, with no change
        recorded: they are not drafts.)"""
        return self.withdrawn_at is None and not any(
            side.active or side.changed_at for side in self.sides.all()
        )

    def in_force_on(self, today: date) -> bool:
        """`agreement_in_force` for this agreement (the agreement test holds them together)."""
        return (
            self.starts_on <= today
            and (self.ends_on is None or self.ends_on >= today)
            and all(side.active for side in self.sides.all())
        )


class AgreementSide(models.Model):
    """One organisation's part in an agreement: whether it has it active now, and who last
    changed that and when. Every change is kept in `AgreementChange`."""

    agreement = models.ForeignKey(
        DataSharingAgreement, models.CASCADE, related_name="sides",
        db_column="datasharingagreement_id",
    )  # fmt: skip
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    active = models.BooleanField(default=False)
    # Who signed the agreement for the organisation (name and role), given on activating it.
    signatory = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "consent_datasharingagreement_organisations"
        constraints = [
            models.UniqueConstraint(fields=["agreement", "organisation"], name="one_side_each")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} on {self.agreement_id}: {self.active}"


class AgreementChange(models.Model):
    """The agreement's history: each drafting, activation and suspension, by whom, for which
    organisation, with the reason given."""

    class What(models.TextChoices):
        DRAFTED = "drafted", _("Drafted")
        ACTIVATED = "activated", _("Activated")
        SUSPENDED = "suspended", _("Suspended")
        REVIEWED = "reviewed", _("Reviewed")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REVISED = "revised", _("Terms changed")

    agreement = models.ForeignKey(DataSharingAgreement, models.CASCADE, related_name="changes")
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="+")
    what = models.CharField(max_length=10, choices=What.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.what} by {self.organisation_id}"


class CareRelationshipQuerySet(models.QuerySet["CareRelationship"]):
    def open(self) -> Self:
        return self.filter(closed_at__isnull=True)


class CareRelationship(models.Model):
    """A service's legitimate relationship with a student, for one reason: an open referral,
    episode or concern. It closes when its reason ends, saying why; each reason has its own
    relationship, so ending one leaves the others."""

    class Reason(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        EPISODE = "episode", _("Episode of care")
        CONCERN = "concern", _("Concern")

    class Ending(models.TextChoices):
        CONCERN_CLOSED = "concern_closed", _("the concern was closed")
        DECLINED = "declined", _("the referral was declined")
        WITHDRAWN = "withdrawn", _("the referral was withdrawn")
        DISCHARGED = "discharged", _("the student was discharged")
        EPISODE_ENDED = "episode_ended", _("the episode of care ended")

    student = models.ForeignKey(Student, models.CASCADE, related_name="care_relationships")
    service = models.ForeignKey(Service, models.PROTECT, related_name="care_relationships")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    ended_because = models.CharField(max_length=16, choices=Ending.choices, blank=True)

    objects = CareRelationshipQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["service", "closed_at"], name="relationship_service_open"),
            models.Index(fields=["student", "closed_at"], name="relationship_student_open"),
        ]

    def __str__(self) -> str:
        return f"{self.service} — {self.student}"


class BreakGlassQuerySet(models.QuerySet["BreakGlass"]):
    def active(self, now: datetime | None = None) -> Self:
        return self.filter(override_active_at(now or timezone.now()))


class BreakGlass(models.Model):
    """Emergency access to one student's record, for a written reason, for a short time."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    # Where it was used from: that organisation's admins review it, even after the user left.
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="overrides_used")
    student = models.ForeignKey(Student, models.CASCADE, related_name="break_glass_uses")
    reason = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # The data protection contacts told, comma-separated: the user's organisation's and,
    # when it is another, the student's university's.
    reported_to = models.CharField(max_length=500, blank=True)

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.user} → {self.student} ({self.opened_at:%Y-%m-%d %H:%M})"


class SharingRequestQuerySet(models.QuerySet["SharingRequest"]):
    def waiting(self) -> Self:
        return self.filter(answered_at__isnull=True)


class SharingRequest(models.Model):
    """A member of staff asks the student to share one category with their service; the
    student's answer, in their portal, is recorded (a yes as a consent grant)."""

    class Answer(models.TextChoices):
        YES = "yes", _("Yes, share it")
        NO = "no", _("No")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="sharing_requests")
    category = models.CharField(max_length=20, choices=Category.choices)
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=3, choices=Answer.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    grant = models.ForeignKey(
        ConsentGrant, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SharingRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-asked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "service", "category"],
                condition=Q(answered_at__isnull=True),
                name="one_waiting_sharing_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} asks to see {self.get_category_display()}"
