"""Writing to a student's record: clinical notes (drafted, signed, corrected by addenda),
letters sent from a service's templates, and documents uploaded. One function per action,
each in one transaction with its audit entry."""

import hashlib
from dataclasses import replace
from functools import partial
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.services import append
from joinedup.consent.policy import entry_for, gather_facts
from joinedup.consent.rules import decide_access
from joinedup.lib.pdf import render_pdf
from joinedup.people.models import Service
from joinedup.record import rules, selectors
from joinedup.record.models import (
    Attachment,
    ContactKind,
    Letter,
    LetterTemplate,
    NoteTemplate,
    RecordEntry,
)

_entry = partial(entry_for, category="notes")
NOT_IN_CARE = gettext_lazy(
    "Your service is not working with the student now, so it cannot add to their record."
)


def writing_service(actor, student, *, decision=None) -> Service | None:
    """The service `actor` writes for about `student`: one of theirs with the student in
    its care now (the policy's basis "relationship" for notes), or None. A service that no
    longer works with the student reads what it wrote, and writes no more. `decision`: the
    policy's decision on `actor` reading the student's notes, when a page has it already."""
    decision = decision or decide_access(gather_facts(actor, student), "notes")
    if not decision.allowed or decision.basis != "relationship" or not decision.services:
        return None
    seat_service = decision.seat.service_id if decision.seat else None
    service_id = seat_service if seat_service in decision.services else min(decision.services)
    return Service.objects.select_related("organisation").get(pk=service_id)


def _service_for(actor, student) -> Service:
    service = writing_service(actor, student)
    if service is None:
        raise ValidationError(NOT_IN_CARE)
    return service


def note_state(note: RecordEntry) -> rules.NoteState:
    signer = (note.signed_by.get_full_name() or note.signed_by.email) if note.signed_by else ""
    return rules.NoteState(
        kind=note.kind,
        author_id=note.author_id,
        service_id=note.service_id,
        is_draft=note.is_draft,
        signed_at=note.signed_at,
        signed_by=signer,
    )


def _note_title(contact_kind: str, template: NoteTemplate | None) -> str:
    return template.name if template else ContactKind(contact_kind).label


def _check_note(contact_kind: str, contact_at, body: str) -> None:
    problems = rules.note_problems(body, contact_at, timezone.now())
    if contact_kind not in ContactKind.values:
        problems["contact_kind"] = _("Choose the kind of contact.")
    if problems:
        raise ValidationError(problems)


def write_note(
    *, actor, student, contact_kind: str, contact_at, body: str, template=None, request=None
) -> RecordEntry:
    """Write a clinical note of a contact, as a draft only its author sees until they sign
    it. Notes stay with the service that wrote them: the policy never lets category
    `notes` leave it."""
    service = _service_for(actor, student)
    _check_note(contact_kind, contact_at, body)
    if template is not None and template.service_id != service.pk:
        raise ValidationError({"template": _("Choose one of your service's templates.")})
    with transaction.atomic():
        now = timezone.now()
        note = RecordEntry.objects.create(
            student=student, category="notes", kind=RecordEntry.Kind.NOTE, service=service,
            author=actor, title=_note_title(contact_kind, template), body=body.strip(),
            contact_kind=contact_kind, contact_at=contact_at,
            is_draft=True, created_at=now, updated_at=now,
        )  # fmt: skip
        append([_entry("record.note.drafted", actor, student, service=service, request=request)])
    return note


def _locked(note: RecordEntry) -> RecordEntry:
    """The note read again under a row lock: two tabs saving and signing at once are
    decided one after the other."""
    return (
        RecordEntry.with_drafts.select_for_update(of=("self",))
        .select_related("signed_by", "student")
        .get(pk=note.pk)
    )


def _refused(action: str, actor, note: RecordEntry, refusal: str, request) -> None:
    entry = _entry(action, actor, note.student, service=note.service, request=request)
    append([replace(entry, allowed=False, reason=refusal)])


def edit_note(
    *, actor, note: RecordEntry, contact_kind: str, contact_at, body: str, request=None
) -> RecordEntry:
    """Change a draft note (or addendum). A signed note is locked: the change is refused in
    words, nothing is changed, and the attempt is audited."""
    is_note = note.kind == RecordEntry.Kind.NOTE
    with transaction.atomic():
        note = _locked(note)
        refusal = rules.edit_refusal(note_state(note), actor.pk)
        if refusal is None:
            if is_note:
                _check_note(contact_kind, contact_at, body)
            elif problems := rules.note_problems(body, None, timezone.now(), needs_contact=False):
                raise ValidationError(problems)
            note.body = body.strip()
            if is_note:
                note.contact_kind, note.contact_at = contact_kind, contact_at
            note.updated_at = timezone.now()
            note.save(update_fields=["body", "contact_kind", "contact_at", "updated_at"])
            append([_entry("record.note.edited", actor, note.student, service=note.service,
                           request=request)])  # fmt: skip
    if refusal is not None:
        _refused("record.note.edit_refused", actor, note, refusal, request)
        raise ValidationError({"body": refusal})
    return note


def sign_note(*, actor, note: RecordEntry, request=None) -> RecordEntry:
    """Sign a draft note (or addendum) as its author: from now on it is locked."""
    with transaction.atomic():
        note = _locked(note)
        refusal = rules.sign_refusal(note_state(note), actor.pk)
        if refusal is None:
            note.is_draft = False
            note.signed_at = timezone.now()
            note.signed_by = actor
            note.save(update_fields=["is_draft", "signed_at", "signed_by"])
            append([_entry("record.note.signed", actor, note.student, service=note.service,
                           request=request)])  # fmt: skip
    if refusal is not None:
        _refused("record.note.sign_refused", actor, note, refusal, request)
        raise ValidationError(refusal)
    return note


