"""The student's appointments: when, how long, where (a place or a video link), with whom;
and their requests to cancel or rebook, with the service's answers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.consent.policy import decide_many
from joinedup.portal.views import _own_student
from joinedup.referrals.appointments import ask_about_appointment
from joinedup.referrals.diary import appointments_of_student, get_own_appointment
from joinedup.referrals.forms import AskForm
from joinedup.referrals.views import add_errors


@login_required
def appointments(request):
    """My appointments: those to come, soonest first, then the last two months', latest
    first."""
    student = _own_student(request)
    decide_many(
        request.user, student, ["engagement"], request=request, action="portal.appointments.read"
    )
    mine, now = appointments_of_student(student), timezone.now()
    return render(request, "portal/appointments.html", {
        "student": student, "now": now,
        "upcoming": [a for a in mine if a.starts_at > now],  # soonest first
        "earlier": [a for a in reversed(mine) if a.starts_at <= now],  # latest first
    })  # fmt: skip


@login_required
def appointment_ask(request, appointment_uuid):
    """Ask the service to cancel an appointment, or to change its time, saying why."""
    student = _own_student(request)
    appointment = get_own_appointment(student, appointment_uuid)
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ask_about_appointment(
                actor=request.user, appointment=appointment, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Sent to %(service)s. They will answer here, and you will get an email.")
                % {"service": appointment.episode.service.name},
            )
            return redirect("portal:appointments")
    return render(
        request,
        "portal/appointment_ask.html",
        {"appointment": appointment, "form": form},
        status=400 if form.errors else 200,
    )
