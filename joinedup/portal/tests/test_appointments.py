"""The student's appointments in their portal: where, when and how long; asking to cancel
or rebook, and seeing the answer."""

import datetime as dt

import icalendar
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import make_student
from joinedup.audit.models import AuditEvent
from joinedup.people.models import User
from joinedup.referrals import appointments
from joinedup.referrals.models import AppointmentRequest
from joinedup.referrals.tests.factories import book, day_after_tomorrow_at, walked_in

VIDEO = "https://video.example/wellbeing/priya"


@pytest.fixture
def appointment(hub):
    episode = walked_in(hub, hub.student, practitioner=hub.practitioner)
    return book(
        hub, episode, day_after_tomorrow_at(10), minutes=30,
        video_link=VIDEO,
    )  # fmt: skip


def test_the_student_sees_where_when_and_how_long(hub, client, appointment):
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:appointments")).content.decode()
    assert "30 minutes" in html
    assert 'href="https://video.example/wellbeing/priya"' in html
    assert "Join the video appointment" in html
    assert "Wellbeing · Priya" in html
    assert reverse("portal:appointment-ask", args=[appointment.uuid]) in html
    assert AuditEvent.objects.filter(
        action="portal.appointments.read", basis="self", student=hub.student
    ).exists()
    home = client.get(reverse("portal:home")).content.decode()
    assert reverse("portal:appointments") in home


def test_the_student_asks_to_rebook_with_a_reason(hub, client, appointment):
    client.force_login(hub.student_user)
    url = reverse("portal:appointment-ask", args=[appointment.uuid])
    assert client.get(url).status_code == 200
    response = client.post(url, {"wants": "rebook"})
    assert response.status_code == 400
    assert "Say why, so the service can help." in response.content.decode()
    assert not AppointmentRequest.objects.exists()

    response = client.post(
        url, {"wants": "rebook", "reason": "Exam that morning.", "better_times": "Afternoons"}
    )
    assert response.url == reverse("portal:appointments")
    html = client.get(response.url).content.decode()
    assert "Waiting for Wellbeing to answer." in html
    assert url not in html  # one request at a time


def test_the_student_sees_the_answer(hub, client, appointment):
    asked = appointments.ask_about_appointment(
        actor=hub.student_user, appointment=appointment, wants="cancel", reason="Home early."
    )
    appointments.answer_appointment_request(
        actor=hub.practitioner, asked=asked, answer="kept",
        message="It is your last session: please come, or call us.",
    )  # fmt: skip
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:appointments")).content.decode()
    assert "Answer: it stays as it is." in html
    assert "It is your last session: please come, or call us." in html
    assert hub.student.notifications.filter(text__contains="it stays as it is").exists()


def test_the_next_appointment_comes_first_and_a_past_one_has_no_link_to_join(hub, appointment):
    episode = appointment.episode
    episode.started_at = timezone.now() - dt.timedelta(days=10)
    episode.save(update_fields=["started_at"])
    later = book(hub, episode, day_after_tomorrow_at(14))
    past = book(hub, episode, timezone.now() - dt.timedelta(days=3), video_link=VIDEO)
    client = Client()
    client.force_login(hub.student_user)

    html = client.get(reverse("portal:appointments")).content.decode()

    order = [html.index(f'data-appointment="{a.uuid}"') for a in (appointment, later, past)]
    assert order == sorted(order)
    assert html.index("Coming up") < order[0] < order[1] < html.index("Earlier") < order[2]
    assert html.count("Join the video appointment") == 1  # the past one's link is gone


def test_another_students_appointment_is_not_found_and_staff_have_no_portal(
    hub, client, appointment
):
    from conftest import make_student
    from joinedup.people.models import User

    other = User.objects.create_user("bea@student.nb.ac.uk", "x")
    make_student(hub.university, "NB1000002", user=other)
    url = reverse("portal:appointment-ask", args=[appointment.uuid])
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url, {"wants": "cancel", "reason": "Mine."}).status_code == 404
    client.force_login(hub.practitioner)
    assert client.get(url).status_code == 403
    assert not AppointmentRequest.objects.exists()


def calendar_of(client, appointment):
    return client.get(reverse("portal:appointment-calendar", args=[appointment.uuid]))


def test_an_appointment_goes_into_the_students_calendar(hub, client, appointment):
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:appointments")).content.decode()
    assert reverse("portal:appointment-calendar", args=[appointment.uuid]) in html
    response = calendar_of(client, appointment)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="appointment-')
    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == appointment.starts_at
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=30)
    assert str(event["location"]) == "Student Centre 2.14"
    assert str(event["description"]) == f"Join by video: {VIDEO}"
    assert str(event["uid"]) == f"{appointment.uuid}@joinedup"
    # Nothing that says what the appointment is for, on a calendar others may see.
    assert str(event["summary"]) == "Appointment"
    assert hub.wellbeing.name not in response.content.decode()


def test_a_cancelled_appointment_says_so_in_the_calendar(hub, client, appointment):
    appointment.status, appointment.cancelled_by = "cancelled", "service"
    appointment.cancelled_at = timezone.now()
    appointment.save()
    client.force_login(hub.student_user)
    (event,) = icalendar.Calendar.from_ical(calendar_of(client, appointment).content).walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"


def test_only_the_student_gets_their_calendar_file(hub, client, appointment):
    client.force_login(hub.practitioner)
    assert calendar_of(client, appointment).status_code == 403
    other = make_student(hub.university, "NB1999999", user=User.objects.create_user("o@nb.ac.uk"))
    client.force_login(other.user)
    assert calendar_of(client, appointment).status_code == 404
