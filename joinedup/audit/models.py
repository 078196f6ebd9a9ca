"""The append-only, hash-chained access log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class Basis(models.TextChoices):
    SELF = "self", _("their own record")
    RELATIONSHIP = "relationship", _("care relationship")
    AUTHORED = "authored", _("records their service wrote")
    CONSENT = "consent", _("student's consent")
    BREAK_GLASS = "break_glass", _("emergency override")
    DEPARTMENT = "department", _("student in their department")
    ADMIN = "admin", _("site administration")
    NONE = "none", _("no basis")


class AuditEvent(models.Model):
    """One access decision or change to personal data. Written once, never changed."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    actor_service = models.CharField(max_length=200, blank=True)
    actor_organisation = models.CharField(max_length=200, blank=True)
    student = models.ForeignKey(
        "people.Student", models.PROTECT, null=True, related_name="audit_events"
    )
    category = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=60)
    allowed = models.BooleanField(null=True)
    basis = models.CharField(max_length=20, choices=Basis.choices, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    HASHED_FIELDS = (
        "seq", "at", "actor_id", "actor_email", "actor_role", "actor_service",
        "actor_organisation", "student_id", "category", "action", "allowed", "basis",
        "reason", "request_id",
    )  # fmt: skip

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["student", "-at"], name="audit_student_at")]

    def __str__(self):
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def hashed_fields(self) -> dict:
        values = {name: getattr(self, name) for name in self.HASHED_FIELDS}
        values["at"] = self.at.isoformat()
        return values


class AuditHead(models.Model):
    """The single row naming the last entry: the lock for appends and the proof of the tail."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self):
        return f"head at #{self.seq}"
