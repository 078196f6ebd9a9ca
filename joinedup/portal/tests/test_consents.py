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
    url = reverse("portal:consents-withdraw-all")

    asked = client.get(url).content.decode()
    assert "Stop sharing everything?" in asked
    assert "Risk with Crisis Team (Northbridge NHS Trust)" in asked
    client.post(url)  # a post that did not confirm only asks again
    assert ConsentGrant.objects.active().count() == 2

    done = client.post(url, {"confirm": "yes"}, follow=True).content.decode()
    assert not ConsentGrant.objects.active().exists()
    assert "You stopped sharing 2 things" in done
    assert not decide(hub.crisis_practitioner, hub.student, "risk").whole


def org_wide(hub, category, purpose="direct_care"):
    """A consent the student gave in person to every service of the NHS trust."""
    return ConsentGrant.objects.create(
        student=hub.student,
        category=category,
        recipient_organisation=hub.trust,
        purpose=purpose,
        how_given="in_person",
        recorded_by=hub.practitioner,
    )


def states(client) -> dict:
    """Each recipient's heading and each category's state, as the page shows them."""
    import re

    html = client.get(reverse("portal:consents")).content.decode()
    found = {}
    for card in html.split('<section class="nhsuk-card"')[1:]:
        heading = re.search(r"<h2[^>]*>([^<]+)", card).group(1).strip()
        found[heading] = dict(re.findall(r'data-toggle="(\w+)" data-state="(\w+)"', card))
    return found


def test_an_organisation_wide_consent_shows_as_shared_with_each_of_its_services(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    org_wide(hub, "assessment")
    client.force_login(hub.student_user)

    html = client.get(reverse("portal:consents")).content.decode()

    assert "<strong>Assessment</strong> with every service of Northbridge NHS Trust" in html
    assert states(client)["Crisis Team"]["assessment"] == "shared"
    assert "shared, because you share it with every service of Northbridge NHS Trust" in html
    assert "Stop sharing with every service of Northbridge NHS Trust" in html
    assert decide(hub.crisis_practitioner, hub.student, "assessment").basis == "consent"


def test_stopping_on_a_service_stops_the_organisation_wide_consent_it_came_through(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    org_wide(hub, "assessment")
    client.force_login(hub.student_user)

    page = toggle(client, "off", service=hub.crisis.uuid, category="assessment")

    assert not decide(hub.crisis_practitioner, hub.student, "assessment").whole
    assert not decide(hub.triage, hub.student, "assessment").allowed
    assert states(client)["Crisis Team"]["assessment"] == "not_shared"
    assert "with every service of Northbridge NHS Trust. It applies straight away" in (
        page.content.decode()
    )


def test_a_consent_no_agreement_carries_says_it_does_not_reach_them(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    hub.agreement.categories = ["identity"]
    hub.agreement.save()
    client.force_login(hub.student_user)

    toggle(client, "on", service=hub.crisis.uuid, category="risk")

    assert not decide(hub.crisis_practitioner, hub.student, "risk").whole
    assert states(client)["Crisis Team"]["risk"] == "agreed"
    assert "no data sharing agreement between Northbridge NHS Trust and your university" in (
        client.get(reverse("portal:consents")).content.decode()
    )


def test_withdrawing_one_consent_from_the_list_returns_to_the_page(hub, client):
    grant = org_wide(hub, "risk")
    client.force_login(hub.student_user)

    response = client.post(
        reverse("portal:grant-withdraw", args=[grant.uuid]),
        {"next": reverse("portal:consents")},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("portal:consents")
    assert "You stopped sharing notes about keeping you safe with every service of" in (
        response.content.decode()
    )
    assert not ConsentGrant.objects.active().exists()


def test_the_department_card_shows_the_academic_support_consent_the_tutor_reads(hub, client):
    client.force_login(hub.student_user)
    toggle(client, "on", department="1", category="engagement")

    assert states(client)["Your department: History"] == {
        "engagement": "shared",
        "adjustments": "not_shared",
    }
    assert decide(hub.academic, hub.student, "engagement", "academic_support").allowed


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
