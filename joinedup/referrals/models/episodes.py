"""Episodes of care: a student's time in treatment with one service."""

import uuid

from django.conf import settings
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
    """One episode of care: opened when a referral is accepted or a student walks in,
    allocated to a named practitioner of the service, and ended with an ending (planned,
    unplanned, the student disengaged, or transferred; `rules.ENDING_IS_PLANNED` says how
    each counts in reports). Its care relationship lets the service read the student's
    record meanwhile."""

    class Ending(models.TextChoices):
        PLANNED = "planned", _("Planned ending")
        UNPLANNED = "unplanned", _("Unplanned ending (stopped attending)")
        DISENGAGED = "disengaged", _("The student disengaged")
        TRANSFERRED = "transferred", _("Transferred to another service")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="episodes")
    service = models.ForeignKey(Service, models.PROTECT, related_name="episodes")
    relationship = models.ForeignKey(CareRelationship, models.PROTECT, related_name="episodes")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ending = models.CharField(max_length=12, choices=Ending.choices, blank=True)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="allocated_episodes",
        verbose_name=_("allocated to"),
    )
    allocated_at = models.DateTimeField(null=True, blank=True)

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["service", "ended_at"], name="episode_service_open"),
            models.Index(fields=["practitioner", "ended_at"], name="episode_practitioner_open"),
        ]
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
