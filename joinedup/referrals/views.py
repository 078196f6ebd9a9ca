from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from joinedup.consent.policy import get_student_for_user, seats_of
from joinedup.people.models import Service
from joinedup.people.permissions import (
    can_record_consent,
    can_view_caseload,
    capability_required,
    is_staff_member,
)
from joinedup.referrals import appointments, forms, selectors, services
from joinedup.referrals.diary import clinicians_of


def add_errors(form, error: ValidationError) -> None:
    """Put a service's refusal next to the field it is about, or above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _own_service(user):
    seat = next(
        (
            s
            for s in seats_of(user)
            if s.service_id and s.role in ("practitioner", "triage", "liaison")
        ),
        None,
    )
    return Service.objects.get(pk=seat.service_id) if seat else None


@login_required
@capability_required(can_view_caseload)
def referral_create(request, student_uuid):
    """Refer a student from my service to another, in this organisation or another."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    from_service = _own_service(request.user)
    form = forms.ReferralForm(request.POST or None, from_service=from_service)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.create_referral(
                actor=request.user,
                student=student,
                from_service=from_service,
                source="service",
                send=request.POST.get("draft") is None,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Referral sent.") if referral.sent_at else _("Referral saved as a draft."),
            )
            return redirect("referrals:referral-detail", referral.uuid)
    return render(request, "referrals/referral_form.html", {"form": form, "student": student})


@login_required
@capability_required(can_view_caseload)
def referral_detail(request, referral_uuid):
    """A referral as both sides see it: state, clocks, receipt, what it carries, actions."""
    view = selectors.get_referral_for_user(request.user, referral_uuid, request=request)
    if view.is_receiver:
        services.mark_opened(actor=request.user, referral=view.referral)
    return render(request, "referrals/referral_detail.html", _detail_context(view, request.user))


def _detail_context(view, user, *, failed: tuple[str, object] | None = None, **forms_with_errors):
    """The page's context; `failed` is an action and its form, shown with its errors."""
    errored = dict([failed]) if failed else {}
    context = {
        "view": view,
        "referral": view.referral,
        "action_forms": [(a, errored.get(a) or _action_form(a)) for a in view.actions],
        "assessment_form": forms.AssessmentForm(),
        "appointment_form": forms.AppointmentForm(
            clinicians=clinicians_of(view.referral.to_service), user=user
        )
        if view.is_receiver and view.referral.episode
        else None,
        **_appointments(view),
        "summary_words": _summary_words(view.referral, done=False)
        if "discharge" in view.actions
        else "",
    }
    return context | forms_with_errors


def _appointments(view) -> dict:
    """The episode's appointments as the engagement decision lets them through (the
    receiving service's own; the referrer's only with the student's consent), and whether
    some are held back (said, not left out)."""
    if view.referral.episode is None:
        return {"appointments": [], "appointments_withheld": False}
    every = view.referral.episode.appointments.all()
    shown = view.decisions["engagement"].rows(every, "episode__service")
    return {"appointments": shown, "appointments_withheld": every.exists() and not shown.exists()}


def _action_form(action: str, data=None):
    """The form of an action, if it has one; ids are prefixed by the action, because
    several action forms share one page."""
    form_class = ACTIONS[action][0]
    return form_class(data, auto_id=f"id_{action}_%s") if form_class else None


# action name → (its form, or None, and the service it calls)
ACTIONS = {
    "send": (None, services.send_referral),
    "accept": (None, services.accept_referral),
    "decline": (forms.DeclineForm, services.decline_referral),
    "withdraw": (None, services.withdraw_referral),
    "add_to_waiting_list": (None, services.add_to_waiting_list),
    "first_contact": (forms.MomentForm, services.record_first_contact),
    "start_treatment": (forms.MomentForm, services.start_treatment),
    "discharge": (forms.DischargeForm, services.discharge_referral),
}


