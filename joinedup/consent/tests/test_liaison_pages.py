"""A liaison worker acts as a practitioner: without a relationship with their own service or
the student's consent they read nothing, record no consent, resolve no other service's gap
item and refer no one; once in the student's care they read what partner services hold."""

import pytest
from django.urls import reverse

from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.test_grant_views import consent_form, grant_url, record_url
from joinedup.record.tests.factories import write_entry
from joinedup.referrals.models import GapItem, Referral


@pytest.fixture
def in_crisis_care(hub):
    """The student is in the Crisis Team's care, nothing to do with the liaison service."""
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    return write_entry(hub.student, "risk", hub.crisis, hub.crisis_practitioner, body="High risk.")


@pytest.fixture
def gap_item(hub):
    return GapItem.objects.create(
        rule="discharged_no_follow_up", key="test-gap", student=hub.student, service=hub.crisis,
        detail="Discharged with no university follow-up.",
    )  # fmt: skip


def test_without_a_relationship_the_liaison_worker_reads_nothing(hub, client, in_crisis_care):
    client.force_login(hub.liaison)
    assert client.get(record_url(hub.student)).status_code == 404
    assert client.get(f"/api/students/{hub.student.uuid}").status_code == 404
    assert client.get(reverse("risk:student-risk", args=[hub.student.uuid])).status_code == 404


def test_without_a_relationship_the_liaison_worker_changes_nothing(
    hub, client, in_crisis_care, gap_item
):
    client.force_login(hub.liaison)

    consent = client.post(grant_url(hub.student), consent_form(hub.liaison_service))
    referral = client.post(
        reverse("referrals:referral-create", args=[hub.student.uuid]),
        {"to_service": hub.talking.pk, "reason": "Needs therapy."},
    )
    resolve = client.post(
        reverse("referrals:gap-resolve", args=[gap_item.uuid]), {"text": "Handled."}
    )

    assert (consent.status_code, referral.status_code, resolve.status_code) == (404, 404, 404)
    assert not hub.student.consent_grants.exists()
    assert not Referral.objects.exists()
    gap_item.refresh_from_db()
    assert gap_item.resolved_at is None


def test_in_the_students_care_the_liaison_worker_reads_partner_services_entries(
    hub, client, in_crisis_care, gap_item
):
    open_care_relationship(student=hub.student, service=hub.liaison_service, reason="referral")
    client.force_login(hub.liaison)

    assert "High risk." in client.get(record_url(hub.student)).content.decode()
    resolve = client.post(
        reverse("referrals:gap-resolve", args=[gap_item.uuid]), {"text": "Handled."}
    )
    assert resolve.status_code == 302
    gap_item.refresh_from_db()
    assert gap_item.resolved_at is not None
