"""Self-referral services: a student and someone not registered refer themselves; triage
confirms (new, or as a registered student) or rejects; the clock and duplicates."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from conftest import make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship, ConsentGrant
from joinedup.consent.policy import decide
from joinedup.people.models import Student
from joinedup.referrals import services as referrals
from joinedup.referrals.models import DirectoryEntry, Referral
from joinedup.referrals.selectors import get_referral_for_user
from joinedup.referrals.selfreferral import services
from joinedup.referrals.selfreferral.services import PendingDetails

BORN = dt.date(2003, 2, 11)


@pytest.fixture
def open_to_self(hub):
    DirectoryEntry.objects.create(
        service=hub.wellbeing, purpose="Support", who_for="Students",
        accepts_referrals_from=["self", "service"], phone="0161 496 0000",
    )  # fmt: skip
    return hub.wellbeing


def details(**fields) -> PendingDetails:
    given = {"legal_given_name": "Morgan", "legal_family_name": "Reyes", "date_of_birth": BORN,
             "email": "morgan@example.net"}  # fmt: skip
    return PendingDetails(**(given | fields))


def unregistered(hub, service, **fields) -> Referral:
    return services.self_refer_unregistered(
        service=service, university=hub.university, details=details(**fields),
        reason="I cannot sleep and I am falling behind.",
    )  # fmt: skip


def test_a_signed_in_student_refers_themselves_from_their_record(hub, open_to_self):
    referral = services.self_refer(
        student=hub.student, service=open_to_self, reason="Exams", email="alex@new.example",
        phone="",
    )  # fmt: skip
    assert (referral.student, referral.source, referral.state) == (hub.student, "self", "sent")
    assert referral.created_by == hub.student_user
    assert referral.from_service is None
    hub.student.refresh_from_db()
    assert hub.student.email == "alex@new.example"
    assert AuditEvent.objects.filter(action="people.student.contact_changed").exists()
    # The relationship a referral opens is what it implies; nothing is shared elsewhere.
    assert (
        CareRelationship.objects.open()
        .filter(student=hub.student, service=open_to_self, reason="referral")
        .exists()
    )
    assert not ConsentGrant.objects.filter(student=hub.student).exists()


def test_a_student_with_a_referral_open_there_is_told_so(hub, open_to_self):
    services.self_refer(student=hub.student, service=open_to_self, reason="x", email="a@b.c",
                        phone="")  # fmt: skip
    with pytest.raises(ValidationError, match="already have a referral"):
        services.self_refer(student=hub.student, service=open_to_self, reason="y",
                            email="a@b.c", phone="")  # fmt: skip


def test_someone_not_registered_gets_a_pending_record_and_a_referral(hub, open_to_self):
    referral = unregistered(hub, open_to_self, student_number=hub.student.student_number)
    student = referral.student
    assert student.is_pending
    assert student.user is None
    assert student.student_number == hub.student.student_number  # claims nothing yet
    assert (referral.source, referral.state, referral.to_service) == ("self", "sent", open_to_self)
    assert referral.created_by.email == services.FORM_ACCOUNT_EMAIL
    assert not referral.created_by.is_active
    assert not referral.created_by.has_usable_password()
    assert CareRelationship.objects.open().filter(student=student, service=open_to_self).exists()


def test_the_clock_starts_when_the_self_referral_is_received(hub, open_to_self):
    received = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    with time_machine.travel(received, tick=False):
        referral = unregistered(hub, open_to_self)
    assert referral.sent_at == received
    view = get_referral_for_user(hub.practitioner, referral.uuid)
    assert view.clock.waited == 3
    confirmed = services.confirm_self_referral(
        actor=hub.practitioner, referral=referral, student_number="NB7000001"
    )
    assert confirmed.sent_at == received


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"email": "", "phone": ""}, "email"),
     ({"date_of_birth": timezone.localdate() + dt.timedelta(days=1)}, "date_of_birth")],
)  # fmt: skip
def test_bad_details_are_refused_and_nothing_is_saved(hub, open_to_self, fields, field):
    with pytest.raises(ValidationError) as error:
        unregistered(hub, open_to_self, **fields)
    assert field in error.value.error_dict
    assert not Student.records.filter(is_pending=True).exists()
    assert not Referral.objects.filter(to_service=open_to_self).exists()


def test_a_service_that_does_not_take_self_referrals_refuses(hub, open_to_self):
    with pytest.raises(ValidationError, match="does not take self-referrals"):
        unregistered(hub, hub.counselling)
    open_to_self.directory_entry.accepts_referrals_from = ["service"]
    open_to_self.directory_entry.save()
    with pytest.raises(ValidationError, match="does not take self-referrals"):
        unregistered(hub, open_to_self)
    assert not Student.records.filter(is_pending=True).exists()


def test_a_pending_record_cannot_be_accepted_before_it_is_confirmed(hub, open_to_self):
    referral = unregistered(hub, open_to_self)
    view = get_referral_for_user(hub.practitioner, referral.uuid)
    assert "accept" not in view.actions
    assert "decline" not in view.actions
    with pytest.raises(ValidationError, match="Confirm who referred themselves"):
        referrals.accept_referral(actor=hub.practitioner, referral=referral, version=2)


def test_triage_confirms_a_new_student_who_then_waits_like_anyone(hub, open_to_self):
    referral = unregistered(hub, open_to_self)
    with pytest.raises(ValidationError, match="student's number"):
        services.confirm_self_referral(actor=hub.practitioner, referral=referral)
    referral = services.confirm_self_referral(
        actor=hub.practitioner, referral=referral, student_number="nb 700 0001"
    )
    student = referral.student
    assert not student.is_pending
    assert student.student_number == "NB7000001"
    view = get_referral_for_user(hub.practitioner, referral.uuid)
    assert "accept" in view.actions
    referrals.accept_referral(actor=hub.practitioner, referral=referral, version=referral.version)
    with pytest.raises(ValidationError, match="already been confirmed"):
        services.confirm_self_referral(actor=hub.practitioner, referral=referral)


def test_a_number_already_registered_cannot_be_confirmed_as_new(hub, open_to_self):
    referral = unregistered(hub, open_to_self, legal_given_name="Other")
    with pytest.raises(ValidationError, match="already has a student with this number"):
        services.confirm_self_referral(
            actor=hub.practitioner, referral=referral, student_number=hub.student.student_number,
            confirmed_different=True,
        )  # fmt: skip
    assert Student.records.get(pk=referral.student_id).is_pending


def test_likely_duplicates_by_number_nhs_number_or_name_and_birth(hub, open_to_self):
    by_name = make_student(hub.university, "NB3000001", legal_given_name="Morgan",
                           legal_family_name="Reyes", date_of_birth=BORN)  # fmt: skip
    hub.student.nhs_number = "9434765919"
    hub.student.save()
    other = make_student(hub.university, "NB3000002", legal_given_name="Morgan",
                         legal_family_name="Reyes", date_of_birth=dt.date(2003, 2, 12))  # fmt: skip
    referral = unregistered(hub, open_to_self, student_number="NB3000002")
    pending = referral.student
    pending.nhs_number = "9434765919"
    pending.save()
    found = services.likely_duplicates(hub.practitioner, pending)
    assert {f.duplicate.key: set(f.matches) for f in found} == {
        by_name.pk: {"name_and_birth"}, hub.student.pk: {"nhs_number"},
        other.pk: {"student_number"},
    }  # fmt: skip
    # Whose: only records the triage may read (Wellbeing works with hub.student).
    assert {f.duplicate.key for f in found if f.student is not None} == {hub.student.pk}
    # A second pending record without a number is no duplicate by number.
    assert services.likely_duplicates(hub.practitioner, unregistered(hub, open_to_self,
        legal_given_name="Sol").student) == []  # fmt: skip


def test_confirm_with_duplicates_needs_a_choice(hub, open_to_self):
    make_student(hub.university, "NB3000001", legal_given_name="Morgan",
                 legal_family_name="Reyes", date_of_birth=BORN)  # fmt: skip
    referral = unregistered(hub, open_to_self)
    with pytest.raises(ValidationError, match="different person"):
        services.confirm_self_referral(
            actor=hub.practitioner, referral=referral, student_number="NB7000009"
        )
    referral = services.confirm_self_referral(
        actor=hub.practitioner, referral=referral, student_number="NB7000009",
        confirmed_different=True,
    )  # fmt: skip
    assert not referral.student.is_pending


def test_confirmed_as_a_registered_student_the_referral_moves_to_their_record(hub, open_to_self):
    existing = make_student(hub.university, "NB3000001", legal_given_name="Morgan",
                            legal_family_name="Reyes", date_of_birth=BORN, email="")  # fmt: skip
    referral = unregistered(hub, open_to_self, phone="07700 900555")
    pending = referral.student
    with pytest.raises(ValidationError, match="no longer a likely match"):
        services.confirm_self_referral(
            actor=hub.practitioner, referral=referral, as_student_key=hub.student.pk
        )
    referral = services.confirm_self_referral(
        actor=hub.practitioner, referral=referral, as_student_key=existing.pk
    )
    assert referral.student == existing
    existing.refresh_from_db()
    assert existing.phone == "07700 900555"
    assert existing.email == "morgan@example.net"
    tombstone = Student.records.get(pk=pending.pk)
    assert tombstone.merged_into == existing
    # The referral's relationship came with it: Wellbeing now reads the student it cares for.
    assert decide(hub.practitioner, existing, "identity").allowed
    assert AuditEvent.objects.filter(
        student=existing, action="people.student.self_referral_confirmed"
    ).exists()


def test_reject_tells_the_person_in_plain_words_without_clinical_detail(
    hub, open_to_self, django_capture_on_commit_callbacks
):
    referral = unregistered(hub, open_to_self)
    with pytest.raises(ValidationError, match="reason for rejecting"):
        services.reject_self_referral(actor=hub.practitioner, referral=referral,
                                      version=referral.version, reason="higher")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.reject_self_referral(
            actor=hub.practitioner, referral=referral, version=referral.version,
            reason="out_of_area", signposted_to="Your GP",
        )  # fmt: skip
    assert (referral.state, referral.decline_reason) == ("declined", "out_of_area")
    assert not CareRelationship.objects.open().filter(student=referral.student).exists()
    [email] = [m for m in mail.outbox if m.to == ["morgan@example.net"]]
    assert "does not cover where you live or study" in email.body
    assert "Your GP" in email.body
    assert "0161 496 0000" in email.body
    assert "sleep" not in email.body  # what they asked for help with stays in the service
    assert not [m for m in mail.outbox if services.FORM_ACCOUNT_EMAIL in m.to]


def test_a_student_is_sent_no_link_to_a_staff_page_when_their_self_referral_is_decided(
    hub, open_to_self, django_capture_on_commit_callbacks
):
    hub.student_user.email = "alex@student.nb.ac.uk"
    hub.student_user.save()
    referral = services.self_refer(
        student=hub.student, service=open_to_self, reason="Exams", email="a@b.example", phone=""
    )
    with django_capture_on_commit_callbacks(execute=True):
        referrals.accept_referral(
            actor=hub.practitioner, referral=referral, version=referral.version
        )
    assert not [m for m in mail.outbox if hub.student_user.email in m.to]