LEAVES_RECEIVER = {
    "decline": gettext_lazy(
        "Referral declined. The referrer has been told. Your service keeps what it wrote; the rest "
        "of the student's record is no longer shown to you."
    ),
    "discharge": gettext_lazy(
        "Discharged. %(summary)s Your service keeps what it wrote; the rest of the student's "
        "record is no longer shown to you."
    ),
}


def _summary_words(referral, *, done: bool) -> str:
    """Where the discharge summary goes, truly (the answer the discharge acts on): before
    the clinician confirms, and after."""
    if referral.from_service is None:
        return _("The summary is kept on the referral.")
    names = {"service": referral.from_service.name}
    if services.summary_reaches_referrer(referral):
        return (
            _("The summary has gone to %(service)s.")
            if done
            else _("The summary will go to %(service)s.")
        ) % names
    if done:
        return (
            _(
                "The summary stays with your service: the student's consent does not let it reach "
                "%(service)s. They have been told that the student was discharged, and when, and "
                "the student has been asked whether to share it."
            )
            % names
        )
    return (
        _(
            "The student's consent does not let the summary reach %(service)s: it will stay with "
            "your service. %(service)s will be told that the student was discharged, and when, "
            "but nothing of the summary, and the student will be asked whether to share it."
        )
        % names
    )


def _version(request) -> int:
    """The version of the page the action came from; anything unreadable counts as stale."""
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else 0


@login_required
@capability_required(can_view_caseload)
@require_POST
def referral_action(request, referral_uuid, action):
    """One step of the referral's life; an illegal or stale step is refused and explained."""
    if action not in ACTIONS:
        raise Http404
    view = selectors.get_referral_for_user(request.user, referral_uuid, request=request)
    service = ACTIONS[action][1]
    form = _action_form(action, request.POST)
    if action not in view.actions:
        messages.error(request, _("You cannot do that to this referral now."))
        return redirect("referrals:referral-detail", referral_uuid)
    if form is None or form.is_valid():
        try:
            service(
                actor=request.user,
                referral=view.referral,
                request=request,
                version=_version(request),
                **(form.cleaned_data if form else {}),
            )
        except ValidationError as error:
            if form is None or isinstance(error, services.ConflictError):
                messages.error(request, " ".join(error.messages))
                return redirect("referrals:referral-detail", referral_uuid)
            add_errors(form, error)
        else:
            if action in LEAVES_RECEIVER and view.is_receiver and not view.is_referrer:
                # The step closed this service's care relationship: the referral is no
                # longer this user's to open, so say so and go back to the waiting list.
                messages.success(
                    request,
                    LEAVES_RECEIVER[action] % {"summary": _summary_words(view.referral, done=True)},
                )
                return redirect("referrals:waiting-list")
            messages.success(request, _("Done."))
            return redirect("referrals:referral-detail", referral_uuid)
    return render(
        request,
        "referrals/referral_detail.html",
        _detail_context(view, request.user, failed=(action, form)),
        status=400,
    )


@login_required
@capability_required(can_view_caseload)
@require_POST
def assessment_add(request, referral_uuid):
    view = selectors.get_referral_for_user(request.user, referral_uuid, request=request)
    form = forms.AssessmentForm(request.POST)
    if view.is_receiver and form.is_valid():
        services.add_to_assessment(
            actor=request.user,
            referral=view.referral,
            text=form.cleaned_data["text"],
            request=request,
        )
        messages.success(request, _("Added to the shared assessment."))
        return redirect("referrals:referral-detail", referral_uuid)
    return render(
        request,
        "referrals/referral_detail.html",
        _detail_context(view, request.user, assessment_form=form),
        status=400,
    )


