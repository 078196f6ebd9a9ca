"""Episodes of care: a student's time in treatment with one service."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import CareRelationship
from joinedup.people.models import Service, Student

__all__ = ["Episode", "EpisodeQuerySet"]


class EpisodeQuerySet(models.QuerySet):
    def open(self):
        return self.filter(ended_at__isnull=True)


class Episode(models.Model):
    """One episode of care: opened when treatment starts, ended with a planned or unplanned
    ending. Its care relationship lets the service read the student's record meanwhile."""

    class Ending(models.TextChoices):
        PLANNED = "planned", _("Planned ending")
        UNPLANNED = "unplanned", _("Unplanned ending (stopped attending)")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="episodes")
    service = models.ForeignKey(Service, models.PROTECT, related_name="episodes")
    relationship = models.ForeignKey(CareRelationship, models.PROTECT, related_name="episodes")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ending = models.CharField(max_length=10, choices=Ending.choices, blank=True)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["service", "ended_at"], name="episode_service_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, ending="")
                | Q(ended_at__isnull=False) & ~Q(ending=""),
                name="episode_ended_has_ending",
            )
        ]

    def __str__(self):
        return f"{self.service} — {self.student}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
