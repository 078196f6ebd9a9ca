"""The student's choices about their data, and the privacy notice anyone may read."""

from django.test import Client
from django.urls import reverse

from joinedup.audit.models import AuditEvent


def test_the_student_records_the_national_data_opt_out_and_can_change_it_back(hub, client):
    client.force_login(hub.student_user)
    url = reverse("portal:choices")
    page = client.get(url).content.decode()
    assert "Now: your NHS care may be used, without your name, for research and planning." in page
    assert 'href="tel:03003035678"' in page

    response = client.post(url, {"opted_out": "yes"}, follow=True)
    assert "Saved: your NHS care is left out of research and planning." in response.content.decode()
    hub.student.refresh_from_db()
    assert hub.student.national_data_opt_out is True
    event = AuditEvent.objects.get(action="people.student.data_opt_out_changed")
    assert (event.actor, event.reason) == (hub.student_user, "opted out")

    client.post(url, {"opted_out": "no"})
    hub.student.refresh_from_db()
    assert hub.student.national_data_opt_out is False


def test_no_answer_is_asked_for_and_nothing_changes(hub, client):
    hub.student.national_data_opt_out = True
    hub.student.save()
    client.force_login(hub.student_user)
    response = client.post(reverse("portal:choices"), {})
    assert response.status_code == 400
    assert "Choose whether your NHS care may be used." in response.content.decode()
    hub.student.refresh_from_db()
    assert hub.student.national_data_opt_out is True


def test_staff_have_no_choices_page(hub, client):
    client.force_login(hub.practitioner)
    assert client.get(reverse("portal:choices")).status_code == 403


def test_the_privacy_notice_is_open_to_all_and_names_each_data_protection_officer(hub):
    page = Client().get(reverse("privacy"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "mailto:dpo@nb.ac.uk" in text
    assert "mailto:dpo@nhs.example" in text
    assert "Your story and what you want from support" in text
