"""Concerns from academic staff and students: triage, the thread, what the reporter sees."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from joinedup.audit.models import AuditEvent
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


def test_the_student_is_found_by_number_at_the_reporters_university_only(hub):
    from conftest import make_student

    make_student(hub.other_university, "SG1000001")
    assert concerns.find_student_for_concern(hub.academic, "nb1000001") == hub.student
    assert concerns.find_student_for_concern(hub.academic, "SG1000001") is None
    assert concerns.find_student_for_concern(hub.academic, "XX999") is None


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


CONCERN = {"observed": "Missed every class.", "urgency": "soon", "student_knows": "no"}


def _page(response) -> str:
    """The page without what changes from one request to the next."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", html)


def _fellow_student(hub):
    from conftest import make_student
    from joinedup.people.models import User

    friend = User.objects.create_user("sam@student.nb.ac.uk", "pw")
    make_student(hub.university, "NB1000002", user=friend)
    return friend


@pytest.mark.parametrize("reporter", ["academic", "fellow student"])
def test_an_unknown_number_reads_exactly_like_a_student_the_reporter_may_not_read(
    hub, client, reporter
):
    from conftest import make_student

    stranger = make_student(hub.university, "NB1000003", legal_family_name="Hidden")
    client.force_login(hub.academic if reporter == "academic" else _fellow_student(hub))
    url = reverse("risk:concern-create")
    answers = [
        client.post(url, {"student_number": number, **CONCERN}, follow=True)
        for number in ("NB1000003", "NB0000000")
    ]
    known, unknown = ((r.status_code, r.redirect_chain, _page(r)) for r in answers)
    assert known == unknown
    assert "Thank you. Your concern has gone to Wellbeing." in known[2]
    assert stranger.display_name not in known[2]
    listed = _page(client.get(reverse("risk:concerns")))
    assert listed.count("not picked up yet") == 2
    assert Concern.objects.count() == 2


def test_a_tutor_is_told_which_of_their_students_the_concern_is_about(hub, client):
    client.force_login(hub.academic)
    html = client.post(
        reverse("risk:concern-create"), {"student_number": "nb1000001", **CONCERN}, follow=True
    ).content.decode()
    assert f"Your concern about {hub.student.display_name} (NB1000001) has gone to" in html


def test_a_concern_about_an_unknown_number_reaches_triage_to_check_with_the_reporter(
    hub, client, mailoutbox, django_capture_on_commit_callbacks
):
    from conftest import make_staff
    from joinedup.referrals.gaps import detect_gaps

    duty = make_staff("duty@nb.ac.uk", "triage", hub.university, service=hub.wellbeing)
    with django_capture_on_commit_callbacks(execute=True):
        concern, _code = raise_one(hub, student=None, student_number=" NB0000000 ")
    assert (concern.student, concern.service, concern.student_number_given) == (
        None,
        hub.wellbeing,
        "NB0000000",
    )
    assert mailoutbox[-1].to == [duty.email]
    assert not CareRelationship.objects.filter(reason="concern").exists()
    assert AuditEvent.objects.filter(action="risk.concern.raised", student=None).exists()

    client.force_login(duty)
    queue = client.get(reverse("risk:concerns")).content.decode()
    assert "No student has the number NB0000000" in queue
    html = client.get(reverse("risk:concern-detail", args=[concern.uuid])).content.decode()
    assert "No student at University of Northbridge has the number NB0000000" in html
    assert "Tearful in the seminar" in html
    # The gap worklist is of students; a number that matched no one names none.
    assert detect_gaps(concern.raised_at + dt.timedelta(days=5), dry_run=True) == []
    concerns.add_message(
        concern=concern, text="Could you check the number?", actor=duty, from_reporter=False
    )
    concerns.record_concern_outcome(actor=duty, concern=concern, outcome="no_action")
    concern.refresh_from_db()
    assert concern.outcome == "no_action"


def test_triage_reads_the_concern_only_while_the_policy_lets_them(hub, client):
    from conftest import make_student

    other = make_student(hub.university, "NB1000003", legal_family_name="Concerned")
    concern, _code = raise_one(hub, student=other)
    url = reverse("risk:concern-detail", args=[concern.uuid])
    client.force_login(hub.practitioner)
    html = client.get(url).content.decode()
    assert f"Concern about {other.display_name}" in html

    response = client.post(
        reverse("risk:concern-action", args=[concern.uuid, "outcome"]), {"outcome": "signposted"}
    )
    assert response.url == reverse("risk:concerns")  # the concern's end ends the access
    assert client.get(url).status_code == 404
    refusal = AuditEvent.objects.filter(
        action="risk.concern.read", student=other, actor=hub.practitioner, allowed=False
    )
    assert refusal.exists()
    client.force_login(hub.academic)
    assert client.get(url).status_code == 200  # the reporter still sees what they raised


def test_triage_sees_the_name_only_when_the_policy_shares_it(hub, client):
    from conftest import make_student

    other = make_student(hub.university, "NB1000003", legal_family_name="Concerned")
    concern, _code = raise_one(hub, student=other)
    concerns.record_concern_outcome(actor=hub.practitioner, concern=concern, outcome="signposted")
    give_consent(hub, "risk", hub.wellbeing, student=other)
    client.force_login(hub.practitioner)
    html = client.get(reverse("risk:concern-detail", args=[concern.uuid])).content.decode()
    assert "Tearful in the seminar" in html
    assert other.display_name not in html
    assert "NB1000003" not in html
    assert "The student's name is not shown: Identity is not shared with Wellbeing" in html


def test_a_closed_concern_takes_no_more_messages_and_says_so(hub, client):
    concern, _code = raise_one(hub)
    concerns.record_concern_outcome(actor=hub.practitioner, concern=concern, outcome="no_action")
    client.force_login(hub.academic)
    url = reverse("risk:concern-detail", args=[concern.uuid])

    page = client.get(url).content.decode()
    response = client.post(
        reverse("risk:concern-action", args=[concern.uuid, "message"]),
        {"text": "Missed the deadline again today."},
        follow=True,
    )

    assert "This concern is closed. If you are worried again, raise a new concern." in page
    assert "Add what you have noticed" not in page
    assert "nobody would read a message here" in response.content.decode()
    assert not concern.messages.exists()


def test_a_tutors_list_of_concerns_names_their_own_students_only(hub, client):
    from conftest import make_student

    elsewhere = make_student(hub.university, "NB7000001")  # no department: not the tutor's
    own, _code = raise_one(hub)
    other, _code = raise_one(hub, student=elsewhere)
    client.force_login(hub.academic)

    html = client.get(reverse("risk:concerns")).content.decode()

    def row(concern):
        start = html.index(f'data-raised="{concern.uuid}"')
        return html[start : html.index("</li>", start)]

    assert hub.student.display_name in row(own)
    assert elsewhere.display_name not in row(other)
    assert elsewhere.legal_family_name not in html
