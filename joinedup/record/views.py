from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from joinedup.consent.policy import (
    audit_listing,
    get_student_for_user,
    readable_students,
    seats_of,
)
from joinedup.people.models import Service
from joinedup.people.permissions import can_record_consent, can_view_caseload, capability_required
from joinedup.record import forms, selectors, services
from joinedup.record.models import LetterTemplate, NoteTemplate, RecordEntry
from joinedup.record.selectors import get_record_for_user
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.work.selectors import rows_for
from joinedup.referrals.work.services import clinical_services_of
from joinedup.risk.selectors import current_levels


def crisis_service_ids() -> set[int]:
    return set(Service.objects.filter(kind=Service.Kind.CRISIS).values_list("pk", flat=True))


PAGE_SIZE = 25


@login_required
@capability_required(can_view_caseload)
def caseload(request):
    """Students with an open care relationship to one of my services."""
    query = request.GET.get("q", "")
    students = (
        readable_students(request.user, "identity", bases=("relationship",))
        .search(query)
        .select_related("university")
        .order_by("preferred_name", "legal_family_name", "pk")
    )
    page = Paginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    levels = current_levels(request.user, [student.pk for student in page])
    audit_listing(
        request.user,
        list(page),
        action="record.caseload.listed",
        reason="Listed on the caseload.",
        request=request,
        categories=lambda s: ("identity", "risk") if s.pk in levels else ("identity",),
    )
    for student in page:
        student.risk_level = levels.get(student.pk, "")
    return render(request, "record/caseload.html", {"page": page, "query": query})


def _open_tasks(request, student):
    """The open tasks about the student of the services the user works in (as their task
    list shows them); other services' tasks are their own work."""
    tasks = list(
        FollowUpTask.objects.filter(
            student=student, completed_at__isnull=True,
            service_id__in=clinical_services_of(request.user),
        ).select_related("student", "service", "assignee", "created_by").order_by("due_at", "pk")
    )  # fmt: skip
    return rows_for(request.user, tasks, request=request) if tasks else []


@login_required
def student_detail(request, student_uuid):
    """The student's record: each category the policy allows, and why the others are hidden."""
    record = get_record_for_user(request.user, student_uuid, request=request)
    seats = seats_of(request.user)
    banner = selectors.banner_for(
        request.user, record.student, {s.category: s.decision for s in record.sections},
        risk_held_by=record.section("risk").held_by, request=request,
    )  # fmt: skip
    # A service that no longer works with the student reads what it wrote, and acts no more.
    in_care = record.section("identity").decision.basis != "authored"
    is_clinical = can_view_caseload(request.user) and in_care
    return render(request, "record/student_detail.html", {
        "record": record,
        "banner": banner,
        "is_clinical": is_clinical,
        "tasks": _open_tasks(request, record.student) if is_clinical else [],
        "record_pages": can_view_caseload(request.user),
        "may_ask": can_record_consent(request.user) and in_care,
        "whom": _("you"),
        "is_crisis": any(s.service_id in crisis_service_ids() for s in seats),
        "risk_level": banner.risk if banner.risk_shown else None,
    })  # fmt: skip


# --- Clinical notes, the contact log, letters and documents ---------------------------------


