"""A student's consents through the API: listing as the record page does, and recording."""

import datetime as dt

from joinedup.api.tests.conftest import staff_api
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import withdraw_consent
from joinedup.consent.tests.factories import give_consent


def consent_body(hub, **fields):
    return {
        "category": "outcomes",
        "purpose": "direct_care",
        "how_given": "in_person",
        "recipient": {"kind": "service", "uuid": str(hub.counselling.uuid)},
        **fields,
    }


def test_a_service_in_care_lists_the_consents_given_to_it(hub, wellbeing_api):
    mine = give_consent(hub, "outcomes", hub.wellbeing)
    give_consent(hub, "risk", hub.crisis)
    body = wellbeing_api.get(f"/students/{hub.student.uuid}/consents").json()
    # Without consent to see other services' engagement, only consents given to Wellbeing.
    assert body["shown"] == "yours"
    assert [c["uuid"] for c in body["items"]] == [str(mine.uuid)]
    assert body["items"][0]["recipient"] == {
        "kind": "service", "uuid": str(hub.wellbeing.uuid), "name": "Wellbeing",
    }  # fmt: skip
    assert AuditEvent.objects.filter(action="api.consents.read", category="engagement").exists()


def test_with_consent_to_engagement_every_consent_is_listed(hub, wellbeing_api):
    give_consent(hub, "engagement", hub.wellbeing)
    other = give_consent(hub, "risk", hub.crisis)
    withdraw_consent(actor=hub.practitioner, grant=other)
    body = wellbeing_api.get(f"/students/{hub.student.uuid}/consents").json()
    assert (body["shown"], body["count"]) == ("all", 2)
    withdrawn = next(c for c in body["items"] if c["uuid"] == str(other.uuid))
    assert withdrawn["is_active"] is False
    assert withdrawn["withdrawn_at"]


def test_a_service_without_care_gets_404(hub, outsider_api):
    give_consent(hub, "risk", hub.crisis)
    response = outsider_api.get(f"/students/{hub.student.uuid}/consents")
    assert response.status_code == 404
    assert "Crisis" not in response.content.decode()


def test_a_practitioner_records_a_consent_and_it_is_audited(hub, wellbeing_api):
    response = wellbeing_api.post(f"/students/{hub.student.uuid}/consents", consent_body(hub))
    assert response.status_code == 201, response.content
    grant = ConsentGrant.objects.get()
    assert (grant.category, grant.recipient, grant.how_given) == (
        "outcomes", hub.counselling, "in_person",
    )  # fmt: skip
    assert response.json()["uuid"] == str(grant.uuid)
    assert AuditEvent.objects.filter(action="consent.grant.recorded").exists()


def test_an_unknown_recipient_or_bad_dates_are_named_and_nothing_is_saved(hub, wellbeing_api):
    url = f"/students/{hub.student.uuid}/consents"
    import uuid

    response = wellbeing_api.post(
        url, consent_body(hub, recipient={"kind": "department", "uuid": str(uuid.uuid4())})
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"recipient": ["No department with that uuid."]}
    start = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
    response = wellbeing_api.post(
        url,
        consent_body(
            hub, valid_from=start.isoformat(), valid_until=(start - dt.timedelta(1)).isoformat()
        ),
    )
    assert (response.status_code, response.json()["errors"]) == (
        422, {"valid_until": ["The end must be after the start."]},
    )  # fmt: skip
    response = wellbeing_api.post(url, consent_body(hub, category="gossip", how_given="portal"))
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"category", "how_given"}
    assert not ConsentGrant.objects.exists()


def test_staff_who_may_not_record_consent_are_refused(hub, client):
    api = staff_api(client, hub.academic)
    response = api.post(f"/students/{hub.student.uuid}/consents", consent_body(hub))
    assert response.status_code == 403
    assert not ConsentGrant.objects.exists()


def test_a_service_without_care_cannot_record_consent(hub, outsider_api):
    response = outsider_api.post(f"/students/{hub.student.uuid}/consents", consent_body(hub))
    assert response.status_code == 404
    assert not ConsentGrant.objects.exists()
