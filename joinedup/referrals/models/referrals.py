"""Referrals between services, their appointments, follow-up tasks and gap worklist items."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.people.models import Service, Student
from joinedup.record.models import RecordEntry
from joinedup.referrals.models.episodes import Episode

__all__ = [
    "Appointment",
    "AppointmentRequest",
    "EpisodeAppointments",
    "FollowUpTask",
    "GapItem",
    "Referral",
    "ReferralQuerySet",
]


class ReferralQuerySet(models.QuerySet):
    def open(self):
        """Referrals still in motion: sent and not yet declined, withdrawn or discharged."""
        return self.filter(state__in=Referral.OPEN_STATES)


class Referral(models.Model):
    """A move of a student from one service (or themselves) to another."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        WAITING = "waiting", _("Waiting")
        IN_TREATMENT = "in_treatment", _("In treatment")
        DISCHARGED = "discharged", _("Discharged")

    class Source(models.TextChoices):
        SELF = "self", _("Self-referral")
        SERVICE = "service", _("Another service")
        GP = "gp", _("GP")
        ACADEMIC = "academic", _("Academic concern")

    class DeclineReason(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible", _("Does not meet the service's criteria")
        NEEDS_HIGHER_INTENSITY = "higher", _("Needs a more intensive service")
        NEEDS_LOWER_INTENSITY = "lower", _("Needs a less intensive service")
        OUT_OF_AREA = "out_of_area", _("Outside the service's area")
        DECLINED_BY_STUDENT = "student", _("The student did not want the service")
        NO_CONTACT = "no_contact", _("Could not contact the student")
        DUPLICATE = "duplicate", _("Already known to the service")

    class Ending(models.TextChoices):
        PLANNED = "planned", _("Planned ending")
        UNPLANNED = "unplanned", _("Unplanned ending")

    OPEN_STATES = ("sent", "accepted", "waiting", "in_treatment")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="referrals")
    source = models.CharField(max_length=10, choices=Source.choices)
    from_service = models.ForeignKey(
        Service, models.PROTECT, null=True, blank=True, related_name="referrals_made"
    )
    to_service = models.ForeignKey(Service, models.PROTECT, related_name="referrals_received")
    state = models.CharField(max_length=14, choices=State.choices, default=State.DRAFT)
    # Raised on every transition: an action taken against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    reason = models.TextField(_("reason for referral"))
    carries_assessment = models.BooleanField(default=False)
    shared_entries = models.ManyToManyField(RecordEntry, blank=True, related_name="referrals")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(max_length=14, choices=DeclineReason.choices, blank=True)
    signposted_to = models.CharField(max_length=200, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    treatment_started_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    ending = models.CharField(max_length=10, choices=Ending.choices, blank=True)
    episode = models.OneToOneField(
        Episode, models.PROTECT, null=True, blank=True, related_name="referral"
    )
    last_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_changed_at = models.DateTimeField(default=timezone.now)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["to_service", "state", "sent_at"], name="referral_waiting_list"),
            models.Index(fields=["student", "state"], name="referral_student_state"),
            models.Index(fields=["state", "decided_at"], name="referral_state_decided"),
            # Service reports read the referrals sent in a period from this index alone.
            models.Index(
                fields=[
                    "sent_at",
                    "to_service",
                    "from_service",
                    "student",
                    "source",
                    "state",
                    "decline_reason",
                    "first_contact_at",
                    "treatment_started_at",
                ],
                name="referral_report",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(from_service=models.F("to_service")),
                name="referral_to_another_service",
            ),
        ]

    def __str__(self):
        return f"{self.from_service or self.get_source_display()} → {self.to_service}"


