"""What the FHIR server remembers beyond the other apps' models: partners' identifiers for
the records they sent (so resending changes nothing), and bulk export jobs."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExternalIdentifier(models.Model):
    """A partner system's identifier (system and value) for a record made from its resource.

    Importing the same resource again finds this row and changes nothing; exports carry the
    partner's identifier beside JoinedUp's own.
    """

    resource_type = models.CharField(max_length=40)
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    target_uuid = models.UUIDField(help_text=_("The uuid of the record made from the resource."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "system", "value"], name="external_identifier_unique"
            )
        ]
        indexes = [models.Index(fields=["resource_type", "target_uuid"], name="external_target")]

    def __str__(self):
        return f"{self.resource_type} {self.system}|{self.value}"

    def as_fhir(self) -> dict:
        return {"system": self.system, "value": self.value}


class ExportJob(models.Model):
    """A bulk data export a client started: its state, its files, and who may fetch them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMPLETE = "complete", _("Complete")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    request_url = models.CharField(max_length=2000)
    resource_types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    # A group-level export (`Group/<id>/$export`): the caseload of this service only.
    group = models.ForeignKey(
        "people.Service", models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Export {self.uuid} ({self.status})"


class ExportFile(models.Model):
    """One NDJSON file of an export: every resource of one type the client may see, kept
    gzipped (NDJSON of FHIR resources shrinks about tenfold)."""

    job = models.ForeignKey(ExportJob, models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    count = models.PositiveIntegerField(default=0)
    gzipped = models.BinaryField()

    class Meta:
        ordering = ["resource_type"]

    def __str__(self):
        return f"{self.resource_type} ({self.count})"


class ClientRegistration(models.Model):
    """How a system client was registered: its scopes (a token's scopes are cut down to
    these, whatever the client asked the token endpoint for) and, for a client that
    authenticates with a signed assertion (SMART Backend Services), its public keys."""

    # The application's client id: a plain key, as django-oauth-toolkit's models are
    # swappable and this app keeps its migrations free of that setting.
    client_id = models.CharField(max_length=100, unique=True)
    scopes = models.TextField()
    jwks = models.JSONField(
        null=True, blank=True, help_text=_("The client's public keys, as a JWK Set.")
    )

    def __str__(self):
        return self.scopes


class UsedAssertion(models.Model):
    """A signed assertion's `jti`, spent at the token endpoint: the same assertion is never
    accepted twice. Rows are forgotten once the assertion has expired."""

    client_id = models.CharField(max_length=100)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "jti"], name="used_assertion_unique")
        ]

    def __str__(self):
        return f"{self.client_id} {self.jti}"
