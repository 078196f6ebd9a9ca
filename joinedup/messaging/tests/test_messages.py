import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from conftest import SignedInClient
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship, ConsentGrant
from joinedup.consent.services import close_care_relationship, open_care_relationship
from joinedup.messaging.models import Message
from joinedup.messaging.selectors import unread_by_service, unread_by_student
from joinedup.record.models import RecordEntry
from joinedup.referrals.models import FollowUpTask
from joinedup.reminders.models import ReminderPreference

pytestmark = pytest.mark.django_db


def _as(user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(user)
    return client


def _student_writes(hub, body, service=None):
    service = service or hub.wellbeing
    return _as(hub.student_user).post(
        reverse("portal:message-thread", args=[service.uuid]), {"body": body}
    )


def test_a_student_writes_and_the_service_sees_it_unread_until_someone_opens_it(hub):
    response = _student_writes(hub, "Could we move Thursday's session?")
    assert response.status_code == 302
    [message] = Message.objects.all()
    assert (message.service, message.from_student, message.read_at) == (hub.wellbeing, True, None)
    assert unread_by_service(hub.practitioner) == 1
    assert unread_by_service(hub.counsellor) == 0  # another service of the same university
    assert unread_by_service(hub.crisis_practitioner) == 0

    inbox = _as(hub.practitioner).get(reverse("messaging:inbox"))
    assert set(
        AuditEvent.objects.filter(action="messaging.inbox.read").values_list("category", "basis")
    ) == {("identity", "relationship"), ("engagement", "relationship")}
    assert b"Alex" in inbox.content
    assert b"1 unread" in inbox.content
    assert re.search(rb"data-nav-count>1<", inbox.content)

    thread = _as(hub.practitioner).get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert b"Could we move Thursday&#x27;s session?" in thread.content
    message.refresh_from_db()
    assert message.read_by == hub.practitioner
    assert message.read_at is not None
    assert unread_by_service(hub.practitioner) == 0
    assert unread_by_service(hub.service_manager) == 0  # not clinical: no count, no inbox
    assert AuditEvent.objects.filter(action="messaging.message.sent", actor_role="student").exists()
    assert AuditEvent.objects.filter(
        action="messaging.thread.read", actor=hub.practitioner, category="engagement",
        allowed=True, basis="relationship",
    ).exists()  # fmt: skip


def test_the_student_sees_it_was_read(hub):
    _student_writes(hub, "Hello")
    page = _as(hub.student_user).get(reverse("portal:message-thread", args=[hub.wellbeing.uuid]))
    assert b"Not read yet" in page.content
    _as(hub.practitioner).get(reverse("messaging:thread", args=[hub.student.uuid]))
    page = _as(hub.student_user).get(reverse("portal:message-thread", args=[hub.wellbeing.uuid]))
    assert b"Not read yet" not in page.content
    assert b"Read " in page.content


def test_a_service_reply_tells_the_student_there_is_a_message_never_what_it_says(
    hub, django_capture_on_commit_callbacks
):
    hub.student.email = "alex.personal@example.com"
    hub.student.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = _as(hub.practitioner).post(
            reverse("messaging:thread", args=[hub.student.uuid]),
            {"body": "Thursday at 2pm is free. Shall I book it?"},
        )
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.to == ["alex.personal@example.com"]
    assert email.subject == "You have a new message"
    assert "Thursday" not in email.body
    assert "Wellbeing" not in email.body
    link = re.search(r"https?://\S+", email.body).group()
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert f"/{path}" == reverse("portal:message-thread", args=[hub.wellbeing.uuid])

    assert unread_by_student(hub.student) == 1
    home = _as(hub.student_user).get(reverse("portal:messages"))
    assert b"1 new message" in home.content
    page = _as(hub.student_user).get(f"/{path}")
    assert b"Thursday at 2pm is free" in page.content
    assert unread_by_student(hub.student) == 0


def test_a_student_who_chose_text_reminders_gets_a_text_too_without_the_words(
    hub, notify, django_capture_on_commit_callbacks
):
    hub.student.phone = "07700900123"
    hub.student.save()
    ReminderPreference.objects.create(student=hub.student, channel="sms")
    with django_capture_on_commit_callbacks(execute=True):
        _as(hub.practitioner).post(
            reverse("messaging:thread", args=[hub.student.uuid]), {"body": "See you Thursday"}
        )
    [sent] = notify.received
    assert sent["body"]["phone_number"] == "07700900123"
    text = sent["body"]["personalisation"]["message"]
    assert text.startswith("You have a new message in JoinedUp.")
    assert "Thursday" not in text
    assert mail.outbox == []


def test_choosing_no_reminders_still_brings_an_email_of_a_message(
    hub, django_capture_on_commit_callbacks
):
    ReminderPreference.objects.create(student=hub.student, channel="none")
    with django_capture_on_commit_callbacks(execute=True):
        _as(hub.practitioner).post(
            reverse("messaging:thread", args=[hub.student.uuid]), {"body": "Hello"}
        )
    assert [e.to for e in mail.outbox] == [["alex@student.nb.ac.uk"]]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", "Write your message before you send it."),
        ("   \n ", "Write your message before you send it."),
        ("x" * 10_000, "Your message is 10,000 characters long."),
    ],
)
def test_bad_messages_are_refused_in_words_and_what_was_typed_is_kept(hub, body, error):
    response = _student_writes(hub, body)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Message.objects.count() == 0
    if body.strip():
        assert body in response.content.decode()  # nothing lost: it is still in the box
    staff = _as(hub.practitioner).post(
        reverse("messaging:thread", args=[hub.student.uuid]), {"body": body}
    )
    assert staff.status_code == 400
    assert error in staff.content.decode()


