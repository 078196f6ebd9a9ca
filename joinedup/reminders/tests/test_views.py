"""The student's reminder choice in their portal, and what the service sees of reminders on
the appointment page."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from joinedup.referrals.tests.factories import book, walk_in_student, walked_in
from joinedup.reminders.models import ReminderPreference
from joinedup.reminders.services import send_due_reminders

URL = reverse("portal:reminders")


def test_the_student_sees_their_addresses_and_the_default_choice(hub, client):
    hub.student.phone = "07700900123"
    hub.student.save(update_fields=["phone"])
    client.force_login(hub.student_user)
    page = client.get(URL).content.decode()
    assert "alex@student.nb.ac.uk" in page
    assert "07700900123" in page
    assert re.search(r'value="email"[^>]* checked', page)


def test_without_notify_only_email_or_none_is_offered(hub, client):
    client.force_login(hub.student_user)
    page = client.get(URL).content.decode()
    assert 'value="none"' in page
    assert 'value="sms"' not in page
    assert client.post(URL, {"channel": "sms"}).status_code == 400
    assert not ReminderPreference.objects.exists()


def test_the_student_chooses_text_messages(hub, client, notify):
    client.force_login(hub.student_user)
    response = client.post(URL, {"channel": "both"}, follow=True)
    assert "Your reminder choice is saved." in response.content.decode()
    assert ReminderPreference.objects.get(student=hub.student).channel == "both"


@pytest.mark.parametrize("data", [{}, {"channel": "pigeon"}])
def test_a_missing_or_unknown_choice_says_so_and_saves_nothing(hub, client, data):
    client.force_login(hub.student_user)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "Choose how you would like to be reminded." in response.content.decode()
    assert not ReminderPreference.objects.exists()


def test_staff_have_no_reminder_choice_of_their_own(hub, client):
    client.force_login(hub.practitioner)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"channel": "none"}).status_code == 403
    assert not ReminderPreference.objects.exists()


def test_the_appointment_page_shows_the_choice_and_a_reminder_not_sent(hub, client):
    student = walk_in_student(hub)
    ReminderPreference.objects.create(student=student, channel="sms")
    appointment = book(hub, walked_in(hub, student=student), timezone.now() + dt.timedelta(hours=3))
    send_due_reminders()
    client.force_login(hub.practitioner)
    page = client.get(reverse("referrals:appointment-detail", args=[appointment.uuid]))
    text = page.content.decode()
    assert "The student chose to be reminded: by text message." in text
    assert "by text message not sent: no contact details." in text


def test_the_appointment_page_shows_a_reminder_sent(hub, client):
    episode = walked_in(hub, student=hub.student)
    appointment = book(hub, episode, timezone.now() + dt.timedelta(hours=3))
    client.force_login(hub.practitioner)
    url = reverse("referrals:appointment-detail", args=[appointment.uuid])
    assert "No reminder sent yet." in client.get(url).content.decode()
    send_due_reminders()
    text = client.get(url).content.decode()
    assert "The student has not chosen how to be reminded, so is reminded by email" in text
    ReminderPreference.objects.create(student=hub.student, channel="email")
    text = client.get(url).content.decode()
    assert "The student chose to be reminded: by email." in text
    assert "sent by email." in text
