"""Self-referral pages: the form a service's directory entry offers (signed in or not), and
its triage's page for a pending record's self-referral."""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from joinedup.people.middleware import is_staff_user
from joinedup.people.permissions import can_view_caseload, capability_required
from joinedup.referrals.selfreferral import forms, selectors, services
from joinedup.referrals.views import _version, add_errors

RATE_LIMITED = _(
    "Too many requests for help have been sent from here in a short time. Please try again "
    "later, or phone the service."
)


@require_http_methods(["GET", "POST"])
def self_referral_create(request, service_uuid):
    """Refer yourself to a service that takes self-referrals: a signed-in student from their
    record, anyone else by saying who they are. Open to everyone; the same answer whether or
    not the details typed match anyone registered."""
    offer = selectors.get_offer(service_uuid)
    context = {"offer": offer, "service": offer.service}
    if is_staff_user(request.user):
        return render(request, "referrals/self_referral/staff.html", context)
    student = selectors.own_record(request.user, request=request)
    if student is not None:
        initial = {"email": student.email, "phone": student.phone}
        form = forms.StudentSelfReferralForm(request.POST or None, initial=initial)
    else:
        form = forms.UnregisteredSelfReferralForm(
            request.POST or None, universities=selectors.universities_for(offer)
        )
    if request.method == "POST" and form.is_valid():
        key = (form.cleaned_data["email"] or form.cleaned_data["phone"]).casefold()
        if not ratelimit.consume(request, action="self_referral", key=key):
            form.add_error(None, RATE_LIMITED)
        else:
            try:
                _send(request, offer, student, form)
            except ValidationError as error:
                add_errors(form, error)
            else:
                return redirect("referrals:self-referral-sent", offer.service.uuid)
    return render(
        request,
        "referrals/self_referral/form.html",
        context | {"form": form, "student": student},
        status=400 if form.errors else 200,
    )


def _send(request, offer, student, form):
    data = form.cleaned_data
    if student is not None:
        return services.self_refer(student=student, service=offer.service, request=request,
                                   **data)  # fmt: skip
    return services.self_refer_unregistered(
        service=offer.service, university=form.chosen_university(), details=form.details(),
        reason=data["reason"], request=request,
    )  # fmt: skip


@require_GET
def self_referral_sent(request, service_uuid):
    """What happens next, and how long the wait is: the same page for everyone."""
    offer = selectors.get_offer(service_uuid)
    return render(request, "referrals/self_referral/sent.html", {"offer": offer})


@login_required
@capability_required(can_view_caseload)
@require_GET
def self_referral_triage(request, referral_uuid):
    """Triage's page for a pending record: its details, likely duplicates, confirm or reject."""
    triage = selectors.get_triage_for_user(request.user, referral_uuid, request=request)
    return _triage_page(request, triage)


def _triage_page(request, triage, *, confirm_form=None, reject_form=None):
    return render(
        request,
        "referrals/self_referral/triage.html",
        {
            "triage": triage,
            "referral": triage.referral,
            "student": triage.referral.student,
            "confirm_form": confirm_form or forms.ConfirmForm(duplicates=triage.duplicates),
            "reject_form": reject_form or forms.RejectForm(),
        },
        status=400 if confirm_form or reject_form else 200,
    )


@login_required
@capability_required(can_view_caseload)
@require_POST
def self_referral_confirm(request, referral_uuid):
    triage = selectors.get_triage_for_user(request.user, referral_uuid, request=request)
    form = forms.ConfirmForm(request.POST, duplicates=triage.duplicates)
    if form.is_valid():
        try:
            referral = services.confirm_self_referral(
                actor=request.user, referral=triage.referral, request=request,
                student_number=form.cleaned_data["student_number"],
                as_student_key=form.cleaned_data["as_student"],
                confirmed_different=form.cleaned_data.get("confirmed_different", False),
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Confirmed: the self-referral is now %(name)s's, waiting for your decision.")
                % {"name": referral.student.display_name},
            )
            return redirect("referrals:referral-detail", referral.uuid)
    return _triage_page(request, triage, confirm_form=form)


@login_required
@capability_required(can_view_caseload)
@require_POST
def self_referral_reject(request, referral_uuid):
    triage = selectors.get_triage_for_user(request.user, referral_uuid, request=request)
    form = forms.RejectForm(request.POST)
    if form.is_valid():
        try:
            referral = services.reject_self_referral(
                actor=request.user, referral=triage.referral, version=_version(request),
                request=request, **form.cleaned_data,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Rejected. They have been told by email.")
                if referral.student.email
                else _("Rejected. They gave no email address: tell them by phone."),
            )
            return redirect("referrals:waiting-list")
    return _triage_page(request, triage, reject_form=form)
