"""Staff record a consent given in person, and open emergency (break-glass) access."""

import re
from html import unescape as html_unescape

import pytest
from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import BreakGlass, ConsentGrant
from joinedup.consent.policy import decide
from joinedup.consent.tests.factories import give_consent
from joinedup.record.tests.factories import write_entry

BREAK_GLASS = reverse("consent:break-glass-open")
REASON = "Risk to life: the student told the GP they have a plan and cannot be reached."


def grant_url(student):
    return reverse("consent:grant-create", args=[student.uuid])


def record_url(student):
    return reverse("record:student-detail", args=[student.uuid])


def consent_form(to, category="risk", **fields):
    return {
        "category": category,
        "recipient": f"{to._meta.model_name}:{to.pk}",
        "purpose": "direct_care",
        "how_given": "in_person",
        "valid_from": "",
        "valid_until": "",
        **fields,
    }


def field_error(html: str, field: str) -> str:
    """The error message shown next to a form field ("" if none)."""
    # The message sits in the field's group, between its label and its widget.
    match = re.search(
        rf'id="id_{field}_error">(.*?)</span>\s*<(?:select|input|textarea)', html, re.S
    )
    if not match:
        return ""
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).replace("Error:", "").split())


def section(html: str, category: str) -> str:
    match = re.search(rf'<section [^>]*data-category="{category}">(.*?)</section>', html, re.S)
    return match.group(1)


def test_recorded_consent_shows_the_hidden_section_on_the_record_page(hub, client):
    risk = write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner)
    give_consent(hub, "identity", hub.crisis)
    client.force_login(hub.crisis_practitioner)
    before = client.get(record_url(hub.student)).content.decode()
    client.force_login(hub.practitioner)

    response = client.post(grant_url(hub.student), consent_form(hub.crisis, "risk"))

    assert response.status_code == 302
    assert response["Location"] == record_url(hub.student)
    client.force_login(hub.crisis_practitioner)
    after = client.get(record_url(hub.student)).content.decode()
    assert "Risk is not shared with Crisis Team: no consent." in section(before, "risk")
    assert risk.body not in before
    assert risk.body in section(after, "risk")
    assert "The student shares risk with you." in section(after, "risk")


def test_recorded_consent_says_how_and_by_whom_and_is_audited(hub, client):
    client.force_login(hub.practitioner)

    client.post(
        grant_url(hub.student),
        consent_form(hub.counselling, "assessment", how_given="paper_form"),
    )

    grant = ConsentGrant.objects.get()
    assert (grant.student, grant.category, grant.recipient) == (
        hub.student,
        "assessment",
        hub.counselling,
    )
    assert (grant.how_given, grant.recorded_by, grant.is_active) == (
        "paper_form",
        hub.practitioner,
        True,
    )
    event = AuditEvent.objects.get(action="consent.grant.recorded")
    assert (event.actor, event.student, event.category) == (
        hub.practitioner,
        hub.student,
        "assessment",
    )


def test_consent_to_a_department_lets_the_tutor_see_adjustments(hub, client):
    client.force_login(hub.practitioner)

    client.post(
        grant_url(hub.student),
        consent_form(hub.history, "adjustments", purpose="academic_support"),
    )

    assert decide(hub.academic, hub.student, "adjustments", "academic_support").allowed


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param(
            {"valid_from": "2030-05-01T10:00", "valid_until": "2030-04-01T10:00"},
            "valid_until",
            "The end must be after the start.",
            id="end-before-start",
        ),
        pytest.param(
            {"valid_from": "2030-05-01T10:00", "valid_until": "2030-05-01T10:00"},
            "valid_until",
            "The end must be after the start.",
            id="end-at-start",
        ),
        pytest.param(
            {"recipient": ""},
            "recipient",
            "Choose who the student agrees to share with.",
            id="no-recipient",
        ),
        pytest.param(
            {"recipient": "service:999999"},
            "recipient",
            "Select a valid choice. service:999999 is not one of the available choices.",
            id="unknown-recipient",
        ),
        pytest.param(
            {"recipient": "student:1"},
            "recipient",
            "Select a valid choice. student:1 is not one of the available choices.",
            id="not-a-recipient",
        ),
        pytest.param(
            {"category": "diary"},
            "category",
            "Select a valid choice. diary is not one of the available choices.",
            id="unknown-category",
        ),
        pytest.param(
            {"how_given": "portal"},
            "how_given",
            "Select a valid choice. portal is not one of the available choices.",
            id="staff-cannot-record-portal-consent",
        ),
    ],
)
def test_bad_consent_shows_the_message_next_to_the_field_and_saves_nothing(
    hub, client, fields, field, message
):
    client.force_login(hub.practitioner)

    response = client.post(grant_url(hub.student), consent_form(hub.crisis, **fields))

    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, field) == message
    assert "There is a problem" in html
    assert not ConsentGrant.objects.exists()
    assert not AuditEvent.objects.filter(action="consent.grant.recorded").exists()


def test_consent_form_offers_every_recipient(hub, client):
    client.force_login(hub.practitioner)

    html = client.get(grant_url(hub.student)).content.decode()

    assert f'value="service:{hub.crisis.pk}"' in html
    assert f'value="department:{hub.history.pk}"' in html
    assert f'value="organisation:{hub.trust.pk}"' in html


@pytest.mark.parametrize("role", ["academic", "service_manager", "org_admin", "researcher"])
def test_only_clinical_staff_record_consent(hub, client, role):
    client.force_login(getattr(hub, role))

    response = client.post(grant_url(hub.student), consent_form(hub.crisis))

    assert response.status_code == 403
    assert not ConsentGrant.objects.exists()