class Appointment(models.Model):
    """A session inside an episode of care, in a clinician's diary: when, for how long, where
    (a place or a video link) and of what kind. Booked, it may be moved (with a reason) or
    cancelled (by the service or the student, with a reason) before it happens; then it is
    attended or missed."""

    class Kind(models.TextChoices):
        ASSESSMENT = "assessment", _("Assessment")
        TREATMENT = "treatment", _("Treatment")
        REVIEW = "review", _("Review")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ATTENDED = "attended", _("Attended")
        MISSED = "missed", _("Missed (did not attend)")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelledBy(models.TextChoices):
        STUDENT = "student", _("The student")
        SERVICE = "service", _("The service")

    DEFAULT_LENGTH = timedelta(minutes=50)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(Episode, models.CASCADE, related_name="appointments")
    # Empty only for appointments recorded before the diary, or imported without one.
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="diary_appointments",
    )
    starts_at = models.DateTimeField()
    length = models.DurationField(default=DEFAULT_LENGTH)
    place = models.CharField(_("place"), max_length=200, blank=True)
    video_link = models.URLField(_("video link"), max_length=500, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(_("why it was cancelled"), blank=True)
    # The last move: from when, and why (the audit log keeps every one).
    moved_from = models.DateTimeField(null=True, blank=True)
    move_reason = models.TextField(_("why it was moved"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            # With `kind`, service reports count an episode's appointments from the index
            # alone.
            models.Index(
                fields=["episode", "status", "starts_at", "kind"], name="appointment_episode"
            ),
            # A clinician's diary, and the clash check of a booking.
            models.Index(fields=["clinician", "starts_at"], name="appointment_diary"),
            models.Index(fields=["starts_at"], name="appointment_starts"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="cancelled") ^ Q(cancelled_by=""),
                name="appointment_cancelled_says_by_whom",
            ),
            models.CheckConstraint(
                condition=Q(length__gt=timedelta(0)), name="appointment_has_a_length"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        return self.starts_at + self.length

    @property
    def minutes(self) -> int:
        return int(self.length.total_seconds() // 60)

    @property
    def waiting_request(self) -> "AppointmentRequest | None":
        """The student's request still waiting for an answer (one query, unless prefetched)."""
        return next((r for r in self.requests.all() if r.answered_at is None), None)


class AppointmentRequest(models.Model):
    """A student's request to cancel or rebook a booked appointment, with their reason; the
    service answers it on its diary (cancelled, rebooked or kept, with a message), and the
    student is told. An appointment has at most one request waiting."""

    class Wants(models.TextChoices):
        CANCEL = "cancel", _("Cancel it")
        REBOOK = "rebook", _("Change it to another time")

    class Answer(models.TextChoices):
        CANCELLED = "cancelled", _("Cancelled")
        REBOOKED = "rebooked", _("Moved to another time")
        KEPT = "kept", _("Kept as it is")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    appointment = models.ForeignKey(Appointment, models.CASCADE, related_name="requests")
    wants = models.CharField(max_length=10, choices=Wants.choices)
    reason = models.TextField(_("reason"))
    better_times = models.CharField(_("times that suit me better"), max_length=300, blank=True)
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    message = models.TextField(_("message to the student"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["asked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(answered_at__isnull=True),
                name="appointment_one_request_waiting",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answer="")
                | Q(answered_at__isnull=False) & ~Q(answer=""),
                name="appointment_request_answered_says_how",
            ),
        ]

    def __str__(self):
        return f"{self.get_wants_display()}: {self.appointment}"

    @property
    def is_waiting(self) -> bool:
        return self.answered_at is None


class EpisodeAppointments(models.Model):
    """An episode's attended and missed appointments counted: how many of each, how many
    attended were treatment, and when the first and the last of them took place.

    The database keeps these rows itself: a trigger on the appointments table (migration
    `0004_episode_appointments`) recounts an episode whenever one of its appointments is
    added, changed or deleted, however it was written. An episode with no attended or
    missed appointment has no row. Service reports count from them where all of an
    episode's appointments fall inside the period, and from the appointments only where
    they straddle its start or end."""

    episode = models.OneToOneField(Episode, models.CASCADE, primary_key=True, related_name="+")
    attended = models.PositiveIntegerField()
    missed = models.PositiveIntegerField()
    attended_treatment = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    def __str__(self):
        return f"{self.attended} attended, {self.missed} missed"


class FollowUpTask(models.Model):
    """A task: work a service owes by a date, done once by whoever it is for.

    Follow-ups after an NHS crisis contact or discharge are made by the system (no
    `created_by`) for the student's university service. Practitioners set others (see
    `joinedup.referrals.work`): for a team (a service) or one person in it (`assignee`),
    about a student or about no one. A task about a student is written by staff and is read
    as a case note of its service (category `notes`): only that service's staff in the
    student's care learn who it is about and what it says; everyone else who meets it is
    told it is held by that service. Overdue, it reaches the service's managers once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(
        Student, models.CASCADE, null=True, blank=True, related_name="follow_up_tasks"
    )
    service = models.ForeignKey(Service, models.PROTECT, related_name="follow_up_tasks")
    # Empty: the whole team (anyone in the service) may do it.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tasks",
        verbose_name=_("assigned to"),
    )
    referral = models.ForeignKey(
        Referral, models.CASCADE, null=True, blank=True, related_name="follow_up_tasks"
    )
    reason = models.CharField(_("what needs doing"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    # Empty for follow-ups the system made.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["service", "completed_at", "due_at"], name="task_service_due"),
            models.Index(fields=["assignee", "completed_at", "due_at"], name="task_assignee_due"),
            models.Index(fields=["created_by", "completed_at"], name="task_created_by_open"),
        ]

    def __str__(self):
        return self.reason

    @property
    def is_follow_up(self) -> bool:
        """Made by the system (after NHS crisis care, or a student's message that may
        describe a crisis), not set by a colleague."""
        return self.created_by_id is None


class GapItem(models.Model):
    """A student a gap rule found falling through; resolved by a recorded action."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rule = models.CharField(max_length=40)
    # What the rule found, so one finding is raised once: e.g. "declined:<referral id>".
    key = models.CharField(max_length=80, unique=True)
    student = models.ForeignKey(Student, models.CASCADE, related_name="gap_items")
    service = models.ForeignKey(Service, models.PROTECT, related_name="gap_items")
    referral = models.ForeignKey(
        Referral, models.CASCADE, null=True, blank=True, related_name="gap_items"
    )
    detail = models.CharField(max_length=300)
    found_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.TextField(blank=True)

    class Meta:
        ordering = ["found_at"]
        indexes = [models.Index(fields=["service", "resolved_at"], name="gap_service_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(action=""),
                name="gap_resolved_has_action",
            )
        ]

    def __str__(self):
        return self.detail
