"""Registering a student who comes to a service: the duplicate warning names only what the
user may read, the registration opens care through a self-referral that ends as referrals
end, and bad input is refused beside its field with nothing saved and nothing typed lost."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from conftest import make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import readable_students
from joinedup.consent.services import open_care_relationship
from joinedup.people.intake import (
    PossibleDuplicatesError,
    StudentDetails,
    register_student,
    registration_places,
)
from joinedup.people.models import Organisation, Role, Student
from joinedup.referrals import services as referrals

REGISTER = reverse("people:student-register")
NHS = "9434765919"
OTHER_NHS = "4857773120"


def details(**fields) -> StudentDetails:
    defaults = {
        "student_number": "NB3000001",
        "legal_given_name": "Joanna",
        "legal_family_name": "Morgan",
        "date_of_birth": dt.date(2004, 3, 14),
        "nhs_number": NHS,
        "preferred_name": "Jo",
        "pronouns": "they/them",
    }
    return StudentDetails(**(defaults | fields))


def form(hub, **fields) -> dict:
    data = {
        "place": f"{hub.wellbeing.pk}:{hub.university.pk}",
        "legal_given_name": "Joanna",
        "legal_family_name": "Morgan",
        "preferred_name": "Jo",
        "pronouns": "they/them",
        "date_of_birth": "14/03/2004",
        "student_number": "nb3000001",
        "nhs_number": "943 476 5919",
        "email": "jo@student.nb.ac.uk",
        "phone": "07700 900123",
        "reason": "Walked in after a panic attack in the library.",
    }
    return data | fields


def register(hub, **fields):
    return register_student(
        actor=hub.practitioner, service=hub.wellbeing, university=hub.university,
        details=details(**fields), reason="Walked in.",
    )  # fmt: skip


# The service ---------------------------------------------------------------------------------


def test_registering_records_a_self_referral_that_opens_care(hub):
    student, referral = register(hub)

    assert student.student_number == "NB3000001"
    assert student.university == hub.university
    assert referral.source == "self"
    assert referral.state == "sent"
    assert referral.to_service == hub.wellbeing
    assert referral.created_by == hub.practitioner
    relationship = CareRelationship.objects.get(student=student)
    assert (relationship.service, relationship.reason) == (hub.wellbeing, "referral")
    assert readable_students(hub.practitioner, "identity").filter(pk=student.pk).exists()
    entry = AuditEvent.objects.get(action="people.student.registered")
    assert entry.student_id == student.pk
    assert entry.actor_service == "Wellbeing"


def test_care_from_a_registration_ends_when_its_referral_does(hub):
    student, referral = register(hub)

    referrals.decline_referral(
        actor=hub.practitioner, referral=referral, version=referral.version,
        reason="not_eligible",
    )  # fmt: skip

    assert not CareRelationship.objects.open().filter(student=student).exists()
    assert (
        not readable_students(hub.practitioner, "identity", bases=("relationship",))
        .filter(pk=student.pk)
        .exists()
    )


def test_a_partner_nhs_service_registers_a_student_of_the_partner_university(hub):
    places = registration_places(hub.crisis_practitioner)
    assert [(p.service, p.universities) for p in places] == [(hub.crisis, (hub.university,))]

    student, _referral = register_student(
        actor=hub.crisis_practitioner, service=hub.crisis, university=hub.university,
        details=details(), reason="Seen in A&E.",
    )  # fmt: skip

    assert student.university == hub.university


def test_no_one_registers_a_student_of_a_university_their_service_does_not_serve(hub):
    assert [p.universities for p in registration_places(hub.outsider)] == [(hub.other_university,)]
    with pytest.raises(PermissionDenied):
        register_student(
            actor=hub.outsider, service=hub.other_wellbeing, university=hub.university,
            details=details(), reason="Walked in.",
        )  # fmt: skip
    for who in ("service_manager", "academic", "org_admin", "researcher"):
        assert registration_places(getattr(hub, who)) == []
    assert not Student.objects.filter(student_number="NB3000001").exists()


def test_a_likely_duplicate_waits_for_the_user_to_say_it_is_a_different_person(hub):
    make_student(hub.other_university, "SG1", legal_given_name="Joanna",
                 legal_family_name="Morgan", date_of_birth=dt.date(2004, 3, 14))  # fmt: skip

    with pytest.raises(PossibleDuplicatesError) as raised:
        register(hub)

    assert [f.duplicate.matches for f in raised.value.found] == [{"name_and_birth"}]
    assert not Student.objects.filter(student_number="NB3000001").exists()
    student, _referral = register_student(
        actor=hub.practitioner, service=hub.wellbeing, university=hub.university,
        details=details(), reason="Walked in.", confirmed_different=True,
    )  # fmt: skip
    assert student.pk


def test_a_student_number_already_used_cannot_be_waved_through(hub):
    with pytest.raises(PossibleDuplicatesError) as raised:
        register_student(
            actor=hub.practitioner, service=hub.wellbeing, university=hub.university,
            details=details(student_number="nb1000001", nhs_number=""), reason="Walked in.",
            confirmed_different=True,
        )  # fmt: skip
    assert raised.value.blocks


def test_the_warning_names_only_a_record_the_user_may_read_whole(hub):
    hub.student.nhs_number = NHS
    hub.student.save()
    hidden = make_student(hub.university, "NB3999999", nhs_number=OTHER_NHS)

    with pytest.raises(PossibleDuplicatesError) as raised:
        register(hub)  # Wellbeing cares for hub.student, not for `hidden`
    assert [f.student for f in raised.value.found] == [hub.student]

    with pytest.raises(PossibleDuplicatesError) as raised:
        register(hub, nhs_number=OTHER_NHS)
    assert [(f.student, f.duplicate.matches) for f in raised.value.found] == [
        (None, {"nhs_number"})
    ]
    assert hidden.pk == raised.value.found[0].duplicate.key  # the page never shows this


# The page ------------------------------------------------------------------------------------


def test_the_register_page_registers_and_opens_the_new_record(hub, client):
    client.force_login(hub.practitioner)
    assert client.get(REGISTER).status_code == 200

    response = client.post(REGISTER, form(hub))

    student = Student.objects.get(student_number="NB3000001")
    assert response.status_code == 302
    assert response["Location"] == reverse("record:student-detail", args=[student.uuid])
    assert (student.nhs_number, student.preferred_name, student.phone) == (
        NHS, "Jo", "07700 900123",
    )  # fmt: skip


def test_the_warning_hides_whose_record_it_is_from_someone_who_may_not_read_it(hub, client):
    make_student(hub.university, "NB3999999", nhs_number=NHS, legal_given_name="Ottoline",
                 legal_family_name="Vandersnoot", date_of_birth=dt.date(1990, 1, 1))  # fmt: skip
    client.force_login(hub.practitioner)

    html = client.post(REGISTER, form(hub)).content.decode()

    assert "A record with this NHS number already exists." in html
    assert "You cannot see whose record this is." in html
    for secret in ("Ottoline", "Vandersnoot", "NB3999999", "1990"):
        assert secret not in html
    assert "This is a different person: register them" in html
    assert 'value="Joanna"' in html
    assert "Walked in after a panic attack" in html
    assert not Student.objects.filter(student_number="NB3000001").exists()
    warned = AuditEvent.objects.get(action="people.student.duplicate_warned")
    assert warned.allowed is False
    assert warned.basis == "none"


def test_the_warning_names_a_record_the_user_may_read_with_a_link(hub, client):
    hub.student.nhs_number = NHS
    hub.student.save()
    client.force_login(hub.practitioner)

    html = client.post(REGISTER, form(hub)).content.decode()

    assert "Alex StudentNB1000001 (NB1000001, University of Northbridge) has" in html
    assert "the same NHS number." in html
    assert reverse("record:student-detail", args=[hub.student.uuid]) in html


def test_saying_it_is_a_different_person_registers_them(hub, client):
    make_student(hub.university, "NB3999999", nhs_number=NHS)
    client.force_login(hub.practitioner)
    warned = client.post(REGISTER, form(hub)).content.decode()
    acknowledgement = warned.split('name="acknowledgement" value="')[1].split('"')[0]

    response = client.post(REGISTER, form(hub, different="yes", acknowledgement=acknowledgement))

    assert response.status_code == 302
    assert Student.objects.filter(student_number="NB3000001").exists()


def test_changing_the_details_after_the_warning_checks_them_again(hub, client):
    make_student(hub.university, "NB3999999", nhs_number=NHS)
    make_student(hub.university, "NB3999998", nhs_number=OTHER_NHS)
    client.force_login(hub.practitioner)
    warned = client.post(REGISTER, form(hub)).content.decode()
    acknowledgement = warned.split('name="acknowledgement" value="')[1].split('"')[0]

    response = client.post(
        REGISTER,
        form(hub, nhs_number=OTHER_NHS, different="yes", acknowledgement=acknowledgement),
    )

    assert response.status_code == 200
    assert "A record with this NHS number already exists." in response.content.decode()
    assert not Student.objects.filter(student_number="NB3000001").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nhs_number", "943 476 5918", "This is not a valid NHS number: its check digit"),
        ("nhs_number", "94347", "An NHS number has 10 digits"),
        ("date_of_birth", "14/03/2099", "The date of birth cannot be in the future."),
        ("date_of_birth", "dob", "Enter the date of birth as a real date, like 14/03/2004."),
        ("date_of_birth", "14/03/04", "Enter the year of birth in full"),
        ("phone", "12345", "Enter a UK phone number"),
        ("email", "jo@", "Enter an email address"),
        ("legal_family_name", "", "Enter the student&#x27;s legal last name."),
        ("reason", "", "Say why the student came to you."),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_typed_is_lost(
    hub, client, field, value, message
):
    client.force_login(hub.practitioner)

    response = client.post(REGISTER, form(hub, **{field: value}))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert 'value="NB3000001"' in html or 'value="nb3000001"' in html
    assert "Walked in after a panic attack" in html or field == "reason"
    assert not Student.objects.filter(student_number="NB3000001").exists()


def test_a_date_of_birth_making_the_student_under_16_is_refused(hub, client):
    client.force_login(hub.practitioner)
    fifteen = timezone.localdate().replace(year=timezone.localdate().year - 15)
    html = client.post(
        REGISTER, form(hub, date_of_birth=fifteen.strftime("%d/%m/%Y"))
    ).content.decode()
    assert 'id="id_date_of_birth_error"' in html
    assert "under 16" in html


def test_a_student_number_used_at_the_university_is_refused_beside_its_field(hub, client):
    hidden = make_student(hub.university, "NB3000001", legal_given_name="Ottoline",
                          nhs_number=OTHER_NHS)  # fmt: skip
    client.force_login(hub.practitioner)

    html = client.post(REGISTER, form(hub, different="yes")).content.decode()

    assert 'id="id_student_number_error"' in html
    assert "This student number is already used at University of Northbridge." in html
    assert "Ottoline" not in html
    assert "This is a different person" not in html
    assert Student.objects.filter(student_number="NB3000001").get() == hidden


def test_a_service_that_does_not_take_self_referrals_says_so(hub, client):
    from joinedup.referrals.models import DirectoryEntry

    DirectoryEntry.objects.create(service=hub.wellbeing, accepts_referrals_from=["service"])
    client.force_login(hub.practitioner)

    html = client.post(REGISTER, form(hub)).content.decode()

    assert "Wellbeing does not take self-referrals." in html
    assert not Student.objects.filter(student_number="NB3000001").exists()
    assert not AuditEvent.objects.filter(action="people.student.registered").exists()


def test_a_member_of_staff_whose_services_cannot_register_is_told_why(hub, client):
    charity = Organisation.objects.create(name="Mind", kind="third_sector")
    service = charity.services.create(name="Mind Talk", kind="third_sector")
    volunteer = make_staff("vic@mind.example", Role.PRACTITIONER, charity, service=service)
    client.force_login(volunteer)
    html = client.get(REGISTER).content.decode()
    assert "None of your services can register students" in html


@pytest.mark.parametrize("who", ["service_manager", "academic", "org_admin", "researcher"])
def test_only_clinical_staff_open_the_register_page(hub, client, who):
    client.force_login(getattr(hub, who))
    assert client.get(REGISTER).status_code == 403
    assert client.post(REGISTER, form(hub)).status_code == 403


def test_the_outsider_cannot_register_a_student_of_our_university(hub, client):
    client.force_login(hub.outsider)
    html = client.post(REGISTER, form(hub)).content.decode()
    assert 'id="id_place_error"' in html
    assert not Student.objects.filter(student_number="NB3000001").exists()


def test_registering_opens_the_record_only_for_the_registering_service(hub):
    student, _referral = register(hub)
    open_care_relationship(student=hub.student, service=hub.counselling, reason="episode")
    assert not readable_students(hub.counsellor, "identity").filter(pk=student.pk).exists()
