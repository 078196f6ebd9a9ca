"""Reminders sent to students (appointments to come, questionnaire links), by email or by
text message, and the student's choice of how they are reminded.

Each reminder is one row per channel, written before it is sent: the unique constraints make
a second run (or two at once) send nothing twice, and what happened stays readable by the
service, including why one was not sent.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from joinedup.reminders import rules


class ReminderPreference(models.Model):
    """How the student wants to be reminded; a student without a row gets the default."""

    class Channel(models.TextChoices):
        EMAIL = rules.EMAIL, _("By email")
        SMS = rules.SMS, _("By text message")
        BOTH = rules.BOTH, _("By email and text message")
        NONE = rules.NONE, _("No reminders")

    student = models.OneToOneField(
        "people.Student", models.CASCADE, related_name="reminder_preference"
    )
    channel = models.CharField(max_length=5, choices=Channel.choices, default=rules.DEFAULT)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.student}: {self.channel}"


class Reminder(models.Model):
    """One reminder by one channel: an appointment's (for the time it was then booked at) or
    a questionnaire link's."""

    class Channel(models.TextChoices):
        EMAIL = rules.EMAIL, _("Email")
        SMS = rules.SMS, _("Text message")
        NONE = rules.NONE, _("None (the student chose no reminders)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Sending")
        SENT = "sent", _("Sent")
        NOT_SENT = "not_sent", _("Not sent")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("people.Student", models.CASCADE, related_name="reminders")
    appointment = models.ForeignKey(
        "referrals.Appointment", models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    # The time the appointment was booked for when reminded: a move earns a new reminder.
    for_starts_at = models.DateTimeField(null=True, blank=True)
    completion_link = models.ForeignKey(
        "measures.CompletionLink",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
    )
    channel = models.CharField(max_length=5, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Why it was not sent ("no contact details", or GOV.UK Notify's own error message).
    detail = models.TextField(blank=True)
    # GOV.UK Notify's id for a text message it accepted.
    notify_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(appointment__isnull=False, for_starts_at__isnull=False)
                    & Q(completion_link__isnull=True)
                )
                | (
                    Q(appointment__isnull=True, for_starts_at__isnull=True)
                    & Q(completion_link__isnull=False)
                ),
                name="reminder_about_one_thing",
            ),
            models.UniqueConstraint(
                fields=["appointment", "for_starts_at", "channel"],
                condition=Q(appointment__isnull=False),
                name="reminder_once_per_appointment_time",
            ),
            models.UniqueConstraint(
                fields=["completion_link", "channel"],
                condition=Q(completion_link__isnull=False),
                name="reminder_once_per_link",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.status}"
