"""The contact log: every contact the user may see, newest first, paged, in a constant number
of queries; what another service holds is said to be held, never left out silently."""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.record.selectors import CONTACTS_PER_PAGE
from joinedup.record.tests.factories import (
    draft_note,
    signed_addendum,
    signed_note,
    uploaded,
)
from joinedup.referrals.models import Appointment
from joinedup.referrals.services import open_episode

NOW = timezone.now()


def log_url(hub):
    return reverse("record:contact-log", args=[hub.student.uuid])


def rows(html: str) -> list[str]:
    """Each row of the log as its kind and its first cell."""
    found = re.findall(
        r'<tr class="nhsuk-table__row" data-contact="(\w+)">\s*<td[^>]*>([^<]*)</td>', html
    )
    return [f"{kind} {when}" for kind, when in found]


def appointment(hub, service, when, status="attended"):
    episode = open_episode(actor=hub.practitioner, student=hub.student, service=service)
    return Appointment.objects.create(
        episode=episode, starts_at=when, kind="treatment", status=status,
        recorded_by=hub.practitioner,
    )  # fmt: skip


def test_every_contact_shows_newest_first(hub, client):
    local = timezone.localtime(NOW).replace(second=0, microsecond=0)
    appointment(hub, hub.wellbeing, local - dt.timedelta(days=3))
    note = signed_note(hub.practitioner, hub.student, at=local - dt.timedelta(days=2))
    signed_addendum(hub.practitioner, note)
    uploaded(hub.practitioner, hub.student)
    draft_note(hub.practitioner, hub.student, at=local - dt.timedelta(days=1), kind="phone")
    client.force_login(hub.practitioner)

    html = client.get(log_url(hub)).text

    stamp = "{:%-d %b %Y %H:%M}".format
    document = timezone.localtime(hub.student.entries.get(kind="document").created_at)
    assert rows(html) == [
        f"document {stamp(document)}",
        f"note {stamp(local - dt.timedelta(days=1))}",
        f"note {stamp(local - dt.timedelta(days=2))}",
        f"appointment {stamp(local - dt.timedelta(days=3))}",
    ]
    assert html.count("data-addendum") == 1
    assert "only you can see it until you sign it" in html


def test_the_log_is_paged(hub, client):
    for days in range(CONTACTS_PER_PAGE + 3):
        signed_note(hub.practitioner, hub.student, at=NOW - dt.timedelta(days=days + 1))
    client.force_login(hub.practitioner)

    first, second = client.get(log_url(hub)).text, client.get(log_url(hub), {"page": 2}).text

    assert len(rows(first)) == CONTACTS_PER_PAGE
    assert len(rows(second)) == 3
    assert "Page 2 of 2" in second


def test_the_log_takes_the_same_queries_however_many_contacts(hub, client):
    def add_contacts(count):
        for n in range(count):
            note = signed_note(hub.practitioner, hub.student, at=NOW - dt.timedelta(days=n + 1))
            signed_addendum(hub.practitioner, note)
            uploaded(hub.practitioner, hub.student)
            appointment(hub, hub.wellbeing, NOW - dt.timedelta(days=n + 1, hours=2))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(log_url(hub))
        assert response.status_code == 200
        return len(captured)

    client.force_login(hub.practitioner)
    add_contacts(1)
    queries()  # the first page view of a session also moves its expiry on
    few = queries()
    add_contacts(12)

    assert queries() == few


def test_another_service_sees_that_notes_are_held_never_what_they_say(hub, client):
    signed_note(hub.practitioner, hub.student, "Wellbeing's own words.")
    appointment(hub, hub.wellbeing, NOW - dt.timedelta(days=1))
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    give_consent(hub, "notes", hub.counselling)  # notes never leave their service all the same
    client.force_login(hub.counsellor)

    html = client.get(log_url(hub)).text

    assert "Wellbeing&#x27;s own words." not in html
    assert rows(html) == []
    assert "Notes: held by Wellbeing — not shared with you." in html
    assert "Appointments with other services: not shared with you." in html
    assert "No contacts recorded by your service yet." in html


def test_appointments_of_another_service_show_with_the_students_consent(hub, client):
    when = NOW - dt.timedelta(days=1)
    appointment(hub, hub.wellbeing, when)
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    give_consent(hub, "engagement", hub.counselling)
    client.force_login(hub.counsellor)

    html = client.get(log_url(hub)).text

    assert [r.split()[0] for r in rows(html)] == ["appointment"]
    assert "Appointments with other services" not in html


def test_academics_and_outsiders_cannot_open_the_log(hub, client):
    client.force_login(hub.academic)
    assert client.get(log_url(hub)).status_code == 403
    client.force_login(hub.outsider)
    assert client.get(log_url(hub)).status_code == 404