def _add_errors(form, error: ValidationError) -> None:
    """Put a service's refusal next to the field it is about, or above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
@capability_required(can_view_caseload)
def contact_log(request, student_uuid):
    """Every contact with the student I may see, newest first: my service's notes, letters
    and documents, and the appointments the policy lets through."""
    log = selectors.contact_log_for(
        request.user, student_uuid, page_number=request.GET.get("page"), request=request
    )
    service = services.writing_service(request.user, log.student, decision=log.decisions["notes"])
    return render(request, "record/contact_log.html", {
        "log": log, "student": log.student, "page": log.page, "service": service,
        "banner": selectors.banner_for(request.user, log.student, log.decisions, request=request),
    })  # fmt: skip


@login_required
@capability_required(can_view_caseload)
@require_http_methods(["GET", "POST"])
def note_create(request, student_uuid):
    """Write a note of a contact, from one of my service's templates or none."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    service = services.writing_service(request.user, student)
    templates = (
        service.note_templates.filter(is_active=True) if service else NoteTemplate.objects.none()
    )
    template = _chosen(templates, request.POST.get("template") or request.GET.get("template"))
    initial = {"contact_kind": template.contact_kind, "body": template.body} if template else {}
    form = forms.NoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and service and form.is_valid():
        try:
            note = services.write_note(actor=request.user, student=student, template=template,
                                       request=request, **form.cleaned_data)  # fmt: skip
            if request.POST.get("action") == "sign":
                note = services.sign_note(actor=request.user, note=note, request=request)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return _after_saving(request, note)
    return render(request, "record/note_form.html", {
        "student": student, "service": service, "form": form, "templates": templates,
        "template": template, "not_in_care": services.NOT_IN_CARE,
        "banner": selectors.banner_for(request.user, student, request=request),
    })  # fmt: skip


def _chosen(templates, uuid_text):
    try:
        return templates.filter(uuid=uuid_text).first() if uuid_text else None
    except ValidationError:  # not a uuid
        return None


def _after_saving(request, note):
    if note.is_draft:
        messages.success(request, _("Saved as a draft: only you can see it until you sign it."))
    else:
        messages.success(request, _("Signed. It can no longer be changed."))
    return redirect("record:note-detail", note.uuid)


@login_required
@capability_required(can_view_caseload)
@require_GET
def note_detail(request, note_uuid):
    """A note or an addendum: the draft to change and sign, or the signed note with its
    addenda and a way to add one."""
    note = selectors.get_note_for_user(request.user, note_uuid, request=request)
    return render(request, "record/note_detail.html", _note_context(request, note))


def _note_context(request, note, *, edit_form=None, addendum_form=None) -> dict:
    is_note = note.kind == RecordEntry.Kind.NOTE
    service = services.writing_service(request.user, note.student)
    may_amend = is_note and not note.is_draft and service and service.pk == note.service_id
    form_class = forms.NoteForm if is_note else forms.AddendumForm
    return {
        "note": note, "student": note.student, "is_note": is_note,
        "banner": selectors.banner_for(request.user, note.student, request=request),
        "edit_form": edit_form or (form_class(initial={
            "contact_kind": note.contact_kind, "contact_at": note.contact_at, "body": note.body,
        }) if note.is_draft else None),
        "addendum_form": addendum_form or (forms.AddendumForm() if may_amend else None),
    }  # fmt: skip


@login_required
@capability_required(can_view_caseload)
@require_POST
def note_edit(request, note_uuid):
    """Save a draft's changes, and sign it if asked. A signed note is never changed: the
    refusal shows beside the text, which is offered as an addendum instead."""
    note = selectors.get_note_for_user(request.user, note_uuid, request=request)
    form_class = forms.NoteForm if note.kind == RecordEntry.Kind.NOTE else forms.AddendumForm
    form = form_class(request.POST)
    # A signed note is refused whatever was sent: the service says why, in words.
    if form.is_valid() or not note.is_draft:
        values = {"contact_kind": "", "contact_at": None, "body": ""} | form.cleaned_data
        try:
            note = services.edit_note(actor=request.user, note=note, request=request, **values)
            if request.POST.get("action") == "sign":
                note = services.sign_note(actor=request.user, note=note, request=request)
        except ValidationError as error:
            note.refresh_from_db()
            if note.is_draft:
                _add_errors(form, error)
            else:  # signed meanwhile: what was typed becomes the start of an addendum
                form = forms.AddendumForm({"body": values["body"]})
                form.add_error("body", error.messages)
                context = _note_context(request, note, addendum_form=form)
                return render(request, "record/note_detail.html", context)
        else:
            return _after_saving(request, note)
    return render(request, "record/note_detail.html", _note_context(request, note, edit_form=form))