def add_addendum(*, actor, note: RecordEntry, body: str, request=None) -> RecordEntry:
    """Draft an addendum correcting a signed note: an entry of its own, pointing at the
    note, signed by its author in turn. The note itself never changes."""
    service = _service_for(actor, note.student)
    refusal = rules.addendum_refusal(note_state(note), [service.pk])
    if refusal is not None:
        raise ValidationError({"body": refusal})
    if problems := rules.note_problems(body, None, timezone.now(), needs_contact=False):
        raise ValidationError(problems)
    with transaction.atomic():
        now = timezone.now()
        addendum = RecordEntry.objects.create(
            student=note.student, category="notes", kind=RecordEntry.Kind.ADDENDUM,
            service=service, author=actor, title=_("Addendum to %(t)s") % {"t": note.title},
            body=body.strip(), amends=note, is_draft=True,
            created_at=now, updated_at=now,
        )  # fmt: skip
        append([_entry("record.addendum.drafted", actor, note.student, service=service,
                       request=request)])  # fmt: skip
    return addendum


def _offered_name(uploaded: str, content_type: str) -> str:
    """The name a document is offered under: the uploaded name, ending as what it is."""
    try:
        stem = PurePath(get_valid_filename(PurePath(uploaded).name)).stem[:150]
    except SuspiciousFileOperation:  # nothing usable left of the name
        stem = ""
    return (stem or "document") + rules.DOCUMENT_TYPES[content_type]


def letter_digest(merged: rules.MergedLetter) -> str:
    """A short fingerprint of a letter's text: sending checks the letter is the one
    previewed (the record, or what the writer may read of it, may have changed since)."""
    return hashlib.sha256(merged.text.encode()).hexdigest()[:32]


def send_letter(
    *, actor, student, template: LetterTemplate, recipient: str, message: str = "",
    previewed: str = "", request=None,
) -> RecordEntry:  # fmt: skip
    """Send a letter from one of the service's templates, merged with what the writer may
    read of the record now: drawn as a PDF and kept on the record as sent (category
    `notes`: it stays with the service). With `previewed` (`letter_digest` of the
    preview), a letter that would differ from the one previewed is not sent."""
    service = _service_for(actor, student)
    if template.service_id != service.pk or not template.is_active:
        raise ValidationError({"template": _("Choose one of your service's letters.")})
    if not recipient.strip():
        raise ValidationError({"recipient": _("Say who the letter is to, with their address.")})
    merged = selectors.merge_letter_for(actor, student, service, template, message, request=request)
    if previewed and letter_digest(merged) != previewed:
        raise ValidationError(
            _("The letter has changed since you previewed it (the record, or what is shared "
              "with you, changed): check it again before sending.")
        )  # fmt: skip
    now = timezone.now()
    pdf = render_pdf(
        "record/letter_pdf.html",
        {"merged": merged, "recipient": recipient.strip(), "service": service,
         "author": actor, "sent_at": now, "kind": template.get_kind_display()},
    )  # fmt: skip
    first_line = recipient.strip().splitlines()[0][:100]
    with transaction.atomic():
        entry = RecordEntry.objects.create(
            student=student, category="notes", kind=RecordEntry.Kind.LETTER, service=service,
            author=actor, title=f"{template.get_kind_display()}: {first_line}",
            body=merged.text, created_at=now, updated_at=now,
        )  # fmt: skip
        Letter.objects.create(
            entry=entry, kind=template.kind, recipient=recipient.strip(), template=template,
            left_out=[{"label": str(o.label), "why": str(o.why)} for o in merged.left_out],
        )  # fmt: skip
        name = f"{slugify(template.get_kind_display())}-{now:%Y-%m-%d}.pdf"
        attachment = Attachment(entry=entry, content_type="application/pdf", size=len(pdf),
                                name=name)  # fmt: skip
        attachment.file.save(name, ContentFile(pdf), save=False)
        attachment.save()
        append([_entry("record.letter.sent", actor, student, service=service, request=request,
                       reason=f"{template.get_kind_display()} to {first_line}")])  # fmt: skip
    return entry


def upload_document(
    *, actor, student, upload, category: str, title: str, is_private: bool = False,
    request=None,
) -> RecordEntry:  # fmt: skip
    """Add a document (a PDF or an image, checked by what it contains) to the record, filed
    in `category`: read only as the policy lets that category be read."""
    service = _service_for(actor, student)
    head = upload.read(rules.HEAD_BYTES)
    upload.seek(0)
    problems = {}
    if problem := rules.document_problem(upload.name, head, upload.size,
                                         settings.DOCUMENT_MAX_BYTES):  # fmt: skip
        problems["file"] = problem
    if category not in selectors.DOCUMENT_CATEGORIES:
        problems["category"] = _("Choose where the document is filed.")
    if not title.strip():
        problems["title"] = _("Say what the document is.")
    if problems:
        raise ValidationError(problems)
    content_type = rules.document_type(head) or ""
    name = _offered_name(upload.name, content_type)
    with transaction.atomic():
        entry = RecordEntry.objects.create(
            student=student, category=category, kind=RecordEntry.Kind.DOCUMENT, service=service,
            author=actor, title=title.strip(), body="",
            is_private_to_service=is_private,
        )  # fmt: skip
        attachment = Attachment(entry=entry, content_type=content_type, size=upload.size,
                                name=name)  # fmt: skip
        attachment.file.save(name, upload, save=False)
        attachment.save()
        append([entry_for("record.document.added", actor, student, category=category,
                          service=service, request=request)])  # fmt: skip
    return entry
