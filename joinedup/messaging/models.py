"""Messages between a student and a service in their care: one thread per student and
service. Category `engagement`; the service in the thread is the service that wrote its rows
for the policy, so a care relationship reads its own service's threads only."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from joinedup.people.models import Service, Student


class Message(models.Model):
    """One message, from the student to a service or from a member of a service to the
    student. `read_at` is when the other side first opened it (anyone in the service, for a
    student's message). A member of the service may file a message into the service's notes
    (`filed_note`, a clinical note of the contact), where it stays with the service."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="messages")
    service = models.ForeignKey(Service, models.PROTECT, related_name="messages")
    from_student = models.BooleanField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    body = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    filed_note = models.ForeignKey(
        "record.RecordEntry", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [
            models.Index(fields=["student", "service", "sent_at"], name="message_thread"),
            models.Index(
                fields=["service", "student"],
                condition=Q(from_student=True, read_at__isnull=True),
                name="message_unread_by_service",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(read_at__isnull=True, read_by__isnull=True)
                | Q(read_at__isnull=False, read_by__isnull=False),
                name="message_read_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} — {self.student} ({self.sent_at:%Y-%m-%d %H:%M})"
