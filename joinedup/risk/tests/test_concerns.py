"""Concerns from academic staff and students: triage, the thread, what the reporter sees."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from joinedup.consent.models import CareRelationship
from joinedup.consent.tests.factories import give_consent
from joinedup.risk import concerns
from joinedup.risk.models import Concern


def raise_one(hub, reporter=None, **changes):
    values = {
        "reporter": reporter or hub.academic,
        "student": hub.student,
        "observed": "Tearful in the seminar; said they cannot cope.",
        "urgency": "urgent",
        "student_knows": "yes",
        "student_agreed": True,
    } | changes
    return concerns.raise_concern(**values)


def test_a_concern_goes_to_wellbeing_triage_with_a_response_clock(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    from conftest import make_staff

    duty = make_staff("duty@nb.ac.uk", "triage", hub.university, service=hub.wellbeing)
    with django_capture_on_commit_callbacks(execute=True):
        concern, code = raise_one(hub)
    assert (concern.service, code) == (hub.wellbeing, "")
    assert concern.due_at - concern.raised_at == dt.timedelta(hours=4)
    assert mailoutbox[-1].to == [duty.email]
    assert "Tearful" not in mailoutbox[-1].body
    assert hub.student.preferred_name not in mailoutbox[-1].body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"student": None}, "student_number"),
        ({"observed": " "}, "observed"),
        ({"urgency": ""}, "urgency"),
        ({"student_knows": "maybe"}, "student_knows"),
    ],
)
def test_a_bad_concern_says_why_and_saves_nothing(hub, changes, field):
    with pytest.raises(ValidationError) as refused:
        raise_one(hub, **changes)
    assert field in refused.value.message_dict
    assert not Concern.objects.exists()


def test_a_concern_gives_triage_a_care_relationship(hub):
    from conftest import make_student

    other = make_student(hub.university, "NB1000003")
    raise_one(hub, student=other, urgency="routine")
    relationship = CareRelationship.objects.open().get(student=other)
    assert (relationship.service, relationship.reason) == (hub.wellbeing, "concern")


def test_an_unknown_student_number_is_explained(hub):
    with pytest.raises(ValidationError, match="could not find a student with that number"):
        concerns.find_student_for_concern(hub.academic, "XX999")
    assert concerns.find_student_for_concern(hub.academic, "nb1000001") == hub.student


def test_a_student_can_raise_one_anonymously_and_read_replies_with_a_code(hub, client):
    from conftest import make_student
    from joinedup.people.models import User

    friend_user = User.objects.create_user("sam@student.nb.ac.uk", "pw")
    make_student(hub.university, "NB1000002", user=friend_user)
    concern, code = raise_one(hub, reporter=friend_user, anonymous=True)
    assert concern.reporter is None
    assert concern.is_from_student
    assert code
    assert concern.code_digest != code
    concerns.add_message(
        concern=concern,
        text="Have you seen them since?",
        actor=hub.practitioner,
        from_reporter=False,
    )
    html = client.get(reverse("risk:concern-private", args=[code])).content.decode()
    assert "Have you seen them since?" in html
    client.post(reverse("risk:concern-private", args=[code]), {"text": "Yes, this morning."})
    assert concern.messages.filter(from_reporter=True).get().text == "Yes, this morning."
    assert client.get(reverse("risk:concern-private", args=["wrong"])).status_code == 404


def test_the_academic_sees_the_acknowledgement_and_nothing_clinical(hub, client):
    concern, _ = raise_one(hub)
    concerns.acknowledge_concern(actor=hub.practitioner, concern=concern)
    concerns.add_message(
        concern=concern,
        text="Thank you; we are in touch with them.",
        actor=hub.practitioner,
        from_reporter=False,
    )
    concerns.record_concern_outcome(actor=hub.practitioner, concern=concern, outcome="contacted")
    client.force_login(hub.academic)
    html = client.get(reverse("risk:concern-detail", args=[concern.uuid])).content.decode()
    assert "Picked up by Wellbeing on" in html
    assert "Thank you; we are in touch with them." in html
    assert "The service contacted the student" not in html  # the outcome is triage's
    assert "in contact with support" not in html
    give_consent(hub, "engagement", hub.history, purpose="academic_support")
    html = client.get(reverse("risk:concern-detail", args=[concern.uuid])).content.decode()
    assert "The student is in contact with support." in html


def test_only_triage_and_the_reporter_open_a_concern(hub, client):
    concern, _ = raise_one(hub)
    for user, status in [
        (hub.practitioner, 200),
        (hub.academic, 200),
        (hub.crisis_practitioner, 404),
        (hub.outsider, 404),
        (hub.student_user, 404),
    ]:
        client.force_login(user)
        assert client.get(reverse("risk:concern-detail", args=[concern.uuid])).status_code == status


def test_raising_from_the_form_shows_guidance_and_signposts(hub, client):
    client.force_login(hub.academic)
    url = reverse("risk:concern-create")
    form = client.get(url, {"student": hub.student.uuid}).content.decode()
    assert 'value="NB1000001"' in form
    html = client.post(
        url,
        {
            "student_number": "NB1000001",
            "observed": "Missed every class.",
            "urgency": "soon",
            "student_knows": "no",
        },
        follow=True,
    ).content.decode()
    assert "What to do now" in html
    assert "116 123" in html
    assert "Wellbeing" in html
    assert Concern.objects.get().urgency == "soon"


def test_a_malformed_student_in_the_link_leaves_the_form_empty(hub, client):
    client.force_login(hub.academic)
    response = client.get(reverse("risk:concern-create"), {"student": "not-a-uuid"})
    assert response.status_code == 200
    assert 'value="NB1000001"' not in response.content.decode()


def test_the_form_explains_a_missing_student(hub, client):
    client.force_login(hub.academic)
    html = client.post(
        reverse("risk:concern-create"),
        {
            "student_number": "NOPE",
            "observed": "x",
            "urgency": "soon",
            "student_knows": "no",
        },
    ).content.decode()
    assert "could not find a student with that number" in html
    assert not Concern.objects.exists()
