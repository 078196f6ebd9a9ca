"""The student's own pages: who they are to us, their consents, who looked, trusted contact."""

import re

import pytest
from django.urls import reverse

from conftest import make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import ConsentGrant
from joinedup.consent.policy import decide
from joinedup.consent.tests.factories import give_consent
from joinedup.people.models import Student, User

HOME = reverse("portal:home")
TRUSTED_CONTACT = reverse("portal:trusted-contact")


def withdraw_url(grant):
    return reverse("portal:grant-withdraw", args=[grant.uuid])


def text(response) -> str:
    """The page's visible text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def student_client(hub, client):
    client.force_login(hub.student_user)
    return client


def test_student_sees_who_they_are_to_us(hub, student_client):
    page = text(student_client.get(HOME))

    assert "Hello, Alex StudentNB1000001" in page
    assert "Legal name Alexandra StudentNB1000001" in page
    assert "Pronouns she/her" in page
    assert "Student number NB1000001" in page
    assert "Date of birth 17 May 2004" in page


def test_student_sees_their_consents_and_their_status(hub, student_client):
    give_consent(hub, "risk", hub.crisis)
    withdrawn = give_consent(hub, "outcomes", hub.counselling)
    student_client.post(withdraw_url(withdrawn))

    page = text(student_client.get(HOME))

    assert "What Risk Direct care With Crisis Team" in page
    assert "in person Status Sharing now Withdraw Risk — Crisis Team" in page
    assert "What Outcomes Direct care With Counselling" in page
    assert "Withdrawn" in page


def test_student_sees_who_accessed_their_record_and_on_what_basis(hub, client):
    client.force_login(hub.practitioner)
    client.get(reverse("record:student-detail", args=[hub.student.uuid]))
    client.force_login(hub.crisis_practitioner)
    client.get(reverse("record:student-detail", args=[hub.student.uuid]))  # refused

    client.force_login(hub.student_user)
    page = text(client.get(HOME))

    # One visit, one row: every part of the record read, and why they could.
    assert page.count("Who Wellbeing, University of Northbridge (practitioner)") == 1
    assert (
        "What Your name, contact details and NHS number Your course, student status and GP "
        "Which services support you, and your appointments"
    ) in page
    assert "Notes about keeping you safe" in page
    assert (
        "Why they could Care relationship (of notes and records, only what their service wrote)"
        in page
    )
    assert "Crisis Team" not in page  # a refusal showed the Crisis Team nothing


def test_students_own_visits_are_not_listed_as_accesses(hub, student_client):
    student_client.get(HOME)

    page = text(student_client.get(HOME))

    assert "Nobody else has looked at your record yet." in page


def test_student_withdraws_a_consent_with_immediate_effect(hub, student_client):
    give_consent(hub, "identity", hub.crisis)
    grant = give_consent(hub, "risk", hub.crisis)
    assert decide(hub.crisis_practitioner, hub.student, "risk").allowed

    response = student_client.post(withdraw_url(grant))

    assert response.status_code == 302
    assert response["Location"] == HOME
    grant.refresh_from_db()
    assert grant.withdrawn_by == hub.student_user
    assert not decide(hub.crisis_practitioner, hub.student, "risk").allowed
    assert (
        "You stopped sharing notes about keeping you safe with Crisis Team (Northbridge NHS "
        "Trust). It applies straight away." in text(student_client.get(HOME))
    )
    event = AuditEvent.objects.get(action="consent.grant.withdrawn")
    assert (event.actor, event.actor_role, event.category) == (hub.student_user, "student", "risk")


def test_withdrawn_consent_hides_risk_from_the_record_page_at_once(hub, client):
    give_consent(hub, "identity", hub.crisis)
    grant = give_consent(hub, "risk", hub.crisis)
    client.force_login(hub.student_user)
    client.post(withdraw_url(grant))

    client.force_login(hub.crisis_practitioner)
    page = text(client.get(reverse("record:student-detail", args=[hub.student.uuid])))

    assert "Risk: not shared with you. Risk is not shared with Crisis Team: no consent." in page


def test_withdrawing_twice_changes_nothing(hub, student_client):
    grant = give_consent(hub, "risk", hub.crisis)
    student_client.post(withdraw_url(grant))
    first = ConsentGrant.objects.get().withdrawn_at

    response = student_client.post(withdraw_url(grant))

    assert response.status_code == 302
    assert ConsentGrant.objects.get().withdrawn_at == first
    assert AuditEvent.objects.filter(action="consent.grant.withdrawn").count() == 1


def test_student_cannot_withdraw_another_students_consent(hub, student_client):
    other_user = User.objects.create_user("sam@student.nb.ac.uk")
    other = make_student(hub.university, "NB1000002", user=other_user)
    grant = give_consent(hub, "risk", hub.crisis, student=other)

    response = student_client.post(withdraw_url(grant))

    assert response.status_code == 404
    grant.refresh_from_db()
    assert grant.withdrawn_at is None


def test_withdrawing_needs_a_post(hub, student_client):
    grant = give_consent(hub, "risk", hub.crisis)

    response = student_client.get(withdraw_url(grant))

    assert response.status_code == 405
    grant.refresh_from_db()
    assert grant.is_active


@pytest.mark.parametrize(
    "role",
    ["practitioner", "academic", "service_manager", "org_admin", "researcher", "outsider"],
)
@pytest.mark.parametrize("page", ["home", "trusted-contact", "withdraw"])
def test_staff_get_403_on_portal_pages(hub, client, role, page):
    grant = give_consent(hub, "risk", hub.crisis)
    client.force_login(getattr(hub, role))

    if page == "withdraw":
        response = client.post(withdraw_url(grant))
    else:
        response = client.get(reverse(f"portal:{page}"))

    assert response.status_code == 403
    grant.refresh_from_db()
    assert grant.is_active


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_trusted_contact_form_saves_and_is_audited(hub, student_client):
    response = student_client.post(
        TRUSTED_CONTACT,
        {
            "trusted_contact_name": "Morgan Reyes",
            "trusted_contact_relationship": "Aunt",
            "trusted_contact_phone": "07700 900123",
            "trusted_contact_permission": "ask_me_first",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == HOME
    student = Student.objects.get(pk=hub.student.pk)
    assert (
        student.trusted_contact_name,
        student.trusted_contact_relationship,
        student.trusted_contact_phone,
        student.trusted_contact_permission,
    ) == ("Morgan Reyes", "Aunt", "07700 900123", "ask_me_first")
    event = AuditEvent.objects.get(action="people.student.trusted_contact_changed")
    assert (event.actor, event.student, event.actor_role) == (
        hub.student_user,
        hub.student,
        "student",
    )
    assert "Your trusted contact is saved." in text(student_client.get(HOME))


def test_trusted_contact_form_rejects_an_unknown_permission(hub, student_client):
    response = student_client.post(
        TRUSTED_CONTACT,
        {"trusted_contact_name": "Morgan", "trusted_contact_permission": "always"},
    )

    assert response.status_code == 200
    assert "Select a valid choice." in text(response)
    assert Student.objects.get(pk=hub.student.pk).trusted_contact_name == ""
    assert not AuditEvent.objects.filter(action="people.student.trusted_contact_changed").exists()


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        (
            {"trusted_contact_phone": "07700 900123"},
            "Enter their name, so that we know who to call.",
        ),
        ({"trusted_contact_name": "Morgan"}, "Enter their phone number, so that we can call them."),
        (
            {"trusted_contact_name": "Morgan", "trusted_contact_phone": "0161 496"},
            "Enter a UK phone number, like 07700 900123, or a number abroad starting with +",
        ),
        (
            {"trusted_contact_name": "Morgan", "trusted_contact_phone": "138 0013 8000"},
            "Enter a UK phone number, like 07700 900123, or a number abroad starting with +",
        ),
        ({"trusted_contact_permission": "serious_concern"}, "Enter their name"),
        (
            {"trusted_contact_permission": "never", "trusted_contact_phone": "07700 900123"},
            "Enter their name, so that we know who to call.",
        ),
    ],
)
def test_a_trusted_contact_needs_a_name_and_a_uk_number(hub, student_client, typed, error):
    response = student_client.post(
        TRUSTED_CONTACT, {"trusted_contact_permission": "ask_me_first"} | typed
    )
    assert response.status_code == 200
    assert error in text(response)
    for field, value in typed.items():  # what was typed is kept, to correct
        if field != "trusted_contact_permission":
            assert f'value="{value}"' in response.content.decode()
    assert Student.objects.get(pk=hub.student.pk).trusted_contact_name == ""


def test_a_trusted_contacts_number_is_kept_as_people_write_it(hub, student_client):
    student_client.post(TRUSTED_CONTACT, {
        "trusted_contact_name": "Morgan", "trusted_contact_phone": "+447700900123",
        "trusted_contact_permission": "serious_concern",
    })  # fmt: skip
    assert Student.objects.get(pk=hub.student.pk).trusted_contact_phone == "07700 900123"


def test_a_trusted_contact_abroad_is_kept_with_their_country_code(hub, student_client):
    student_client.post(TRUSTED_CONTACT, {
        "trusted_contact_name": "Wei", "trusted_contact_phone": "0086 138 0013 8000",
        "trusted_contact_permission": "serious_concern",
    })  # fmt: skip
    assert Student.objects.get(pk=hub.student.pk).trusted_contact_phone == "+86 138 0013 8000"


def test_a_trusted_contact_is_removed_by_emptying_it(hub, student_client):
    hub.student.trusted_contact_name, hub.student.trusted_contact_phone = "Morgan", "07700 900123"
    hub.student.save()
    response = student_client.post(TRUSTED_CONTACT, {"trusted_contact_permission": "never"})
    assert response.status_code == 302
    assert Student.objects.get(pk=hub.student.pk).trusted_contact_name == ""
    assert "You have no trusted contact now." in text(student_client.get(HOME))


def test_someone_never_to_be_contacted_needs_no_number(hub, student_client):
    response = student_client.post(
        TRUSTED_CONTACT, {"trusted_contact_name": "Morgan", "trusted_contact_permission": "never"}
    )
    assert response.status_code == 302
    assert Student.objects.get(pk=hub.student.pk).trusted_contact_name == "Morgan"


def test_portal_asks_for_a_trusted_contact_until_answered(hub, student_client):
    assert "Tell us about a trusted contact" in text(student_client.get(HOME))

    student_client.post(TRUSTED_CONTACT, {"trusted_contact_permission": "never"})

    assert "Tell us about a trusted contact" not in text(student_client.get(HOME))


def test_the_student_sets_the_name_and_pronouns_every_service_sees(hub, client):
    from django.urls import reverse

    from joinedup.audit.models import AuditEvent

    client.force_login(hub.student_user)
    response = client.post(
        reverse("portal:name"), {"preferred_name": "Lex", "pronouns": "they/them"}
    )
    assert response.status_code == 302
    client.force_login(hub.practitioner)
    html = client.get(reverse("record:student-detail", args=[hub.student.uuid])).content.decode()
    assert "Lex" in html
    assert "they/them" in html
    assert AuditEvent.objects.filter(action="people.student.name_changed").exists()
