"""The data protection officer's review of each emergency override."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import BreakGlass
from joinedup.governance import rules


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