@login_required
@capability_required(can_view_caseload)
@require_POST
def addendum_create(request, note_uuid):
    """Add an addendum to a signed note of my service (saved as a draft, or signed)."""
    note = selectors.get_note_for_user(request.user, note_uuid, request=request)
    form = forms.AddendumForm(request.POST)
    if form.is_valid():
        try:
            addendum = services.add_addendum(
                actor=request.user, note=note, body=form.cleaned_data["body"], request=request
            )
            if request.POST.get("action") == "sign":
                addendum = services.sign_note(actor=request.user, note=addendum, request=request)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return _after_saving(request, addendum)
    context = _note_context(request, note, addendum_form=form)
    return render(request, "record/note_detail.html", context)


@login_required
@capability_required(can_view_caseload)
def letters(request, student_uuid):
    """The letters my service sent about the student, as sent."""
    view = selectors.letters_for(request.user, student_uuid, request=request)
    service = services.writing_service(request.user, view.student, decision=view.decisions["notes"])
    return render(request, "record/letters.html", {
        "view": view, "student": view.student, "service": service,
        "banner": selectors.banner_for(request.user, view.student, view.decisions, request=request),
    })  # fmt: skip


@login_required
@capability_required(can_view_caseload)
@require_http_methods(["GET", "POST"])
def letter_create(request, student_uuid):
    """Write a letter from one of my service's templates, see it as it will be sent (with
    what it leaves out), then send it: the PDF is kept on the record."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    service = services.writing_service(request.user, student)
    templates = (
        service.letter_templates.filter(is_active=True) if service
        else LetterTemplate.objects.none()
    )  # fmt: skip
    initial = {"template": _chosen(templates, request.GET.get("template"))}
    form = forms.LetterForm(request.POST or None, initial=initial, templates=templates)
    context = {"student": student, "service": service, "form": form,
               "not_in_care": services.NOT_IN_CARE,
               "banner": selectors.banner_for(request.user, student, request=request)}  # fmt: skip
    action = request.POST.get("action")
    if request.method == "POST" and service and form.is_valid() and action in ("preview", "send"):
        data = form.cleaned_data
        try:
            if action == "send":
                services.send_letter(actor=request.user, student=student,
                                     previewed=request.POST.get("previewed", ""),
                                     request=request, **data)  # fmt: skip
                messages.success(request, _("Letter sent. Its PDF is kept on the record."))
                return redirect("record:letters", student.uuid)
        except ValidationError as error:
            _add_errors(form, error)
        merged = selectors.merge_letter_for(request.user, student, service, data["template"],
                                            data["message"], request=request)  # fmt: skip
        context |= {"merged": merged, "previewed": services.letter_digest(merged),
                    "recipient": data["recipient"], "kind": data["template"].get_kind_display(),
                    "author": request.user, "sent_at": timezone.now()}  # fmt: skip
    return render(request, "record/letter_form.html", context)


@login_required
@capability_required(can_view_caseload)
@require_http_methods(["GET", "POST"])
def documents(request, student_uuid):
    """The documents on the student's record I may read, and a form to add one."""
    view = selectors.documents_for(request.user, student_uuid, request=request)
    service = services.writing_service(request.user, view.student, decision=view.decisions["notes"])
    form = forms.DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and service and form.is_valid():
        try:
            services.upload_document(actor=request.user, student=view.student,
                                     upload=form.cleaned_data.pop("file"), request=request,
                                     **form.cleaned_data)  # fmt: skip
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Document added to the record."))
            return redirect("record:documents", view.student.uuid)
    return render(request, "record/documents.html", {
        "view": view, "student": view.student, "service": service, "form": form,
        "not_in_care": services.NOT_IN_CARE,
        "banner": selectors.banner_for(request.user, view.student, view.decisions, request=request),
    })  # fmt: skip


@login_required
@require_GET
def entry_file(request, entry_uuid):
    """A document or a letter's PDF, to whoever the policy lets read the category it is
    filed in (audited); always as a download, with the type its content showed."""
    attachment = selectors.get_attachment_for_user(request.user, entry_uuid, request=request)
    try:
        handle = attachment.file.open("rb")
    except OSError as error:  # gone from storage: as if it never was
        raise Http404("No such file.") from error
    return FileResponse(handle, as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type)  # fmt: skip
