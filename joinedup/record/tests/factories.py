"""Small factories for the shared record; notes, letters and documents go through services."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from joinedup.record.models import LetterTemplate, NoteTemplate, RecordEntry
from joinedup.record.services import add_addendum, sign_note, upload_document, write_note

# The smallest files that are what they say.
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20)
GP_LETTER = """Dear colleagues at {{ gp_practice }},
Re: {{ name }}, born {{ date_of_birth }}, NHS number {{ nhs_number }}
{{ name }} has been supported by {{ service }} since {{ care_started }}.
{{ message }}
Yours sincerely,"""


def write_entry(student, category, service, author, *, title="", body="", private=False,
                withheld_reason="") -> RecordEntry:  # fmt: skip
    """An entry `service` wrote in `category` of `student`'s record."""
    title = title or f"{service.name} {category}"
    return RecordEntry.objects.create(
        student=student,
        category=category,
        service=service,
        author=author,
        title=title,
        body=body or f"{title}: what the student told us.",
        is_private_to_service=private,
        is_withheld_from_student=bool(withheld_reason),
        withheld_reason=withheld_reason,
    )


def draft_note(author, student, body="Talked about sleep and deadlines.", *, kind="session",
               at=None, template=None) -> RecordEntry:  # fmt: skip
    """A draft note of a contact an hour ago, written by `author`."""
    return write_note(
        actor=author, student=student, contact_kind=kind, template=template, body=body,
        contact_at=at or timezone.now() - dt.timedelta(hours=1),
    )  # fmt: skip


def signed_note(author, student, body="Talked about sleep and deadlines.", **kwargs):
    return sign_note(actor=author, note=draft_note(author, student, body, **kwargs))


def signed_addendum(author, note, body="Correction: the session was by video.") -> RecordEntry:
    return sign_note(actor=author, note=add_addendum(actor=author, note=note, body=body))


def uploaded(author, student, content=PDF, *, name="referral-letter.pdf", category="notes",
             title="Referral letter from the GP", private=False) -> RecordEntry:  # fmt: skip
    return upload_document(
        actor=author, student=student, upload=SimpleUploadedFile(name, content),
        category=category, title=title, is_private=private,
    )  # fmt: skip


def note_template(service, name="Session note", body="Presenting:\nPlan:", kind="session"):
    return NoteTemplate.objects.create(service=service, name=name, body=body, contact_kind=kind)


def letter_template(service, *, kind="gp", name="Letter to the GP", body=GP_LETTER):
    return LetterTemplate.objects.create(service=service, kind=kind, name=name, body=body)
