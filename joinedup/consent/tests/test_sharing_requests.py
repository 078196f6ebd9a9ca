"""A member of staff asks the student to share a withheld category; the student answers."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from joinedup.consent.models import SharingRequest
from joinedup.consent.policy import decide
from joinedup.consent.services import answer_sharing_request, ask_to_share, open_care_relationship
from joinedup.people.models import Notification
from joinedup.record.models import RecordEntry


@pytest.fixture
def crisis_in_care(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    RecordEntry.objects.create(
        student=hub.student, category="risk", service=hub.wellbeing, author=hub.practitioner,
        title="[wellbeing-risk]", body="Planted.",
    )  # fmt: skip


def test_the_record_names_who_holds_what_is_withheld_and_offers_to_ask(hub, client, crisis_in_care):
    client.force_login(hub.crisis_practitioner)

    page = client.get(reverse("record:student-detail", args=[hub.student.uuid])).content.decode()

    assert "Risk: held by Wellbeing — not shared with you." in page
    assert "[wellbeing-risk]" not in page
    assert "Ask the student to share risk" in page


def test_a_yes_shares_it_at_once_and_the_asker_is_told(
    hub, crisis_in_care, django_capture_on_commit_callbacks
):
    assert not decide(hub.crisis_practitioner, hub.student, "risk").whole
    with django_capture_on_commit_callbacks(execute=True):
        asked = ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")
    assert "Crisis Team asks you to share notes about keeping you safe" in (
        Notification.objects.filter(student=hub.student).first().text
    )

    with django_capture_on_commit_callbacks(execute=True):
        answer_sharing_request(actor=hub.student_user, asked=asked, share=True)

    assert decide(hub.crisis_practitioner, hub.student, "risk").whole
    asked.refresh_from_db()
    assert asked.answer == "yes"
    assert asked.grant.recipient_service == hub.crisis
    told = [m for m in mail.outbox if m.to == [hub.crisis_practitioner.email]]
    assert "agreed to share" in told[-1].body
    assert reverse("record:student-detail", args=[hub.student.uuid]) in told[-1].body


def test_a_no_shares_nothing_and_cannot_be_answered_twice(hub, crisis_in_care):
    asked = ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")

    answer_sharing_request(actor=hub.student_user, asked=asked, share=False)

    assert not decide(hub.crisis_practitioner, hub.student, "risk").whole
    with pytest.raises(ValidationError, match="answered this already"):
        answer_sharing_request(actor=hub.student_user, asked=asked, share=True)


@pytest.mark.parametrize(
    ("category", "message"),
    [
        ("notes", "stay with the service that wrote them"),
        ("identity", "can already see identity"),
    ],
)
def test_asking_for_what_consent_cannot_open_is_refused_in_words(
    hub, crisis_in_care, category, message
):
    with pytest.raises(ValidationError, match=message):
        ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category=category)
    assert not SharingRequest.objects.exists()


def test_the_same_question_waits_once(hub, crisis_in_care):
    ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")

    with pytest.raises(ValidationError, match="has not answered yet"):
        ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")


def test_only_the_student_answers(hub, crisis_in_care):
    asked = ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")

    with pytest.raises(ValidationError, match="Only the student"):
        answer_sharing_request(actor=hub.practitioner, asked=asked, share=True)


def test_the_student_answers_from_their_portal_in_one_tap(hub, client, crisis_in_care):
    ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")
    client.force_login(hub.student_user)
    home = client.get(reverse("portal:home")).content.decode()
    assert "Crisis Team asks you to share notes about keeping you safe" in home
    asked = SharingRequest.objects.get()

    response = client.post(reverse("portal:sharing-answer", args=[asked.uuid]), {"answer": "yes"})

    assert response.status_code == 302
    assert decide(hub.crisis_practitioner, hub.student, "risk").whole


def test_once_asked_the_section_says_so_instead_of_asking_again(hub, client, crisis_in_care):
    ask_to_share(actor=hub.crisis_practitioner, student=hub.student, category="risk")
    client.force_login(hub.crisis_practitioner)

    page = client.get(reverse("record:student-detail", args=[hub.student.uuid])).content.decode()

    assert "Your service asked the student to share this on" in page
    assert "Ask the student to share risk" not in page
    client.force_login(hub.student_user)
    preview = client.get(reverse("portal:consent-preview", args=[hub.crisis.uuid]))
    assert "Your service asked" not in preview.content.decode()
