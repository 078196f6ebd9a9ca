"""Emergency access ends when its time is up and leaves no lasting access behind it: a consent
recorded under it is refused, a referral made under it opens nothing for the referrer, and the
review shows everything done under it."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import open_break_glass
from joinedup.consent.tests.test_grant_views import consent_form, grant_url, record_url

REASON = "Risk to life: the student told the GP they have a plan and cannot be reached."


@pytest.fixture
def override(hub):
    return open_break_glass(actor=hub.crisis_practitioner, student=hub.student, reason=REASON)


def test_override_lasts_its_hours_and_not_a_minute_more(hub, client, override):
    hours = dt.timedelta(hours=settings.BREAK_GLASS_HOURS)
    with time_machine.travel(override.opened_at + hours - dt.timedelta(minutes=1), tick=False):
        client.force_login(hub.crisis_practitioner)
        assert client.get(record_url(hub.student)).status_code == 200
    with time_machine.travel(override.opened_at + hours + dt.timedelta(minutes=1), tick=False):
        client.force_login(hub.crisis_practitioner)
        assert client.get(record_url(hub.student)).status_code == 404
        assert client.get(f"/api/students/{hub.student.uuid}").status_code == 404


def test_consent_recorded_under_an_override_alone_is_refused_in_words(hub, client, override):
    client.force_login(hub.crisis_practitioner)

    for category in ("identity", "risk"):
        response = client.post(grant_url(hub.student), consent_form(hub.crisis, category))
        assert response.status_code == 200
        assert "only through emergency access" in response.content.decode()

    assert not ConsentGrant.objects.exists()


def test_a_referral_made_under_an_override_leaves_no_access_after_it(hub, client, override):
    client.force_login(hub.crisis_practitioner)
    response = client.post(
        reverse("referrals:referral-create", args=[hub.student.uuid]),
        {"to_service": hub.talking.pk, "reason": "Needs therapy after the crisis."},
    )
    assert response.status_code == 302
    referral_page = response["Location"]
    assert client.get(referral_page).status_code == 200

    later = timezone.now() + dt.timedelta(hours=settings.BREAK_GLASS_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        client.force_login(hub.crisis_practitioner)  # a new sign-in: the old one timed out
        assert client.get(record_url(hub.student)).status_code == 404
        assert client.get(referral_page).status_code == 404


def test_the_review_shows_everything_done_under_the_override(hub, client, override):
    client.force_login(hub.crisis_practitioner)
    client.get(record_url(hub.student))
    client.post(grant_url(hub.student), consent_form(hub.crisis, "risk"))
    hub.org_admin.is_staff = hub.org_admin.is_superuser = True
    hub.org_admin.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(hub.org_admin)

    page = client.get(reverse("admin:consent_breakglass_change", args=[override.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Everything done under it" in html
    assert "record.read" in html
    assert "consent.break_glass.opened" in html