def test_staff_who_cannot_see_the_student_cannot_record_consent_for_them(hub, client):
    client.force_login(hub.crisis_practitioner)

    response = client.post(grant_url(hub.student), consent_form(hub.crisis))

    assert response.status_code == 404
    assert not ConsentGrant.objects.exists()


def break_glass_form(hub, reason=REASON, student_number="NB1000001", date_of_birth="2004-05-17"):
    return {
        "university": hub.university.pk,
        "student_number": student_number,
        "date_of_birth": date_of_birth,
        "reason": reason,
    }


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        pytest.param(
            "", "Write the reason: what risk to life makes this access necessary.", id="blank"
        ),
        pytest.param(
            "   \n ",
            "Write the reason: what risk to life makes this access necessary.",
            id="only-spaces",
        ),
        pytest.param(
            "urgent",
            "Write the reason: what risk to life makes this access necessary, in a sentence "
            "the data protection officer and the student can read.",
            id="too-short",
        ),
    ],
)
def test_break_glass_without_a_reason_is_refused_and_saves_nothing(
    hub, client, mailoutbox, reason, message
):
    client.force_login(hub.crisis_practitioner)

    response = client.post(BREAK_GLASS, break_glass_form(hub, reason))

    assert response.status_code == 200
    assert field_error(response.content.decode(), "reason") == message
    assert not BreakGlass.objects.exists()
    assert not AuditEvent.objects.filter(action="consent.break_glass.opened").exists()
    assert mailoutbox == []
    assert not decide(hub.crisis_practitioner, hub.student, "risk").allowed


@pytest.mark.parametrize(
    "details",
    [
        pytest.param({"student_number": "NB0000000"}, id="unknown-number"),
        pytest.param({"date_of_birth": "2004-05-18"}, id="real-number-wrong-birth-date"),
    ],
)
def test_break_glass_for_unmatched_details_reads_the_same_whether_or_not_the_number_exists(
    hub, client, details
):
    client.force_login(hub.crisis_practitioner)

    response = client.post(BREAK_GLASS, break_glass_form(hub, **details))

    html = response.content.decode()
    assert response.status_code == 200
    assert "No student at that university matches those details." in html
    assert hub.student.display_name not in html
    assert not BreakGlass.objects.exists()
    attempt = AuditEvent.objects.get(action="consent.break_glass.refused")
    assert (attempt.actor, attempt.student) == (hub.crisis_practitioner, None)


@pytest.mark.parametrize(
    "reason",
    [
        "aaaaaaaaaa",
        "urgent urgent urgent urgent",
        "a a a a a a a a a a a a",
        "x" * 40,
        "1234567890 1234",
    ],
)
def test_break_glass_reason_without_substance_is_refused(hub, client, reason):
    client.force_login(hub.crisis_practitioner)

    response = client.post(BREAK_GLASS, break_glass_form(hub, reason))

    assert "in a sentence the data protection officer" in field_error(
        response.content.decode(), "reason"
    )
    assert not BreakGlass.objects.exists()


def test_a_cross_university_override_is_reported_to_both_data_protection_officers(
    hub, client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(hub.crisis_practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(BREAK_GLASS, break_glass_form(hub))

    assert BreakGlass.objects.get().reported_to == "dpo@nb.ac.uk, dpo@nhs.example"
    assert [sorted(m.to) for m in mailoutbox] == [["dpo@nb.ac.uk", "dpo@nhs.example"]]


def test_break_glass_with_a_reason_opens_access_and_tells_the_data_protection_contact(
    hub, client, mailoutbox, django_capture_on_commit_callbacks
):
    write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner, body="Safety plan agreed.")
    client.force_login(hub.crisis_practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(BREAK_GLASS, break_glass_form(hub))

    assert response.status_code == 302
    assert response["Location"] == record_url(hub.student)
    access = BreakGlass.objects.get()
    assert (access.user, access.student, access.reason) == (
        hub.crisis_practitioner,
        hub.student,
        REASON,
    )
    assert [m.to for m in mailoutbox] == [["dpo@nb.ac.uk", "dpo@nhs.example"]]
    assert hub.crisis_practitioner.email in mailoutbox[0].body
    assert "Safety plan" not in mailoutbox[0].body  # no clinical content in the email
    page = client.get(record_url(hub.student)).content.decode()
    assert "Safety plan agreed." in section(page, "risk")
    assert "Emergency override in force." in section(page, "risk")
    assert "Notes stay with the service that wrote them." in section(page, "notes")


def test_student_sees_the_break_glass_in_their_portal(hub, client):
    client.force_login(hub.crisis_practitioner)
    client.post(BREAK_GLASS, break_glass_form(hub))
    client.get(record_url(hub.student))

    client.force_login(hub.student_user)
    html = client.get(reverse("portal:home")).content.decode()

    assert f"Emergency override: {REASON}" in html
    assert "Crisis Team, Northbridge NHS Trust (practitioner)" in html


@pytest.mark.parametrize("role", ["academic", "service_manager", "org_admin", "researcher"])
def test_only_clinical_staff_may_break_glass(hub, client, role):
    client.force_login(getattr(hub, role))

    response = client.post(BREAK_GLASS, break_glass_form(hub))

    assert response.status_code == 403
    assert not BreakGlass.objects.exists()


def test_break_glass_form_says_what_each_missing_detail_is(hub, client):
    client.force_login(hub.crisis_practitioner)

    html = html_unescape(client.post(BREAK_GLASS, {"reason": REASON}).content.decode())

    assert field_error(html, "university") == "Choose the student's university."
    assert field_error(html, "student_number") == "Enter the student number."
    assert field_error(html, "date_of_birth") == "Enter the student's date of birth."
