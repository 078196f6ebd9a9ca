from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from joinedup.consent import services
from joinedup.consent.forms import BreakGlassForm, RecordConsentForm
from joinedup.consent.policy import get_student_for_user
from joinedup.consent.rules import reason_has_substance
from joinedup.lib.http import AuthenticatedRequest, safe_next
from joinedup.people.models import Student
from joinedup.people.permissions import can_break_glass, can_record_consent, capability_required


@login_required
@capability_required(can_record_consent)
@require_http_methods(["GET", "POST"])
def grant_create(request: AuthenticatedRequest, student_uuid: UUID) -> HttpResponse:
    """Record consent a student gave in person or on paper."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    form = RecordConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_consent(
                actor=request.user, student=student, category=data["category"],
                purpose=data["purpose"], how_given=data["how_given"],
                valid_from=data["valid_from"], valid_until=data["valid_until"],
                request=request, **data["recipient"],
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("record:student-detail", student.uuid)
    return render(request, "consent/grant_form.html", {"form": form, "student": student})


@login_required
@capability_required(can_break_glass)
@require_http_methods(["GET", "POST"])
def break_glass_open(request: AuthenticatedRequest) -> HttpResponse:
    """Emergency access to a student's record when there is a risk to life."""
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        student = Student.objects.filter(
            university=data["university"],
            student_number=data["student_number"].strip(),
            date_of_birth=data["date_of_birth"],
        ).first()
        if not reason_has_substance(data["reason"].strip()):
            # Checked before whether the details match: a weak reason gets the same answer
            # either way, so it cannot be used to test details without opening an override.
            services.record_refused_break_glass(
                actor=request.user, request=request, why="The reason given says too little."
            )
            form.add_error("reason", services.WEAK_REASON)
        elif student is None:
            # One answer whether the number is unknown or the date of birth does not match,
            # so the form cannot be used to find out who studies where.
            services.record_refused_break_glass(actor=request.user, request=request)
            form.add_error(None, _("No student at that university matches those details."))
        else:
            try:
                services.open_break_glass(
                    actor=request.user, student=student, reason=data["reason"], request=request
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.warning(request, _("Emergency access is open and has been reported."))
                return redirect("record:student-detail", student.uuid)
    elif request.method == "POST":
        services.record_refused_break_glass(
            actor=request.user, request=request, why="The form was not filled in."
        )
    return render(request, "consent/break_glass_form.html", {"form": form})


@login_required
@capability_required(can_record_consent)
def sharing_request_create(request: AuthenticatedRequest, student_uuid: UUID) -> HttpResponse:
    """Ask the student to share a withheld category with my service; back to the page the
    request came from, saying what happens next or why not. (A GET finds nothing, whether
    or not the student exists.)"""
    student = get_student_for_user(request.user, student_uuid, request=request)
    if request.method != "POST":
        raise Http404("No such page.")
    category = request.POST.get("category", "")
    try:
        services.ask_to_share(
            actor=request.user, student=student, category=category, request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _(
                "The student has been asked, in their portal and by email. You will get an "
                "email when they answer."
            ),
        )
    return redirect(safe_next(request, reverse("record:student-detail", args=[student.uuid])))
