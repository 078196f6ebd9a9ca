"""The student's consent page: share and stop sharing, refusals in words, the preview."""

from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import ConsentGrant
from joinedup.consent.policy import decide
from joinedup.consent.services import open_care_relationship
from joinedup.record.tests.factories import write_entry


def toggle(client, share, **fields):
    return client.post(reverse("portal:consents"), {"share": share, **fields}, follow=True)


def test_sharing_and_stopping_apply_at_once(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    client.force_login(hub.student_user)
    html = client.get(reverse("portal:consents")).content.decode()
    assert "Crisis Team" in html
    toggle(client, "on", service=hub.crisis.uuid, category="risk")
    grant = ConsentGrant.objects.get()
    assert (grant.recipient_service, grant.how_given, grant.recorded_by) == (
        hub.crisis,
        "portal",
        hub.student_user,
    )
    assert decide(hub.crisis_practitioner, hub.student, "risk").whole
    toggle(client, "off", service=hub.crisis.uuid, category="risk")
    assert not decide(hub.crisis_practitioner, hub.student, "risk").whole


def test_a_category_a_recipient_cannot_hold_is_refused_in_words_and_audited(hub, client):
    client.force_login(hub.student_user)
    html = toggle(client, "on", department="1", category="risk").content.decode()
    assert "academic staff never see clinical information" in html
    html = toggle(client, "on", service=hub.wellbeing.uuid, category="notes").content.decode()
    assert "case notes never leave the service that wrote them" in html
    assert not ConsentGrant.objects.exists()
    assert AuditEvent.objects.filter(action="consent.grant.refused").count() == 2


def test_the_department_can_be_given_adjustments(hub, client):
    client.force_login(hub.student_user)
    toggle(client, "on", department="1", category="adjustments")
    grant = ConsentGrant.objects.get()
    assert (grant.recipient_department, grant.purpose) == (hub.history, "academic_support")


def test_stop_sharing_everything(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    client.force_login(hub.student_user)
    toggle(client, "on", service=hub.crisis.uuid, category="risk")
    toggle(client, "on", service=hub.crisis.uuid, category="assessment")
    client.post(reverse("portal:consents-withdraw-all"))
    assert not ConsentGrant.objects.active().exists()


def test_the_preview_shows_what_the_service_sees(hub, client):
    write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner, title="Risk summary W")
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    client.force_login(hub.student_user)
    url = reverse("portal:consent-preview", args=[hub.crisis.uuid])
    html = client.get(url).content.decode()
    assert "This is exactly what Crisis Team would see now" in html
    assert "Risk summary W" not in html
    toggle(client, "on", service=hub.crisis.uuid, category="risk")
    assert "Risk summary W" in client.get(url).content.decode()


def test_staff_cannot_use_the_students_consent_page(hub, client):
    client.force_login(hub.practitioner)
    assert client.get(reverse("portal:consents")).status_code == 403


def test_a_malformed_service_uuid_is_refused_in_words_not_a_server_error(hub, client):
    client.force_login(hub.student_user)
    html = toggle(client, "on", service="not-a-uuid", category="risk").content.decode()
    assert "That cannot be shared with them" in html
    assert not ConsentGrant.objects.exists()
