"""A student can ask to be told when a new service opens their record, and whenever
emergency access is used."""

from django.urls import reverse

from joinedup.consent.policy import decide
from joinedup.consent.services import open_break_glass, open_care_relationship
from joinedup.people.models import Notification


def opt_in(hub, client, **choices):
    client.force_login(hub.student_user)
    client.post(reverse("portal:notifications"), choices)
    hub.student.refresh_from_db()


def test_the_first_access_by_a_new_service_is_told_once(
    hub, client, mailoutbox, django_capture_on_commit_callbacks
):
    opt_in(hub, client, notify_new_access="on")
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    with django_capture_on_commit_callbacks(execute=True):
        decide(hub.crisis_practitioner, hub.student, "identity")
        decide(hub.crisis_practitioner, hub.student, "identity")
    assert [n.text for n in Notification.objects.all()] == [
        "Crisis Team (Northbridge NHS Trust) opened your record for the first time."
    ]
    assert mailoutbox[-1].to == [hub.student_user.email]
    assert "Crisis Team" in mailoutbox[-1].body
    html = client.get(reverse("portal:home")).content.decode()
    assert "opened your record for the first time" in html


def test_nothing_is_told_without_asking(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    decide(hub.crisis_practitioner, hub.student, "identity")
    assert not Notification.objects.exists()


def test_emergency_access_is_told_when_asked_and_its_reason_is_on_the_page_not_in_the_email(
    hub, client, mailoutbox, django_capture_on_commit_callbacks
):
    opt_in(hub, client, notify_break_glass="on")
    why = "Called 999; risk to life."
    with django_capture_on_commit_callbacks(execute=True):
        open_break_glass(actor=hub.crisis_practitioner, student=hub.student, reason=why)
    [told] = Notification.objects.all()
    assert told.text == (
        "Emergency access to your record was opened by Crisis Team. Their reason is under "
        "“Who has looked at your record”."
    )
    emails = [m for m in mailoutbox if hub.student_user.email in m.to]
    assert emails
    assert all(why not in m.body for m in emails)
    client.force_login(hub.crisis_practitioner)
    client.get(reverse("record:student-detail", args=[hub.student.uuid]))
    client.force_login(hub.student_user)
    page = client.get(reverse("portal:home")).content.decode()
    assert page.count("data-override") == 1
    assert f"Emergency override: {why}" in page
