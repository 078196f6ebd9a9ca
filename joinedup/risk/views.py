from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import held_elsewhere, service_ids_of
from joinedup.lib.http import safe_next
from joinedup.people.models import Service
from joinedup.people.permissions import can_view_caseload, capability_required
from joinedup.risk import forms, selectors, services
from joinedup.risk.models import SafetyPlan


@login_required
@capability_required(can_view_caseload)
def flags(request):
    """Flags waiting for my services to acknowledge, most urgent first."""
    rows = selectors.open_flags_for(request.user, request=request)
    return render(request, "risk/flags.html", {"rows": rows})


@login_required
@capability_required(can_view_caseload)
@require_POST
def flag_acknowledge(request, flag_uuid):
    flag = selectors.get_flag_for_user(request.user, flag_uuid)
    try:
        services.acknowledge_flag(actor=request.user, flag=flag, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Flag acknowledged."))
    return redirect(safe_next(request, reverse("risk:flags")))


@login_required
def flag_escalated(request, flag_uuid):
    """An escalated flag, where its service manager acts on it: its level and route so far,
    and a practitioner of theirs in the student's care to ask to act now. The page never
    says who the student is."""
    flag = selectors.get_escalated_flag_for_user(request.user, flag_uuid, request=request)
    form = forms.AssignFlagForm(
        request.POST or None, responders=services.flag_responders(request.user, flag)
    )
    if request.method == "POST" and form.is_valid():
        practitioner = form.cleaned_data["practitioner"]
        try:
            services.assign_flag(
                actor=request.user, flag=flag, practitioner=practitioner, request=request
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(who)s has been asked to act now, by email.")
                % {"who": practitioner.get_full_name() or practitioner.email},
            )
            return redirect("risk:flag-escalated", flag.uuid)
    return render(request, "risk/flag_escalated.html", {"flag": flag, "form": form})


def _caring_service(user, student):
    """The user's service with an open care relationship with the student, or 404."""
    relationship = (
        CareRelationship.objects.open()
        .filter(student=student, service_id__in=service_ids_of(user))
        .first()
    )
    if relationship is None:
        raise Http404
    return Service.objects.get(pk=relationship.service_id)


@login_required
@capability_required(can_view_caseload)
def student_risk(request, student_uuid):
    """The student's current level, assessments and flags; record an assessment or raise a
    flag (the form says which) as a service in the student's care."""
    view = selectors.get_risk_for_user(request.user, student_uuid, request=request)
    kind = request.POST.get("kind")
    assessment_form = forms.AssessmentForm(request.POST if kind == "assessment" else None)
    flag_form = forms.FlagForm(request.POST if kind == "flag" else None)
    if kind in ("assessment", "flag"):
        service = _caring_service(request.user, view.student)
        form = assessment_form if kind == "assessment" else flag_form
        if form.is_valid() and _save(request, kind, form, view.student, service):
            return redirect("risk:student-risk", view.student.uuid)
    context = {"view": view, "assessment_form": assessment_form, "flag_form": flag_form}
    return render(request, "risk/student_risk.html", context, status=400 if kind else 200)


def _save(request, kind, form, student, service) -> bool:
    try:
        if kind == "assessment":
            services.record_assessment(
                actor=request.user,
                student=student,
                service=service,
                domain_levels=form.domain_levels(),
                request=request,
                **{
                    k: form.cleaned_data[k]
                    for k in ("factors", "protective_factors", "plan", "review_on")
                },
            )
            messages.success(request, _("Risk assessment recorded."))
        else:
            services.raise_flag(
                student=student,
                service=service,
                actor=request.user,
                source="practitioner",
                request=request,
                **form.cleaned_data,
            )
            messages.success(
                request, _("Flag raised; the services in the student's care are told.")
            )
    except ValidationError as error:
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return False
    return True


@login_required
@capability_required(can_view_caseload)
def safety_plan(request, student_uuid):
    """Safety plans the user may see, and the plan their service writes with the student."""
    view = selectors.get_risk_for_user(request.user, student_uuid, request=request)
    service = _caring_service(request.user, view.student)
    plan = SafetyPlan.objects.filter(student=view.student, service=service).first()
    form = forms.SafetyPlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_safety_plan(
                actor=request.user,
                student=view.student,
                service=service,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Safety plan saved."))
            return redirect("risk:safety-plan", view.student.uuid)
    plans = selectors.safety_plans_for(request.user, view.student, view.decision)
    held_by = held_elsewhere(
        view.decision, [(SafetyPlan.objects.filter(student=view.student), "service")]
    )
    return render(
        request,
        "risk/safety_plan.html",
        {"view": view, "plans": plans, "form": form, "service": service, "held_by": held_by},
    )


@login_required
@capability_required(can_view_caseload)
def return_plans(request, student_uuid):
    """Return-to-study plans the user may see, and a new one agreed between services."""
    view = selectors.get_risk_for_user(request.user, student_uuid, request=request)
    _caring_service(request.user, view.student)
    form = forms.ReturnPlanForm(request.POST or None, student=view.student)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.save_return_plan(
                actor=request.user, student=view.student, request=request, **data
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Return-to-study plan saved."))
            return redirect("risk:return-plans", view.student.uuid)
    plans = selectors.return_plans_for(request.user, view.student, view.decision)
    return render(request, "risk/return_plans.html", {"view": view, "plans": plans, "form": form})
