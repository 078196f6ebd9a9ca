"""The service's side of messages: its inbox, and the thread with one student."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from joinedup.consent.policy import audit_listing, decide_many, get_student_for_user
from joinedup.messaging import selectors, services
from joinedup.messaging.forms import MessageForm
from joinedup.messaging.models import Message
from joinedup.people.permissions import can_view_caseload, capability_required
from joinedup.record.selectors import banner_for
from joinedup.record.services import NOT_IN_CARE, writing_service
from joinedup.referrals.selectors import clinical_service_ids
from joinedup.referrals.views import add_errors


@login_required
@capability_required(can_view_caseload)
def inbox(request):
    """My services' threads with students, unread first."""
    page = Paginator(selectors.inbox_of(request.user), 50).get_page(request.GET.get("page"))
    audit_listing(
        request.user, [t.student for t in page], action="messaging.inbox.read",
        reason="messages", request=request, categories=lambda student: ("identity", "engagement"),
    )  # fmt: skip
    return render(request, "messaging/inbox.html", {"page": page})


@login_required
@capability_required(can_view_caseload)
@require_http_methods(["GET", "POST"])
def thread(request, student_uuid):
    """The messages between my services and the student, oldest first; opening it marks the
    student's messages read. I write to the student while my service works with them."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    decisions = decide_many(
        request.user, student, ["engagement"], request=request, action="messaging.thread.read"
    )
    service = writing_service(request.user, student)
    ours = Message.objects.filter(
        student=student, service_id__in=clinical_service_ids(request.user)
    )
    shown = selectors.dressed(
        list(decisions["engagement"].rows(ours).select_related("service", "author")),
        by_student=False, filing=service,
    )  # fmt: skip
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.send_from_service(
                actor=request.user, student=student, body=form.cleaned_data["body"],
                request=request,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            flash.success(request, _("Sent. %(name)s is told there is a message, not what it says.")
                          % {"name": student.display_name})  # fmt: skip
            return redirect("messaging:thread", student.uuid)
    services.mark_read(reader=request.user, messages=shown, by_student=False)
    return render(request, "messaging/thread.html", {
        "student": student, "shown": shown, "service": service, "form": form,
        "not_in_care": NOT_IN_CARE, "here": "messages",
        "no_portal": services.NO_PORTAL % {"name": student.display_name}
        if student.user_id is None else "",
        "banner": banner_for(request.user, student, decisions, request=request),
    }, status=400 if form.errors else 200)  # fmt: skip


@login_required
@capability_required(can_view_caseload)
@require_POST
def file_into_notes(request, message_uuid):
    """File one message of a thread into my service's notes, as a draft note to sign."""
    message = (
        Message.objects.select_related("student", "service", "author")
        .filter(uuid=message_uuid, service_id__in=clinical_service_ids(request.user))
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    student = get_student_for_user(request.user, message.student.uuid, request=request)
    try:
        note = services.file_into_notes(actor=request.user, message=message, request=request)
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
        return redirect("messaging:thread", student.uuid)
    flash.success(request, _("Filed into your notes as a draft. Check it, then sign it."))
    return redirect("record:note-detail", note.uuid)
