"""A service manager acts on a flag escalated to them, from the link in the email."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.risk import services
from joinedup.risk.tests.test_services import flag


@pytest.fixture
def escalated(hub, mailoutbox, django_capture_on_commit_callbacks):
    """A High flag Wellbeing left unacknowledged for two days: it reached its manager."""
    raised = flag(hub)
    with django_capture_on_commit_callbacks(execute=True):
        for hours in (25, 49):
            with time_machine.travel(raised.raised_at + dt.timedelta(hours=hours)):
                services.escalate_flags()
    return raised


def link_in(mail) -> str:
    return re.search(r"https?://[^\s]+", mail.body).group(0).split("127.0.0.1:8000", 1)[1]


def test_the_managers_email_opens_a_page_they_may_use_and_it_names_no_one(
    hub, client, escalated, mailoutbox
):
    [mail] = [m for m in mailoutbox if m.to == [hub.service_manager.email]]
    url = link_in(mail)
    assert url == reverse("risk:flag-escalated", args=[escalated.uuid])
    client.force_login(hub.service_manager)

    response = client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "High risk flag" in html
    assert hub.student.display_name not in html
    assert hub.student.legal_family_name not in html
    assert "Said they had a plan." not in html  # the reason is clinical
    assert f"Then to the service manager ({hub.service_manager.email})" in html
    assert AuditEvent.objects.filter(
        action="risk.flag.escalation_seen", actor=hub.service_manager
    ).exists()


def test_the_manager_asks_a_practitioner_who_is_emailed_a_link_they_may_use(
    hub, client, escalated, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(hub.service_manager)
    url = reverse("risk:flag-escalated", args=[escalated.uuid])
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"practitioner": hub.practitioner.pk}, follow=True)

    assert "Priya has been asked to act now, by email." in response.content.decode()
    escalated.refresh_from_db()
    assert (escalated.assigned_to, escalated.assigned_by) == (hub.practitioner, hub.service_manager)
    [mail] = mailoutbox
    assert mail.to == [hub.practitioner.email]
    client.force_login(hub.practitioner)
    worklist = client.get(link_in(mail))
    assert worklist.status_code == 200
    assert str(escalated.uuid) in worklist.content.decode()


def test_only_a_practitioner_in_the_students_care_can_be_asked(hub, client, escalated):
    client.force_login(hub.service_manager)
    url = reverse("risk:flag-escalated", args=[escalated.uuid])

    response = client.post(url, {"practitioner": hub.counsellor.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    escalated.refresh_from_db()
    assert escalated.assigned_to is None


def test_once_acknowledged_the_page_says_so_and_offers_nothing(hub, client, escalated):
    services.acknowledge_flag(actor=hub.practitioner, flag=escalated)
    client.force_login(hub.service_manager)

    html = client.get(reverse("risk:flag-escalated", args=[escalated.uuid])).content.decode()

    assert "Acknowledged by Priya on" in html
    assert "Ask them to act now" not in html


@pytest.mark.parametrize("who", ["outsider", "researcher", "academic", "org_admin", "counsellor"])
def test_nobody_outside_the_students_care_finds_it(hub, client, escalated, who):
    import uuid

    client.force_login(getattr(hub, who))
    real = client.get(reverse("risk:flag-escalated", args=[escalated.uuid]))
    missing = client.get(reverse("risk:flag-escalated", args=[uuid.uuid4()]))
    assert (real.status_code, missing.status_code) == (404, 404)
