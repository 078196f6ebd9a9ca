"""The record page: allowed sections with their content, refused ones with the plain reason."""

import re

import pytest
from django.urls import reverse

from joinedup.consent.rules import CATEGORIES
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.record.tests.factories import write_entry


def record_page(client, user, student):
    client.force_login(user)
    response = client.get(reverse("record:student-detail", args=[student.uuid]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, category: str) -> str:
    """The HTML of one category's section of the record page."""
    match = re.search(rf'<section [^>]*data-category="{category}">(.*?)</section>', html, re.S)
    assert match, f"no {category} section"
    return match.group(1)


@pytest.fixture
def entries(hub):
    """Entries in the hub student's record from Wellbeing (in their care) and Counselling."""
    student = hub.student
    return {
        "own_risk": write_entry(student, "risk", hub.wellbeing, hub.practitioner),
        "own_note": write_entry(student, "notes", hub.wellbeing, hub.practitioner),
        "own_private": write_entry(
            student,
            "assessment",
            hub.wellbeing,
            hub.practitioner,
            title="Wellbeing private",
            private=True,
        ),
        "counselling_assessment": write_entry(
            student, "assessment", hub.counselling, hub.counsellor
        ),
        "counselling_private": write_entry(
            student,
            "assessment",
            hub.counselling,
            hub.counsellor,
            title="Counselling private",
            private=True,
        ),
        "counselling_note": write_entry(student, "notes", hub.counselling, hub.counsellor),
        "counselling_risk": write_entry(student, "risk", hub.counselling, hub.counsellor),
    }


def test_practitioner_in_the_students_care_sees_identity_and_own_services_entries(
    hub, client, entries
):
    html = record_page(client, hub.practitioner, hub.student)

    assert "Alexandra StudentNB1000001" in section(html, "identity")
    assert "Wellbeing is involved in the student&#x27;s care." in section(html, "identity")
    assert entries["own_risk"].body in section(html, "risk")
    assert entries["own_note"].body in section(html, "notes")
    assert entries["own_private"].body in section(html, "assessment")


def test_care_relationship_hides_other_services_entries_and_says_why(hub, client, entries):
    html = record_page(client, hub.practitioner, hub.student)

    risk = section(html, "risk")
    assert entries["counselling_risk"].body not in risk
    assert "Risk from other services is not shared with Wellbeing: no consent." in risk
    assert entries["counselling_assessment"].body not in html


def test_refused_sections_show_the_plain_reason_and_no_content(hub, client, entries):
    give_consent(hub, "identity", hub.crisis, student=hub.student)

    html = record_page(client, hub.crisis_practitioner, hub.student)

    assert "Risk is not shared with Crisis Team: no consent." in section(html, "risk")
    assert "Notes stay with the service that wrote them." in section(html, "notes")
    for entry in entries.values():
        assert entry.body not in html
    assert "data-refused" not in section(html, "identity")


def test_academic_sees_why_clinical_sections_are_closed(hub, client, entries):
    html = record_page(client, hub.academic, hub.student)

    assert "Assessment is never shown to academic staff." in section(html, "assessment")
    assert "Adjustments are not shared with History: no consent." in section(html, "adjustments")
    for entry in entries.values():
        assert entry.body not in html


@pytest.fixture
def identifiable(hub):
    student = hub.student
    student.nhs_number = "9434765919"
    student.phone = "07700 900123"
    student.email = "alex.private@example.com"
    student.trusted_contact_name = "Morgan Trusted"
    student.trusted_contact_phone = "07700 900456"
    student.save()
    return student


def test_a_tutor_sees_names_and_student_number_only(hub, client, identifiable):
    html = record_page(client, hub.academic, identifiable)

    identity = section(html, "identity")
    assert identifiable.display_name in identity
    assert identifiable.student_number in identity
    for private in (
        "943 476 5919",
        "9434765919",
        "07700 900123",
        "alex.private@example.com",
        "Morgan Trusted",
        "07700 900456",
        "17 May 2004",
        identifiable.pronouns,
    ):
        assert private not in html, private  # fmt: skip
    assert "data-refused" in section(html, "registration")


def test_a_tutor_with_consent_learns_the_student_is_supported_but_not_by_whom(
    hub, client, identifiable
):
    give_consent(hub, "engagement", hub.history, purpose="academic_support")

    engagement = section(record_page(client, hub.academic, identifiable), "engagement")

    assert "The student is being supported by student support services." in engagement
    for service in (hub.wellbeing, hub.counselling, hub.crisis):
        assert service.name not in engagement


def test_a_tutor_never_learns_which_services_hold_what_they_may_not_see(hub, client, entries):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    write_entry(hub.student, "risk", hub.crisis, hub.crisis_practitioner)

    html = record_page(client, hub.academic, hub.student)

    for service in (hub.wellbeing, hub.counselling, hub.crisis):
        assert service.name not in html, service
    assert "Risk: not shared with you." in section(html, "risk")
    assert "Risk is never shown to academic staff." in section(html, "risk")


def test_a_tutor_through_the_api_gets_no_identifiers(hub, client, identifiable):
    give_consent(hub, "engagement", hub.history, purpose="academic_support")
    client.force_login(hub.academic)

    body = client.get(f"/api/students/{identifiable.uuid}").json()

    assert body["identity"] is None
    assert body["display_name"] == identifiable.display_name
    assert body["engagement"] == {"services": [], "is_supported": True, "consents_shown": "yours"}
    assert "9434765919" not in str(body)


def test_with_consent_another_services_entries_show_but_never_its_private_ones(
    hub, client, entries
):
    give_consent(hub, "assessment", hub.wellbeing)

    assessment = section(record_page(client, hub.practitioner, hub.student), "assessment")

    assert entries["counselling_assessment"].body in assessment
    assert entries["own_private"].body in assessment
    assert entries["counselling_private"].body not in assessment
    assert "Shown because: The student shares assessment with you." in assessment


def test_other_services_notes_never_show_even_with_consent(hub, client, entries):
    give_consent(hub, "notes", hub.wellbeing)
    give_consent(hub, "notes", hub.university)

    notes = section(record_page(client, hub.practitioner, hub.student), "notes")

    assert entries["own_note"].body in notes
    assert entries["counselling_note"].body not in notes


def test_engagement_from_a_relationship_alone_lists_only_my_service(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")

    engagement = section(record_page(client, hub.practitioner, hub.student), "engagement")

    assert "Wellbeing (University of Northbridge)" in engagement
    assert "Crisis Team" not in engagement


def test_engagement_shared_by_consent_lists_every_service_involved(hub, client):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    give_consent(hub, "engagement", hub.wellbeing)

    engagement = section(record_page(client, hub.practitioner, hub.student), "engagement")

    assert "Wellbeing (University of Northbridge)" in engagement
    assert "Crisis Team (Northbridge NHS Trust)" in engagement


def test_student_sees_their_record_but_not_entries_withheld_for_their_safety(hub, client):
    shown = write_entry(hub.student, "risk", hub.counselling, hub.counsellor, private=True)
    withheld = write_entry(
        hub.student, "risk", hub.wellbeing, hub.practitioner, title="Withheld",
        withheld_reason="Would cause serious harm now; review at next session.",
    )  # fmt: skip

    risk = section(record_page(client, hub.student_user, hub.student), "risk")

    assert shown.body in risk
    assert withheld.body not in risk


def test_outsider_gets_404(hub, client):
    client.force_login(hub.outsider)

    response = client.get(reverse("record:student-detail", args=[hub.student.uuid]))

    assert response.status_code == 404


def test_page_reads_are_audited_once_per_category(hub, client):
    from joinedup.audit.models import AuditEvent

    record_page(client, hub.practitioner, hub.student)

    reads = AuditEvent.objects.filter(actor=hub.practitioner, action="record.read")
    # Exactly one per section: identity is decided with the rest, not twice.
    assert sorted(reads.values_list("category", flat=True)) == sorted(CATEGORIES)
    assert set(reads.values_list("allowed", flat=True)) == {True}


def test_partial_engagement_lists_only_consents_to_my_service(hub, client):
    """A service seeing only its own engagement must not learn of other recipients."""
    from joinedup.consent.services import open_care_relationship, record_consent

    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    record_consent(
        actor=hub.practitioner, student=hub.student, category="risk", purpose="direct_care",
        how_given="in_person", recipient_service=hub.talking,
    )  # fmt: skip
    client.force_login(hub.crisis_practitioner)
    html = client.get(f"/students/{hub.student.uuid}/").content.decode()
    assert "Talking Therapies" not in html
    record_consent(
        actor=hub.practitioner, student=hub.student, category="risk", purpose="direct_care",
        how_given="in_person", recipient_service=hub.crisis,
    )  # fmt: skip
    html = client.get(f"/students/{hub.student.uuid}/").content.decode()
    assert "Risk → Crisis Team" in html
    assert "Talking Therapies" not in html
