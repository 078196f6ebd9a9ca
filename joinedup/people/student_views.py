"""Staff pages about students' records: register a student, find a student, merge records."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from joinedup.consent.policy import audit_listing
from joinedup.lib.http import AuthenticatedRequest
from joinedup.people import intake, merging
from joinedup.people.forms import FindStudentForm, MergeForm, RegisterStudentForm
from joinedup.people.models import Organisation, Role, Student
from joinedup.people.permissions import (
    can_find_students,
    can_merge_students,
    can_register_students,
    capability_required,
)
from joinedup.people.selectors import find_students, identity_shown_in_full

PAGE_SIZE = 25


@login_required
@capability_required(can_register_students)
@require_http_methods(["GET", "POST"])
def student_register(request: AuthenticatedRequest) -> HttpResponse:
    """Register a student who came to the service; warn first of records that may be them."""
    form = RegisterStudentForm(
        request.POST or None, places=intake.registration_places(request.user)
    )
    warning, acknowledgement = None, ""
    if request.method == "POST" and form.is_valid():
        (service, university), details = form.cleaned_data["place"], form.details()
        acknowledgement = _acknowledgement(details, university)
        confirmed = request.POST.get("different") == "yes" and constant_time_compare(
            request.POST.get("acknowledgement", ""), acknowledgement
        )
        try:
            student, _referral = intake.register_student(
                actor=request.user,
                service=service,
                university=university,
                details=details,
                reason=form.cleaned_data["reason"],
                confirmed_different=confirmed,
                request=request,
            )
        except intake.PossibleDuplicatesError as duplicates:
            warning = duplicates
            audit_listing(
                request.user,
                duplicates.records,
                action="people.student.duplicate_warned",
                reason="A possible duplicate at registration.",
                request=request,
            )
            if duplicates.blocks:
                form.add_error("student_number", _number_taken(duplicates, university))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is registered, and their self-referral is with %(service)s.")
                % {"name": student, "service": service},
            )
            return redirect("record:student-detail", student.uuid)
    return render(
        request,
        "people/student_register.html",
        {
            "form": form,
            "warning": warning,
            "acknowledgement": acknowledgement,
        },
    )


def _acknowledgement(details: intake.StudentDetails, university: Organisation) -> str:
    """What "this is a different person" answers: a keyed hash of the details the warning
    was about, so that changing them asks again (and the page holds no record's id)."""
    said = [
        university.pk,
        details.student_number,
        details.nhs_number,
        details.legal_given_name,
        details.legal_family_name,
        str(details.date_of_birth),
    ]
    key = "joinedup.people.register.different"
    return salted_hmac(key, json.dumps(said), algorithm="sha256").hexdigest()


def _number_taken(duplicates: intake.PossibleDuplicatesError, university: Organisation) -> str:
    taken = next(f for f in duplicates.found if f.blocks)
    if taken.student is not None:
        return _(
            "%(name)s already has this student number at %(university)s: open their record instead."
        ) % {"name": taken.student, "university": university.name}
    return _(
        "This student number is already used at %(university)s. Ask the student, or the "
        "service supporting them, whether they are registered already."
    ) % {"university": university.name}


def _add_errors(form, error: ValidationError) -> None:
    """A service's refusal beside the field it is about, or above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
@capability_required(can_find_students)
def student_find(request: AuthenticatedRequest) -> HttpResponse:
    """Find a student by name, student or NHS number, or date of birth, among those the
    access policy lets the user read; each one shown is audited."""
    form = FindStudentForm(request.GET or None)
    query, page, full = request.GET.get("q", "").strip(), None, set()
    if query and form.is_valid():
        search = find_students(request.user, query)
        if search.problem:
            form.add_error("q", search.problem)
        else:
            page = Paginator(search.students, PAGE_SIZE).get_page(request.GET.get("page"))
            full = identity_shown_in_full(request.user, page)
            audit_listing(
                request.user,
                list(page),
                action="people.student.found",
                reason="Found by a search.",
                request=request,
            )
    return render(
        request,
        "people/student_find.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "full": full,
            "can_register": can_register_students(request.user),
        },
    )


@login_required
@capability_required(can_merge_students)
@require_http_methods(["GET", "POST"])
def student_merge(request: AuthenticatedRequest) -> HttpResponse:
    """Merge two records of one student at the admin's university: pick them by student
    number, compare them side by side with what would move, then confirm."""
    universities = list(
        Organisation.objects.filter(
            kind=Organisation.Kind.UNIVERSITY,
            memberships__user=request.user,
            memberships__role=Role.ORG_ADMIN,
        ).distinct()
    )
    form = MergeForm(request.POST or None, universities=universities)
    plan = None
    if request.method == "POST" and form.is_valid():
        kept, merged = _pick(form)
        if kept is not None and merged is not None:
            plan = merging.plan_merge(kept, merged)
            merging.audit_admin_read(request.user, [kept, merged], request=request)
            if plan.allowed and request.POST.get("confirm") == "yes":
                try:
                    plan = merging.merge_students(
                        actor=request.user, kept=kept, merged=merged, request=request
                    )
                except merging.MergeRefusedError as refusal:
                    plan.refusals = refusal.message_dict
                else:
                    messages.success(request, merging.merged_in_words(plan))
                    return redirect("people:student-merge")
            for name, errors in plan.refusals.items():
                form.add_error(name if name in form.fields else None, errors)
    return render(
        request,
        "people/student_merge.html",
        {
            "form": form,
            "plan": plan,
            "rows": merging.compared(plan) if plan else [],
            "filled": merging.filled_in_words(plan) if plan else [],
        },
    )


def _pick(form: MergeForm) -> tuple[Student | None, Student | None]:
    """The two current records named by student number at the chosen university; a number
    that names none is said beside its field."""
    university = form.cleaned_data["university"]
    found = []
    for name in ("kept", "merged"):
        number = form.cleaned_data[name]
        student = (
            Student.objects.select_related("university", "gp_practice", "department")
            .filter(university=university, student_number__iexact=number)
            .first()
        )
        if student is None:
            form.add_error(
                name,
                _("No record has the student number %(number)s at %(university)s.")
                % {"number": number, "university": university.name},
            )
        found.append(student)
    return found[0], found[1]
