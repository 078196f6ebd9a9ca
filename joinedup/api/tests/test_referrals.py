"""Referrals through the API: the same reads, the same services, the same refusals."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from joinedup.api.tests.conftest import Api, make_client, make_token, staff_api
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.consent.services import withdraw_consent
from joinedup.record.tests.factories import write_entry
from joinedup.referrals.models import Referral
from joinedup.referrals.tests.factories import refer


@pytest.fixture
def talking_api(hub, client) -> Api:
    return Api(client, make_token(make_client(hub.talking, role="triage")))


def test_a_service_refers_and_reads_it_back(hub, wellbeing_api):
    response = wellbeing_api.post(
        "/referrals",
        {"student": str(hub.student.uuid), "to_service": str(hub.talking.uuid), "reason": "Low."},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    referral = Referral.objects.get()
    assert (body["uuid"], body["state"], body["version"]) == (str(referral.uuid), "sent", 2)
    assert (referral.from_service, referral.to_service) == (hub.wellbeing, hub.talking)
    assert body["actions"] == ["withdraw"]
    assert AuditEvent.objects.filter(action="referrals.referral.sent").exists()
    listed = wellbeing_api.get("/referrals").json()
    assert [r["uuid"] for r in listed["items"]] == [str(referral.uuid)]
    assert wellbeing_api.get("/referrals", state="declined").json()["count"] == 0


def test_a_refusal_is_explained_next_to_the_field_and_nothing_is_saved(hub, wellbeing_api):
    response = wellbeing_api.post(
        "/referrals",
        {
            "student": str(hub.student.uuid),
            "to_service": str(hub.talking.uuid),
            "reason": "Low mood.",
            "carry_assessment": True,
        },
    )
    assert response.status_code == 400
    assert (
        "has not agreed to share their assessment"
        in response.json()["errors"]["carry_assessment"][0]
    )
    missing = wellbeing_api.post(
        "/referrals",
        {"student": str(hub.student.uuid), "to_service": str(uuid.uuid4()), "reason": "Low."},
    )
    assert missing.json()["errors"] == {"to_service": ["No service with that uuid."]}
    blank = wellbeing_api.post(
        "/referrals",
        {"student": str(hub.student.uuid), "to_service": str(hub.talking.uuid), "reason": ""},
    )
    assert (blank.status_code, list(blank.json()["errors"])) == (422, ["reason"])
    assert not Referral.objects.exists()


def test_the_receiver_reads_accepts_and_waits_with_versions(hub, talking_api):
    referral = refer(hub)
    body = talking_api.get(f"/referrals/{referral.uuid}").json()
    assert set(body["actions"]) >= {"accept", "decline"}
    assert Referral.objects.get().opened_at is not None  # receipt
    read = AuditEvent.objects.filter(action="referrals.referral.read", allowed=True)
    assert set(read.values_list("category", flat=True)) >= {"identity", "engagement"}
    assert talking_api.get("/referrals", box="waiting").json()["count"] == 1
    accepted = talking_api.post(f"/referrals/{referral.uuid}/accept", {"version": body["version"]})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "accepted"
    stale = talking_api.post(
        f"/referrals/{referral.uuid}/add-to-waiting-list", {"version": body["version"]}
    )
    assert stale.status_code == 409
    assert "Nothing you did was saved." in stale.json()["detail"]
    fresh = talking_api.post(
        f"/referrals/{referral.uuid}/add-to-waiting-list", {"version": accepted.json()["version"]}
    )
    assert fresh.json()["state"] == "waiting"


def test_a_step_the_state_does_not_allow_is_refused(hub, talking_api, wellbeing_api):
    referral = refer(hub)
    version = Referral.objects.get().version
    response = talking_api.post(f"/referrals/{referral.uuid}/discharge", {
        "version": version, "at": timezone.now().isoformat(), "ending": "planned", "summary": "x",
    })  # fmt: skip
    assert response.status_code == 400
    assert response.json()["detail"] == "You cannot do that to this referral now."
    # The referrer may withdraw but not accept its own referral.
    assert (
        wellbeing_api.post(f"/referrals/{referral.uuid}/accept", {"version": version}).status_code
        == 400
    )
    assert Referral.objects.get().state == "sent"


def test_decline_needs_a_reason_from_the_list(hub, talking_api):
    referral = refer(hub)
    version = Referral.objects.get().version
    bad = talking_api.post(f"/referrals/{referral.uuid}/decline", {"version": version})
    assert (bad.status_code, list(bad.json()["errors"])) == (422, ["reason"])
    response = talking_api.post(
        f"/referrals/{referral.uuid}/decline",
        {"version": version, "reason": "higher", "signposted_to": "Community team"},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["decline_reason"]) == ("declined", "higher")
    # Declining closed Talking Therapies' care relationship; it still reads its own decision.
    ended = CareRelationship.objects.get(service=hub.talking, student=hub.student)
    assert (ended.closed_at is not None, ended.ended_because) == (True, "declined")
    assert talking_api.get(f"/referrals/{referral.uuid}").json()["state"] == "declined"


def test_first_contact_cannot_be_in_the_future_or_before_sending(hub, talking_api):
    referral = refer(hub)
    version = Referral.objects.get().version
    accepted = talking_api.post(f"/referrals/{referral.uuid}/accept", {"version": version}).json()
    future = timezone.now() + dt.timedelta(days=1)
    response = talking_api.post(
        f"/referrals/{referral.uuid}/first-contact",
        {"version": accepted["version"], "at": future.isoformat()},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"at": ["This cannot be in the future."]}
    before = referral.sent_at - dt.timedelta(days=3)
    response = talking_api.post(
        f"/referrals/{referral.uuid}/first-contact",
        {"version": accepted["version"], "at": before.isoformat()},
    )
    assert "cannot be before the referral was sent" in response.json()["errors"]["at"][0]
    naive = talking_api.post(
        f"/referrals/{referral.uuid}/first-contact",
        {"version": accepted["version"], "at": "2026-01-01T10:00:00"},
    )
    assert (naive.status_code, list(naive.json()["errors"])) == (422, ["at"])
    assert Referral.objects.get().first_contact_at is None


def test_carried_entries_follow_the_policy(hub, talking_api):
    from joinedup.consent.tests.factories import give_consent

    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, title="The story")
    give_consent(hub, "assessment", hub.talking)
    referral = refer(hub, carry_assessment=True)
    body = talking_api.get(f"/referrals/{referral.uuid}").json()
    assert [e["title"] for e in body["carried"]] == ["The story"]
    assert body["withheld"] == []


def test_what_a_referral_carries_unshared_is_named_withheld_not_left_out(hub, talking_api):
    from joinedup.consent.tests.factories import give_consent

    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, title="The story")
    grant = give_consent(hub, "assessment", hub.talking)
    referral = refer(hub, carry_assessment=True)
    withdraw_consent(actor=hub.student_user, grant=grant)

    body = talking_api.get(f"/referrals/{referral.uuid}").json()

    assert body["carried"] == []
    assert body["withheld"] == [{"category": "assessment", "held_by": "Wellbeing"}]
    assert "The story" not in str(body)


def test_an_outsider_or_academic_cannot_reach_a_referral(hub, outsider_api, client):
    referral = refer(hub)
    assert outsider_api.get(f"/referrals/{referral.uuid}").status_code == 404
    assert outsider_api.get("/referrals").json()["count"] == 0
    version = Referral.objects.get().version
    response = outsider_api.post(f"/referrals/{referral.uuid}/withdraw", {"version": version})
    assert response.status_code == 404
    assert staff_api(client, hub.academic).get("/referrals").status_code == 403
    assert Referral.objects.get().state == "sent"
