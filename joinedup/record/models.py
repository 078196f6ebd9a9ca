"""Entries in a student's shared record, each in one data category: what services write,
their clinical notes (drafted, signed and locked, corrected by signed addenda), the letters
they send and the documents they add."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import Category
from joinedup.people.models import Service, Student
from joinedup.record.rules import unknown_fields


class ContactKind(models.TextChoices):
    """How a clinical note's contact with the student took place."""

    SESSION = "session", _("Session")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("Email")
    MESSAGE = "message", _("Message")
    DNA_FOLLOW_UP = "dna_follow_up", _("Follow-up of a missed appointment (did not attend)")


class EntryQuerySet(models.QuerySet):
    def notes(self):
        """Clinical notes, not their addenda."""
        return self.filter(kind=RecordEntry.Kind.NOTE)


_EntryManager = models.Manager.from_queryset(EntryQuerySet)


class FinishedEntryManager(_EntryManager):
    """Every entry but unsigned drafts. The default manager: a draft is its author's alone,
    so a read that forgets to ask for drafts never finds one (fail closed). The author's
    own drafts are read through `RecordEntry.with_drafts`."""

    def get_queryset(self):
        return super().get_queryset().filter(is_draft=False)


class RecordEntry(models.Model):
    """One piece of the shared record written by a service: the story told once, a risk
    summary, a case note, an adjustment, a discharge summary, a letter sent, a document.

    An entry can be kept private to its authoring service, or withheld from the student for
    their safety (with the reason recorded); the record selectors honour both.

    Clinical notes (`kind` note) are written as drafts, seen by their author alone, then
    signed by that author and locked: they are corrected only by addenda, each a signed
    entry of its own pointing at the note it corrects (`amends`); the note never changes.
    """

    class Kind(models.TextChoices):
        ENTRY = "entry", _("Entry")
        NOTE = "note", _("Clinical note")
        ADDENDUM = "addendum", _("Addendum")
        LETTER = "letter", _("Letter")
        DOCUMENT = "document", _("Document")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, models.CASCADE, related_name="entries")
    category = models.CharField(max_length=20, choices=Category.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ENTRY)
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
    # A clinical note: the contact it records.
    contact_kind = models.CharField(max_length=20, choices=ContactKind.choices, blank=True)
    contact_at = models.DateTimeField(null=True, blank=True)
    # A note or an addendum: a draft until its author signs it, then locked.
    is_draft = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # An addendum: the note it corrects.
    amends = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="addenda"
    )

    objects = FinishedEntryManager()
    with_drafts = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["student", "category"], name="entry_student_category"),
            models.Index(fields=["student", "kind"], name="entry_student_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_withheld_from_student=False) | ~Q(withheld_reason=""),
                name="entry_withheld_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["note", "addendum"]) | Q(category="notes"),
                name="entry_notes_are_in_notes",
            ),
            # A note or an addendum is a draft or signed, never both; nothing else is either.
            models.CheckConstraint(
                condition=Q(kind__in=["note", "addendum"], is_draft=True, signed_at__isnull=True)
                | Q(kind__in=["note", "addendum"], is_draft=False, signed_at__isnull=False)
                | Q(is_draft=False, signed_at__isnull=True) & ~Q(kind__in=["note", "addendum"]),
                name="entry_note_draft_or_signed",
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by=F("author")),
                name="entry_signed_by_its_author",
            ),
            models.CheckConstraint(
                condition=Q(kind="note", contact_at__isnull=False) & ~Q(contact_kind="")
                | ~Q(kind="note") & Q(contact_kind="", contact_at__isnull=True),
                name="entry_note_has_a_contact",
            ),
            models.CheckConstraint(
                condition=Q(kind="addendum", amends__isnull=False)
                | ~Q(kind="addendum") & Q(amends__isnull=True),
                name="entry_addendum_amends_a_note",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def moment(self):
        """When it happened: a note's contact, anything else when it was written."""
        return self.contact_at or self.created_at


class NoteTemplate(models.Model):
    """A starting point for a service's clinical notes (headings to fill in)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, models.CASCADE, related_name="note_templates")
    name = models.CharField(max_length=100)
    contact_kind = models.CharField(
        _("usual kind of contact"), max_length=20, choices=ContactKind.choices, blank=True
    )
    body = models.TextField(_("text to start from"))
    is_active = models.BooleanField(_("offered to staff"), default=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="note_template_unique_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.service})"


class LetterKind(models.TextChoices):
    APPOINTMENT = "appointment", _("Appointment letter")
    GP = "gp", _("GP letter")
    DISCHARGE = "discharge", _("Discharge letter")


class LetterTemplate(models.Model):
    """A service's letter, with fields merged from the record: `{{ name }}`,
    `{{ nhs_number }}`… (`record.rules.MERGE_FIELDS`). A line naming a field the writer may
    not read, or one not recorded, is left out of the letter."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(Service, models.CASCADE, related_name="letter_templates")
    kind = models.CharField(max_length=12, choices=LetterKind.choices)
    name = models.CharField(max_length=100)
    body = models.TextField(help_text=_("One paragraph a line; fields as {{ name }}."))
    is_active = models.BooleanField(_("offered to staff"), default=True)

    class Meta:
        ordering = ["service", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="letter_template_unique_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.service})"

    def clean(self):
        if unknown := unknown_fields(self.body):
            raise ValidationError({"body": _("Unknown fields: %(f)s.") % {"f": ", ".join(unknown)}})


class Letter(models.Model):
    """A letter as sent: its entry says who sent it and when (and holds its text), this row
    to whom and from which template; its PDF is the entry's attachment."""

    entry = models.OneToOneField(
        RecordEntry, models.CASCADE, primary_key=True, related_name="letter"
    )
    kind = models.CharField(max_length=12, choices=LetterKind.choices)
    recipient = models.TextField(_("to"))
    template = models.ForeignKey(
        LetterTemplate, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the merge left out, and why, as the writer was told before sending.
    left_out = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient.splitlines()[0]}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    # Named by the entry, never by what was uploaded (a name can hold personal data).
    return f"record/{attachment.entry.uuid}{PurePath(filename).suffix.lower()}"


class Attachment(models.Model):
    """The file of an entry, kept through Django's storage: an uploaded document, or the
    PDF of a letter as sent. Read only through the policy (`record:entry-file`)."""

    entry = models.OneToOneField(
        RecordEntry, models.CASCADE, primary_key=True, related_name="attachment"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    # Decided from the file's content, never from its name.
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    name = models.CharField(max_length=200)

    def __str__(self):
        return self.name