@login_required
@capability_required(can_view_caseload)
@require_POST
def appointment_create(request, referral_uuid):
    view = selectors.get_referral_for_user(request.user, referral_uuid, request=request)
    if not (view.is_receiver and view.referral.episode):
        raise Http404
    form = forms.AppointmentForm(
        request.POST, clinicians=clinicians_of(view.referral.to_service), user=request.user
    )
    if form.is_valid():
        try:
            appointments.book_appointment(
                actor=request.user,
                episode=view.referral.episode,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect("referrals:referral-detail", referral_uuid)
    return render(
        request,
        "referrals/referral_detail.html",
        _detail_context(view, request.user, appointment_form=form),
        status=400,
    )


@login_required
@capability_required(can_view_caseload)
def waiting_list(request):
    """My service's waiting list, longest wait first, with each referral's clock."""
    service = _own_service(request.user)
    waiting = service and selectors.waiting_list_for(
        request.user, service, page_number=request.GET.get("page"), request=request
    )
    return render(
        request,
        "referrals/waiting_list.html",
        {"service": service, "waiting": waiting, "may_ask": can_record_consent(request.user)},
    )


@login_required
@capability_required(can_view_caseload)
def referral_list(request):
    """Referrals my service made: receipt, state and the same clock the receiver sees."""
    rows = selectors.sent_by(request.user, request=request)
    return render(request, "referrals/referral_list.html", {"rows": rows})


@login_required
def follow_ups(request):
    """Follow-ups my services owe after NHS crisis contacts and discharges."""
    tasks = selectors.follow_ups_for(request.user, request=request)
    return render(
        request, "referrals/follow_ups.html", {"tasks": tasks, "form": forms.OutcomeForm()}
    )


@login_required
@require_POST
def follow_up_complete(request, task_uuid):
    task = selectors.get_follow_up_for_user(request.user, task_uuid)
    form = forms.OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.complete_follow_up(
                actor=request.user, task=task, outcome=form.cleaned_data["text"], request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Follow-up recorded."))
    else:
        messages.error(request, _("Say what was done."))
    return redirect("referrals:follow-ups")


@login_required
def gaps(request):
    """Students the gap rules found falling through, for liaison staff and managers."""
    if not selectors.gap_services_of(request.user):
        raise Http404
    rows = selectors.gap_worklist_for(request.user, request=request)
    return render(request, "referrals/gaps.html", {"rows": rows, "form": forms.OutcomeForm()})


@login_required
@require_POST
def gap_resolve(request, item_uuid):
    item = selectors.get_gap_item_for_user(request.user, item_uuid, request=request)
    form = forms.OutcomeForm(request.POST)
    if form.is_valid():
        services.resolve_gap_item(
            actor=request.user, item=item, action=form.cleaned_data["text"], request=request
        )
        messages.success(request, _("Recorded what was done."))
    else:
        messages.error(request, _("Say what was done for the student."))
    return redirect("referrals:gaps")


@login_required
@capability_required(can_view_caseload)
def crisis_contact(request, student_uuid):
    """A crisis service records a contact; the university is asked to follow up."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    service = _own_service(request.user)
    if service is None or service.kind != Service.Kind.CRISIS:
        raise Http404
    form = forms.CrisisContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.record_crisis_contact(
            actor=request.user,
            student=student,
            service=service,
            note=form.cleaned_data["note"],
            request=request,
        )
        messages.success(request, _("Crisis contact recorded; the university will follow up."))
        return redirect("record:student-detail", student.uuid)
    return render(request, "referrals/crisis_contact.html", {"form": form, "student": student})


@login_required
@capability_required(is_staff_member)
def pathway_map(request):
    """The hub's referral flows over a period: a diagram and the same figures as a table,
    small numbers suppressed."""
    today = timezone.localdate()
    form = forms.PeriodForm(
        request.GET or {"start": today - timedelta(days=365), "end": today + timedelta(days=1)}
    )
    flows = []
    if form.is_valid():
        start, end = (
            timezone.make_aware(datetime.combine(form.cleaned_data[k], time.min))
            for k in ("start", "end")
        )
        flows = selectors.pathway_flows(start, end)
    chart = [{"from": f.source, "to": f.target, "flow": f.width} for f in flows if f.width]
    return render(
        request, "referrals/pathway_map.html", {"form": form, "flows": flows, "chart": chart}
    )
