"""The student's appointments: when, how long, where (a place or a video link), with whom;
and their requests to cancel or rebook, with the service's answers."""

import icalendar
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.consent.policy import decide_many
from joinedup.portal.forms import AskForm
from joinedup.portal.views import _own_student
from joinedup.referrals.appointments import ask_about_appointment
from joinedup.referrals.diary import appointments_of_student, get_own_appointment
from joinedup.referrals.models import Appointment
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
def appointment_calendar(request, appointment_uuid):
    """One of my appointments as a calendar file: when, how long and where. Its title says
    only "Appointment", as a shared calendar or a phone's lock screen may show it."""
    student = _own_student(request)
    appointment = get_own_appointment(student, appointment_uuid)
    decide_many(
        request.user, student, ["engagement"], request=request, action="portal.appointments.read"
    )
    event = icalendar.Event()
    event.add("uid", f"{appointment.uuid}@joinedup")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", _("Appointment"))
    if appointment.place:
        event.add("location", appointment.place)
    if appointment.video_link:
        event.add("description", _("Join by video: %(link)s") % {"link": appointment.video_link})
        if not appointment.place:
            event.add("location", appointment.video_link)
    event.add("url", request.build_absolute_uri(reverse("portal:appointments")))
    if appointment.status == Appointment.Status.CANCELLED:
        event.add("status", "CANCELLED")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//JoinedUp//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    stamp = timezone.localtime(appointment.starts_at).strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="appointment-{stamp}.ics"'
    return response


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
