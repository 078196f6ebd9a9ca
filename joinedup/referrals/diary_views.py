"""Pages of a service's working day: episodes (a walk-in opened, allocated, ended), their
appointments (booked, moved, cancelled, attended or missed; students' requests answered) and
the diary by day and by week, per service and per clinician."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.consent.policy import current_basis, get_student_for_user
from joinedup.lib.http import safe_next
from joinedup.people.models import Service, User
from joinedup.people.permissions import can_view_caseload, capability_required, is_staff_member
from joinedup.record.selectors import banner_for
from joinedup.referrals import appointments, diary, episodes, forms, rules
from joinedup.referrals.selectors import clinical_service_ids
from joinedup.referrals.views import add_errors

# Episodes ---------------------------------------------------------------------------------


def _clinical_services(user) -> list[Service]:
    ids = clinical_service_ids(user)
    return sorted(Service.objects.filter(pk__in=ids), key=lambda s: ids.index(s.pk))


@login_required
@capability_required(can_view_caseload)
def episode_new(request):
    """A student walks in: found by student number and date of birth at the user's own
    university, an episode of the user's service opens (and with it the care relationship)."""
    services = _clinical_services(request.user)
    form = forms.WalkInForm(request.POST or None, services=services)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            student = episodes.find_walk_in_student(
                actor=request.user, service=data["service"], request=request,
                student_number=data["student_number"], date_of_birth=data["date_of_birth"],
            )  # fmt: skip
            episode = episodes.open_walk_in_episode(
                actor=request.user, student=student, service=data["service"], request=request
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Episode opened."))
            return redirect("referrals:episode-detail", episode.uuid)
    return render(request, "referrals/episode_new.html", {"form": form}, status=_status(form))


@login_required
@capability_required(can_view_caseload)
def student_episode_new(request, student_uuid):
    """Open an episode for a student whose record the user reads (no referral needed)."""
    student = get_student_for_user(request.user, student_uuid, request=request)
    if current_basis(request.user, student) == "authored":
        raise Http404  # a former service finds a student who comes back as a walk-in
    form = forms.NewEpisodeForm(request.POST or None, services=_clinical_services(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            episode = episodes.open_walk_in_episode(
                actor=request.user, student=student, service=form.cleaned_data["service"],
                request=request,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Episode opened."))
            return redirect("referrals:episode-detail", episode.uuid)
    context = {"form": form, "student": student}
    return render(request, "referrals/episode_new.html", context, status=_status(form))


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _episode_page(request, view, status=200, **forms_with_errors):
    episode = view.episode
    context = {
        "view": view,
        "episode": episode,
        "allocate_form": forms.AllocateForm(
            clinicians=view.clinicians, initial={"practitioner": episode.practitioner_id}
        ),
        "end_form": forms.EndEpisodeForm(),
        "appointment_form": forms.AppointmentForm(
            clinicians=view.clinicians, user=request.user, place=_address_of(episode.service)
        ),
        "now": timezone.now(),
        "banner": banner_for(request.user, episode.student, view.decisions, request=request),
    } | forms_with_errors
    return render(request, "referrals/episode_detail.html", context, status=status)


def _address_of(service) -> str:
    entry = getattr(service, "directory_entry", None)
    return entry.address.replace("\n", ", ") if entry else ""


@login_required
@capability_required(can_view_caseload)
def episode_detail(request, episode_uuid):
    """The episode: who it is allocated to, its appointments, and how it ends."""
    view = diary.get_episode_for_user(request.user, episode_uuid, request=request)
    return _episode_page(request, view)


def _episode_action(request, episode_uuid, make_form, name, act, done: str):
    """Run one change to an episode from its page; refused, the page again with the form's
    errors next to its fields."""
    view = diary.get_episode_for_user(request.user, episode_uuid, request=request)
    if not view.may_act:
        messages.error(request, _("This episode can no longer be changed."))
        return redirect("referrals:episode-detail", episode_uuid)
    form = make_form(view)
    if form.is_valid():
        try:
            act(view, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("referrals:episode-detail", episode_uuid)
    return _episode_page(request, view, status=400, **{name: form})


@login_required
@capability_required(can_view_caseload)
@require_POST
def episode_allocate(request, episode_uuid):
    def act(view, data):
        episodes.allocate_episode(actor=request.user, episode=view.episode, request=request, **data)

    def form(view):
        return forms.AllocateForm(request.POST, clinicians=view.clinicians)

    return _episode_action(request, episode_uuid, form, "allocate_form", act, _("Allocated."))


@login_required
@capability_required(can_view_caseload)
@require_POST
def episode_end(request, episode_uuid):
    def act(view, data):
        episodes.close_episode(actor=request.user, episode=view.episode, request=request, **data)

    def form(view):
        return forms.EndEpisodeForm(request.POST)

    return _episode_action(request, episode_uuid, form, "end_form", act, _("Episode ended."))


@login_required
@capability_required(can_view_caseload)
@require_POST
def episode_book(request, episode_uuid):
    def act(view, data):
        appointments.book_appointment(
            actor=request.user, episode=view.episode, request=request, **data
        )

    def form(view):
        return forms.AppointmentForm(request.POST, clinicians=view.clinicians)

    return _episode_action(
        request, episode_uuid, form, "appointment_form", act, _("Appointment booked.")
    )


# Appointments -----------------------------------------------------------------------------


def _appointment_page(request, view, status=200, **forms_with_errors):
    appointment = view.appointment
    context = {
        "view": view,
        "appointment": appointment,
        "episode": appointment.episode,
        "move_form": forms.RescheduleForm(clinicians=view.clinicians, appointment=appointment),
        "cancel_form": forms.CancelForm(),
        "answer_form": forms.AnswerForm(wants=view.waiting.wants) if view.waiting else None,
        "has_started": appointment.starts_at <= timezone.now(),
    } | forms_with_errors
    return render(request, "referrals/appointment_detail.html", context, status=status)


@login_required
@capability_required(can_view_caseload)
def appointment_detail(request, appointment_uuid):
    """One appointment: move, cancel, attended or missed, and the student's request."""
    view = diary.get_appointment_for_user(request.user, appointment_uuid, request=request)
    return _appointment_page(request, view)


def _appointment_action(request, view, form, name, act, done: str):
    if not view.may_act:
        messages.error(request, _("You can no longer change this appointment."))
        return redirect("referrals:appointment-detail", view.appointment.uuid)
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("referrals:appointment-detail", view.appointment.uuid)
    return _appointment_page(request, view, status=400, **{name: form})


@login_required
@capability_required(can_view_caseload)
@require_POST
def appointment_move(request, appointment_uuid):
    view = diary.get_appointment_for_user(request.user, appointment_uuid, request=request)
    form = forms.RescheduleForm(request.POST, clinicians=view.clinicians)

    def act(data):
        appointments.reschedule_appointment(
            actor=request.user, appointment=view.appointment, request=request, **data
        )

    return _appointment_action(request, view, form, "move_form", act, _("Appointment moved."))


@login_required
@capability_required(can_view_caseload)
@require_POST
def appointment_cancel(request, appointment_uuid):
    view = diary.get_appointment_for_user(request.user, appointment_uuid, request=request)
    form = forms.CancelForm(request.POST)

    def act(data):
        appointments.cancel_appointment(
            actor=request.user, appointment=view.appointment, request=request,
            by=data["cancelled_by"], reason=data["reason"],
        )  # fmt: skip

    return _appointment_action(request, view, form, "cancel_form", act, _("Appointment cancelled."))


@login_required
@capability_required(can_view_caseload)
@require_POST
def request_answer(request, appointment_request_uuid):
    """The service answers a student's request to cancel or rebook."""
    view, asked = diary.get_request_for_user(
        request.user, appointment_request_uuid, request=request
    )
    form = forms.AnswerForm(request.POST, wants=asked.wants)

    def act(data):
        appointments.answer_appointment_request(
            actor=request.user, asked=asked, request=request, **data
        )

    return _appointment_action(
        request, view, form, "answer_form", act, _("Answered. The student has been told.")
    )


@login_required
@capability_required(can_view_caseload)
@require_POST
def appointment_record(request, appointment_uuid):
    """Attended, missed (did not attend) or cancelled, from the episode's, the referral's
    or the appointment's page (`next`)."""
    view = diary.get_appointment_for_user(request.user, appointment_uuid, request=request)
    form = forms.AppointmentOutcomeForm(request.POST)
    if not view.may_act:
        messages.error(request, _("You can no longer change this appointment."))
    elif form.is_valid():
        try:
            appointments.record_appointment(
                actor=request.user, appointment=view.appointment, request=request,
                **form.cleaned_data,
            )  # fmt: skip
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Appointment updated."))
    else:
        messages.error(request, _("Choose what happened."))
    page = reverse("referrals:appointment-detail", args=[view.appointment.uuid])
    return redirect(safe_next(request, page))


# Diaries ----------------------------------------------------------------------------------


def _days(request) -> tuple[str, dt.date, list[dt.date]]:
    """The span asked for ("day" or "week"), the day, and the days it shows."""
    form = forms.DiaryForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    span = data.get("span") or "week"
    day = data.get("on") or timezone.localdate()
    return span, day, rules.week_of(day) if span == "week" else [day]


def _diary_page(request, service, clinician=None):
    span, day, days = _days(request)
    step = dt.timedelta(days=7 if span == "week" else 1)
    found = diary.diary_for(request.user, service, days, clinician=clinician, request=request)
    services = Service.objects.filter(pk__in=diary.diary_services_of(request.user))
    return render(request, "referrals/diary.html", {
        "diary": found, "span": span, "day": day, "clinician": clinician,
        "earlier": day - step, "later": day + step, "today": timezone.localdate(),
        "services": services if len(services) > 1 else [],
        "form": forms.DiaryForm(initial={"on": day, "span": span}),
        "may_open_episodes": bool(clinical_service_ids(request.user)),
    })  # fmt: skip


def _diary_service(request, among: list[int]) -> Service:
    """The service whose diary is asked for (`service`), or the user's first one."""
    wanted = forms.DiaryForm(request.GET)
    uuid = wanted.cleaned_data.get("service") if wanted.is_valid() else None
    services = Service.objects.filter(pk__in=among)
    found = services.filter(uuid=uuid).first() if uuid else None
    return found or min(services, key=lambda s: among.index(s.pk))


@login_required
@capability_required(is_staff_member)
def diary_view(request):
    """A service's diary, one row per clinician, for a day or a week."""
    among = diary.diary_services_of(request.user)
    if not among:
        raise Http404
    return _diary_page(request, _diary_service(request, among))


@login_required
@capability_required(is_staff_member)
def clinician_diary(request, clinician_uuid):
    """One clinician's diary, for a member of a service they work in."""
    among = diary.diary_services_of(request.user)
    clinician = User.objects.filter(uuid=clinician_uuid).first()
    if clinician is None:
        raise Http404
    shared = diary.services_with_clinician(clinician, among)
    if not shared:
        raise Http404
    return _diary_page(request, _diary_service(request, shared), clinician)