def test_an_emoji_only_message_is_sent_and_read_back_whole(hub):
    _student_writes(hub, "👍🏽🙏")
    assert Message.objects.get().body == "👍🏽🙏"
    page = _as(hub.practitioner).get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert "👍🏽🙏" in page.content.decode()


def test_a_student_cannot_write_to_a_service_not_working_with_them(hub):
    assert _student_writes(hub, "Hello", service=hub.crisis).status_code == 404
    assert Message.objects.count() == 0


def test_after_discharge_the_student_reads_the_thread_but_cannot_write(hub):
    _student_writes(hub, "Thank you for everything")
    relationship = CareRelationship.objects.get(student=hub.student, service=hub.wellbeing)
    close_care_relationship(relationship=relationship, because="discharged")
    page = _as(hub.student_user).get(reverse("portal:message-thread", args=[hub.wellbeing.uuid]))
    assert page.status_code == 200
    assert b"Thank you for everything" in page.content
    assert b"no longer working with you" in page.content
    assert b"data-message-form" not in page.content
    response = _student_writes(hub, "One more thing")
    assert response.status_code == 400
    assert Message.objects.count() == 1
    assert b"Your message was not sent" in response.content
    assert b"One more thing" in response.content
    # The service reads what was written while it worked with the student, and writes no more.
    staff = _as(hub.practitioner).get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert b"Thank you for everything" in staff.content
    assert b"data-message-form" not in staff.content
    staff = _as(hub.practitioner).post(
        reverse("messaging:thread", args=[hub.student.uuid]), {"body": "Hello?"}
    )
    assert staff.status_code == 400
    assert Message.objects.count() == 1
    assert b"Your message was not sent" in staff.content
    assert b"Hello?" in staff.content


def test_a_service_not_in_care_sees_no_thread_and_cannot_file_or_write(hub):
    message = Message.objects.create(
        student=hub.student, service=hub.wellbeing, from_student=True,
        author=hub.student_user, body="private words",
    )  # fmt: skip
    outsider = _as(hub.outsider)
    assert outsider.get(reverse("messaging:thread", args=[hub.student.uuid])).status_code == 404
    inbox = outsider.get(reverse("messaging:inbox"))
    assert b"Alex" not in inbox.content
    assert b"private words" not in inbox.content
    assert (
        outsider.post(reverse("messaging:file-into-notes", args=[message.uuid])).status_code == 404
    )
    assert unread_by_service(hub.outsider) == 0
    # A service of the same hub with its own relationship sees only its own thread.
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    page = _as(hub.counsellor).get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert page.status_code == 200
    assert b"private words" not in page.content
    assert (
        _as(hub.student_user)
        .get(reverse("portal:message-thread", args=[hub.crisis.uuid]))
        .status_code
        == 404
    )


def test_consent_to_share_engagement_does_not_let_another_service_into_the_thread(hub):
    Message.objects.create(
        student=hub.student, service=hub.wellbeing, from_student=True,
        author=hub.student_user, body="private words",
    )  # fmt: skip
    ConsentGrant.objects.create(
        student=hub.student, category="engagement", purpose="direct_care",
        recipient_service=hub.crisis, how_given="portal", recorded_by=hub.student_user,
    )  # fmt: skip
    inbox = _as(hub.crisis_practitioner).get(reverse("messaging:inbox"))
    assert b"private words" not in inbox.content
    assert b"data-thread" not in inbox.content


def test_a_message_is_filed_into_the_services_notes_as_a_draft_to_sign(hub):
    _student_writes(hub, "I have been sleeping better this week.")
    message = Message.objects.get()
    client = _as(hub.practitioner)
    response = client.post(reverse("messaging:file-into-notes", args=[message.uuid]))
    note = RecordEntry.with_drafts.get(kind="note")
    assert response.url == reverse("record:note-detail", args=[note.uuid])
    assert (note.category, note.service, note.contact_kind, note.is_draft) == (
        "notes",
        hub.wellbeing,
        "message",
        True,
    )
    assert note.contact_at == message.sent_at
    assert "I have been sleeping better this week." in note.body
    assert "Alex" in note.body
    message.refresh_from_db()
    assert message.filed_note == note
    again = client.post(reverse("messaging:file-into-notes", args=[message.uuid]), follow=True)
    assert b"This message is in your notes already." in again.content
    assert RecordEntry.with_drafts.filter(kind="note").count() == 1
    thread = client.get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert b"Filed into notes" in thread.content


