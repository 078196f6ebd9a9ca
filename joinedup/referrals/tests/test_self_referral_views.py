"""Self-referral pages: the public form (signed in or not), what happens next, and triage's
page for a pending record."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from conftest import SignedInClient, make_student
from joinedup.people.models import Organisation, Student
from joinedup.referrals.models import DirectoryEntry, Referral
from joinedup.referrals.selfreferral import services


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # the rate limit counts by address, and every test client has the same one


@pytest.fixture
def wellbeing(hub):
    DirectoryEntry.objects.create(
        service=hub.wellbeing, purpose="Support", who_for="Students",
        accepts_referrals_from=["self"],
    )  # fmt: skip
    hub.wellbeing.waiting_standard_days = 10
    hub.wellbeing.save()
    return hub.wellbeing


def form_url(service):
    return reverse("referrals:self-referral-create", args=[service.uuid])


def typed(**fields):
    return {
        "legal_given_name": "Morgan", "legal_family_name": "Reyes", "date_of_birth": "11/02/2003",
        "email": "morgan@example.net", "phone": "", "student_number": "",
        "reason": "I cannot sleep.",
    } | fields  # fmt: skip


def signed_in(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def test_someone_not_signed_in_refers_themselves_and_is_told_what_next(client, hub, wellbeing):
    page = client.get(form_url(wellbeing))
    assert page.status_code == 200
    assert "Refer yourself" in page.text
    response = client.post(form_url(wellbeing), typed())
    assert response["Location"] == reverse("referrals:self-referral-sent", args=[wellbeing.uuid])
    referral = Referral.objects.get(to_service=wellbeing)
    assert referral.student.is_pending
    assert referral.student.university == hub.university
    sent = client.get(response["Location"])
    assert "Your request has been sent" in sent.text
    assert "within 10 days" in sent.text


def test_the_gp_practice_given_reaches_triage(client, hub, wellbeing):
    practice = Organisation.objects.create(name="Riverside Surgery", kind="gp_practice")
    client.post(form_url(wellbeing), typed(gp_practice=practice.pk))
    referral = Referral.objects.get(to_service=wellbeing)
    assert referral.student.gp_practice == practice

    page = signed_in(hub.practitioner).get(
        reverse("referrals:self-referral-triage", args=[referral.uuid])
    )

    assert "data-gp>Riverside Surgery<" in page.text


def test_a_practice_and_not_registered_together_are_refused(client, hub, wellbeing):
    practice = Organisation.objects.create(name="Riverside Surgery", kind="gp_practice")
    response = client.post(
        form_url(wellbeing), typed(gp_practice=practice.pk, is_not_gp_registered="on")
    )
    assert response.status_code == 400
    assert "Either choose your GP practice or say you are not registered" in response.text
    assert not Student.records.filter(is_pending=True).exists()


def test_the_answer_is_the_same_whether_or_not_the_details_are_registered(client, hub, wellbeing):
    registered = typed(
        legal_given_name=hub.student.legal_given_name,
        legal_family_name=hub.student.legal_family_name,
        date_of_birth=hub.student.date_of_birth.strftime("%d/%m/%Y"),
        student_number=hub.student.student_number,
        email="someone@example.net",
    )
    first = client.post(form_url(wellbeing), registered)
    second = client.post(form_url(wellbeing), typed())
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Student.records.filter(is_pending=True).count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "", "phone": ""}, "Give an email address or a phone number"),
        ({"date_of_birth": (timezone.localdate() + dt.timedelta(days=2)).strftime("%d/%m/%Y")},
         "The date of birth cannot be in the future."),
        ({"reason": ""}, "This field is required."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message_and_nothing_saved(client, wellbeing, fields, message):
    response = client.post(form_url(wellbeing), typed(**fields))
    assert response.status_code == 400
    assert message in response.text
    assert not Student.records.filter(is_pending=True).exists()


def test_a_service_that_does_not_take_self_referrals_has_no_form(client, hub, wellbeing):
    assert client.get(form_url(hub.counselling)).status_code == 404
    DirectoryEntry.objects.create(service=hub.counselling, purpose="C", who_for="S",
                                  accepts_referrals_from=["service"])  # fmt: skip
    assert client.get(form_url(hub.counselling)).status_code == 404
    assert client.post(form_url(hub.counselling), typed()).status_code == 404


def test_the_form_is_rate_limited_per_email(client, wellbeing):
    for _ in range(3):
        assert client.post(form_url(wellbeing), typed()).status_code == 302
    response = client.post(form_url(wellbeing), typed())
    assert response.status_code == 400
    assert "Too many requests for help" in response.text
    assert Referral.objects.filter(to_service=wellbeing).count() == 3


def test_a_signed_in_student_sees_their_record_and_refers_themselves(hub, wellbeing):
    hub.student.email = "alex@student.nb.ac.uk"
    hub.student.save()
    client = signed_in(hub.student_user)
    page = client.get(form_url(wellbeing))
    assert hub.student.student_number in page.text
    assert 'value="alex@student.nb.ac.uk"' in page.text
    response = client.post(
        form_url(wellbeing), {"email": "alex@student.nb.ac.uk", "phone": "", "reason": "Help"}
    )
    assert response.status_code == 302
    referral = Referral.objects.get(to_service=wellbeing)
    assert referral.student == hub.student
    assert not hub.student.is_pending


def test_staff_are_sent_to_the_students_record_instead(hub, wellbeing):
    response = signed_in(hub.counsellor).get(form_url(wellbeing))
    assert "This form is for students" in response.text
    assert signed_in(hub.counsellor).post(form_url(wellbeing), typed()).status_code == 200
    assert not Referral.objects.filter(to_service=wellbeing).exists()


def test_the_directory_page_offers_refer_yourself_only_where_it_is_taken(hub, wellbeing):
    client = signed_in(hub.student_user)
    page = client.get(reverse("referrals:directory-entry", args=[wellbeing.uuid]))
    assert form_url(wellbeing) in page.text
    DirectoryEntry.objects.create(service=hub.counselling, purpose="C", who_for="S")
    page = client.get(reverse("referrals:directory-entry", args=[hub.counselling.uuid]))
    assert form_url(hub.counselling) not in page.text


@pytest.fixture
def pending(hub, wellbeing):
    return services.self_refer_unregistered(
        service=wellbeing, university=hub.university,
        details=services.PendingDetails("Morgan", "Reyes", dt.date(2003, 2, 11),
                                        email="morgan@example.net"),
        reason="I cannot sleep.",
    )  # fmt: skip


def triage_url(referral, what=""):
    name = f"referrals:self-referral-{what}" if what else "referrals:self-referral-triage"
    return reverse(name, args=[referral.uuid])


def test_triage_sees_the_pending_record_marked_with_its_likely_duplicates(hub, pending):
    make_student(hub.university, "NB3000001", legal_given_name="Morgan",
                 legal_family_name="Reyes", date_of_birth=dt.date(2003, 2, 11))  # fmt: skip
    client = signed_in(hub.practitioner)
    waiting = client.get(reverse("referrals:waiting-list"))
    assert "Not yet confirmed" in waiting.text
    detail = client.get(reverse("referrals:referral-detail", args=[pending.uuid]))
    assert triage_url(pending) in detail.text
    page = client.get(triage_url(pending))
    assert page.status_code == 200
    assert "Not yet confirmed" in page.text
    assert "A record with this legal name and date of birth already exists." in page.text


def test_only_the_receiving_services_clinicians_triage(hub, pending):
    for user in (hub.counsellor, hub.outsider, hub.triage, hub.student_user):
        client = signed_in(user)
        assert client.get(triage_url(pending)).status_code in (403, 404)
        assert client.post(triage_url(pending, "confirm"), {}).status_code in (403, 404)
    assert Student.records.get(pk=pending.student_id).is_pending


def test_triage_confirms_a_new_student_from_the_page(hub, pending):
    client = signed_in(hub.practitioner)
    response = client.post(triage_url(pending, "confirm"), {"student_number": ""})
    assert response.status_code == 400
    assert "Give the student&#x27;s number" in response.text
    response = client.post(triage_url(pending, "confirm"), {"student_number": "NB7000001"})
    assert response["Location"] == reverse("referrals:referral-detail", args=[pending.uuid])
    assert not Student.objects.get(pk=pending.student_id).is_pending
    assert client.get(triage_url(pending)).status_code == 404  # nothing left to confirm


def test_triage_rejects_from_the_page(hub, pending):
    client = signed_in(hub.practitioner)
    response = client.post(triage_url(pending, "reject"), {"version": pending.version})
    assert response.status_code == 400
    response = client.post(
        triage_url(pending, "reject"), {"version": pending.version, "reason": "not_eligible"}
    )
    assert response["Location"] == reverse("referrals:waiting-list")
    assert Referral.objects.get(pk=pending.pk).state == "declined"
