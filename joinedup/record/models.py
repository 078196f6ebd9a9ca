"""Entries in a student's shared record, each in one data category."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import Category
from joinedup.people.models import Service, Student


class RecordEntry(models.Model):
    """One piece of the shared record written by a service: the story told once, a risk
    summary, a case note, an adjustment, a discharge summary.

    An entry can be kept private to its authoring service, or withheld from the student for
    their safety (with the reason recorded); the record selectors honour both.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="entries")
    category = models.CharField(max_length=20, choices=Category.choices)
    service = models.ForeignKey(Service, models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    body = models.TextField()
    is_private_to_service = models.BooleanField(
        _("private to the authoring service"), default=False
    )
    is_withheld_from_student = models.BooleanField(_("withheld from the student"), default=False)
    withheld_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["student", "category"], name="entry_student_category")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_withheld_from_student=False) | ~Q(withheld_reason=""),
                name="entry_withheld_has_reason",
            )
        ]

    def __str__(self):
        return self.title