def test_a_message_that_reads_like_a_crisis_brings_help_now_and_a_tag_for_staff(hub):
    response = _student_writes(hub, "I want to die and I can't do this anymore")
    assert response.url.endswith("?help=now")
    page = _as(hub.student_user).get(response.url)
    assert b"data-help-now" in page.content
    assert b'href="tel:999"' in page.content
    calm = _student_writes(hub, "See you Thursday")
    assert not calm.url.endswith("?help=now")
    staff = _as(hub.practitioner).get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert staff.content.count(b"data-crisis-words") == 1


def test_a_student_with_no_service_is_told_how_to_find_one(hub):
    CareRelationship.objects.filter(student=hub.student).update(closed_at="2026-01-01T00:00Z")
    page = _as(hub.student_user).get(reverse("portal:messages"))
    assert b"data-no-conversations" in page.content


def test_a_message_that_may_describe_a_crisis_is_work_due_now_for_the_service(
    hub, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _student_writes(hub, "I've taken a lot of pills")
    task = FollowUpTask.objects.get()
    assert (task.student, task.service, task.is_follow_up) == (hub.student, hub.wellbeing, True)
    assert task.due_at <= timezone.now()
    [email] = mail.outbox
    assert email.to == [hub.practitioner.email]
    assert "pills" not in email.body
    assert "Alex" not in email.body
    with django_capture_on_commit_callbacks(execute=True):
        _student_writes(hub, "See you Thursday")
    assert FollowUpTask.objects.count() == 1


def test_a_service_the_student_was_only_referred_to_takes_messages_once_it_has_written(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    listed = _as(hub.student_user).get(reverse("portal:messages")).content.decode()
    assert "Crisis Team" not in listed
    assert _student_writes(hub, "Hello", service=hub.crisis).status_code == 404
    _as(hub.crisis_practitioner).post(
        reverse("messaging:thread", args=[hub.student.uuid]), {"body": "We will call you at 3pm."}
    )
    listed = _as(hub.student_user).get(reverse("portal:messages")).content.decode()
    assert "Crisis Team" in listed
    assert _student_writes(hub, "Thank you", service=hub.crisis).status_code == 302


def test_new_messages_are_marked_new_once_and_the_record_page_says_so(hub):
    for body in ("First", "Second"):
        _as(hub.practitioner).post(
            reverse("messaging:thread", args=[hub.student.uuid]), {"body": body}
        )
    student = _as(hub.student_user)
    assert b"You have 2 new messages" in student.get(reverse("portal:home")).content
    url = reverse("portal:message-thread", args=[hub.wellbeing.uuid])
    page = student.get(url).content.decode()
    assert page.count("data-new>") == 2
    assert page.count('id="new"') == 1
    assert "Go to the 2 new messages" in page
    again = student.get(url).content.decode()
    assert "data-new>" not in again
    assert b"new message" not in student.get(reverse("portal:home")).content


def test_the_inbox_marks_an_unread_message_that_may_describe_a_crisis_and_staff_can_call(hub):
    hub.student.phone = "07700 900123"
    hub.student.save()
    _student_writes(hub, "I'm not safe tonight")
    inbox = _as(hub.practitioner).get(reverse("messaging:inbox")).content.decode()
    assert inbox.count("data-crisis-words") == 1
    thread = _as(hub.practitioner).get(reverse("messaging:thread", args=[hub.student.uuid]))
    assert b'href="tel:07700900123"' in thread.content
    inbox = _as(hub.practitioner).get(reverse("messaging:inbox")).content.decode()
    assert "data-crisis-words" not in inbox  # read now: the task stands until it is done
    assert FollowUpTask.objects.filter(completed_at=None).count() == 1


def test_a_student_who_never_signed_in_is_not_written_to_and_the_words_are_given_back(hub):
    from conftest import make_student

    walk_in = make_student(hub.university, "NB7000001")
    open_care_relationship(student=walk_in, service=hub.wellbeing, reason="episode")
    url = reverse("messaging:thread", args=[walk_in.uuid])
    page = _as(hub.practitioner).get(url).content.decode()
    assert "has not signed in to JoinedUp" in page
    assert "data-message-form" not in page
    refused = _as(hub.practitioner).post(url, {"body": "Are you free on Friday?"})
    assert refused.status_code == 400
    assert "Are you free on Friday?" in refused.content.decode()
    assert not Message.objects.exists()


def test_a_message_is_filed_once_even_when_asked_twice_at_once(hub):
    from joinedup.messaging.services import file_into_notes

    _student_writes(hub, "Hello")
    first, second = Message.objects.get(), Message.objects.get()  # two pages, both unfiled
    file_into_notes(actor=hub.practitioner, message=first)
    with pytest.raises(ValidationError, match="in your notes already"):
        file_into_notes(actor=hub.practitioner, message=second)
    assert RecordEntry.with_drafts.filter(kind="note").count() == 1
