"""Sending reminders: once per appointment time, by the channels the student chose, through
Django's email and GOV.UK Notify's client (against a local server that answers as Notify
does); whatever cannot be sent is recorded with why, and the batch goes on."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.measures.services import send_completion_link
from joinedup.referrals import appointments
from joinedup.referrals.tests.factories import book, walk_in_student, walked_in
from joinedup.reminders import services, tasks
from joinedup.reminders.models import Reminder, ReminderPreference
from joinedup.reminders.tests.conftest import (
    BROKEN,
    FORBIDDEN,
    SERVICE_ID,
    TEAM_ONLY,
    TEMPLATE_ID,
)

PHONE = "07700900123"


@pytest.fixture
def episode(hub):
    return walked_in(hub, student=hub.student, practitioner=hub.practitioner)


def soon(hours=30) -> dt.datetime:
    """A whole minute `hours` from now."""
    return (timezone.now() + dt.timedelta(hours=hours)).replace(second=0, microsecond=0)


def when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def appointment_text(moment) -> str:
    return (
        f"You have an appointment on {when(moment)}. Details: {settings.SITE_URL}/me/appointments/"
    )


def choose(student, channel, phone=PHONE):
    student.phone = phone
    student.save(update_fields=["phone"])
    ReminderPreference.objects.update_or_create(student=student, defaults={"channel": channel})


def day_before(appointment):
    """A moment inside the appointment's reminder window."""
    return appointment.starts_at - dt.timedelta(hours=23)


def test_an_appointment_is_emailed_once_the_day_before(hub, episode, mailoutbox):
    appointment = book(hub, episode, soon())
    mailoutbox.clear()
    assert services.send_due_reminders(now=appointment.starts_at - dt.timedelta(hours=25)) == []
    sent = services.send_due_reminders(now=day_before(appointment))
    assert [(r.channel, r.status, r.for_starts_at) for r in sent] == [
        ("email", "sent", appointment.starts_at)
    ]
    [email] = mailoutbox
    assert email.to == ["alex@student.nb.ac.uk"]
    assert email.subject == "Appointment reminder"
    assert email.body == appointment_text(appointment.starts_at)
    assert services.send_due_reminders(now=day_before(appointment)) == []
    assert len(mailoutbox) == 1
    assert Reminder.objects.count() == 1


def test_a_text_message_goes_through_notify_with_the_template_and_a_signed_token(
    hub, episode, notify, mailoutbox
):
    choose(hub.student, "sms")
    appointment = book(hub, episode, soon())
    mailoutbox.clear()
    [reminder] = services.send_due_reminders(now=day_before(appointment))
    [request] = notify.received
    assert request["path"] == "/v2/notifications/sms"
    assert request["claims"]["iss"] == SERVICE_ID  # the JWT verified with the key's secret
    assert request["body"] == {
        "phone_number": PHONE,
        "template_id": TEMPLATE_ID,
        "personalisation": {"message": appointment_text(appointment.starts_at)},
        "reference": str(reminder.uuid),
    }
    reminder.refresh_from_db()
    assert (reminder.channel, reminder.status, reminder.detail) == ("sms", "sent", "")
    assert reminder.notify_id
    assert reminder.sent_at
    assert mailoutbox == []


def test_both_sends_an_email_and_a_text(hub, episode, notify, mailoutbox):
    choose(hub.student, "both")
    appointment = book(hub, episode, soon())
    mailoutbox.clear()
    sent = services.send_due_reminders(now=day_before(appointment))
    assert sorted((r.channel, r.status) for r in sent) == [("email", "sent"), ("sms", "sent")]
    assert len(mailoutbox) == 1
    assert len(notify.received) == 1


def test_a_student_who_chose_none_gets_nothing_and_the_service_sees_why(
    hub, episode, notify, mailoutbox
):
    choose(hub.student, "none")
    appointment = book(hub, episode, soon())
    mailoutbox.clear()
    [reminder] = services.send_due_reminders(now=day_before(appointment))
    assert (reminder.channel, reminder.status, reminder.detail) == (
        "none",
        "not_sent",
        "the student chose no reminders",
    )
    assert mailoutbox == []
    assert notify.received == []
    assert services.send_due_reminders(now=day_before(appointment)) == []


def test_a_cancelled_appointment_is_not_reminded(hub, episode, mailoutbox):
    appointment = book(hub, episode, soon())
    appointments.cancel_appointment(
        actor=hub.practitioner, appointment=appointment, by="service", reason="Clinician ill."
    )
    mailoutbox.clear()
    assert services.send_due_reminders(now=day_before(appointment)) == []
    assert mailoutbox == []


def test_an_appointment_moved_after_its_reminder_gets_a_new_one(hub, episode, mailoutbox):
    appointment = book(hub, episode, soon())
    first = day_before(appointment)
    services.send_due_reminders(now=first)
    appointments.reschedule_appointment(
        actor=hub.practitioner, appointment=appointment, starts_at=soon(32), reason="Room."
    )
    mailoutbox.clear()
    sent = services.send_due_reminders(now=first + dt.timedelta(hours=2))
    assert [r.for_starts_at for r in sent] == [soon(32)]
    assert mailoutbox[0].body == appointment_text(soon(32))
    assert Reminder.objects.filter(appointment=appointment).count() == 2


def test_no_contact_details_is_recorded_and_the_rest_of_the_batch_is_sent(hub, episode, mailoutbox):
    unknown = walked_in(hub, student=walk_in_student(hub), practitioner=None)
    early = book(hub, unknown, soon(29), clinician=hub.practitioner)
    later = book(hub, episode, soon(30))
    mailoutbox.clear()
    sent = services.send_due_reminders(now=day_before(early))
    assert [(r.appointment, r.status, r.detail) for r in sent] == [
        (early, "not_sent", "no contact details"),
        (later, "sent", ""),
    ]
    assert [m.to for m in mailoutbox] == [["alex@student.nb.ac.uk"]]


@pytest.mark.parametrize(
    ("refusal", "detail"),
    [
        (
            TEAM_ONLY,
            "GOV.UK Notify refused it (400): Can't send to this recipient using a team-only "
            "API key",
        ),
        (FORBIDDEN, "GOV.UK Notify refused it (403): Invalid token: signature"),
        (BROKEN, "GOV.UK Notify refused it (500): Internal server error"),
    ],
)
def test_a_notify_error_is_recorded_with_its_message_and_the_batch_goes_on(
    hub, episode, notify, refusal, detail
):
    other = walk_in_student(hub)
    choose(other, "sms", phone="07700900999")
    notify.refuse["07700900999"] = refusal
    refused = book(hub, walked_in(hub, student=other), soon(29), clinician=hub.practitioner)
    choose(hub.student, "sms")
    book(hub, episode, soon(30))
    sent = services.send_due_reminders(now=day_before(refused))
    assert [(r.status, r.detail) for r in sent] == [("not_sent", detail), ("sent", "")]
    assert [r["body"]["phone_number"] for r in notify.received] == ["07700900999", PHONE]


def test_notify_out_of_reach_is_recorded_as_not_sent(hub, episode, settings):
    settings.NOTIFY_API_KEY = f"joinedup_test-{SERVICE_ID}-3d844edf-8d35-48ac-975b-e847b4f122b0"
    settings.NOTIFY_SMS_TEMPLATE_ID = TEMPLATE_ID
    settings.NOTIFY_BASE_URL = "http://127.0.0.1:9"  # nothing listens on discard
    choose(hub.student, "sms")
    appointment = book(hub, episode, soon())
    [reminder] = services.send_due_reminders(now=day_before(appointment))
    assert (reminder.status, reminder.detail) == (
        "not_sent",
        "GOV.UK Notify refused it (503): Request failed",
    )


def test_text_messages_not_set_up_are_recorded_as_not_sent(hub, episode, mailoutbox):
    choose(hub.student, "both")
    appointment = book(hub, episode, soon())
    mailoutbox.clear()
    sent = services.send_due_reminders(now=day_before(appointment))
    assert [(r.channel, r.status, r.detail) for r in sent] == [
        ("email", "sent", ""),
        ("sms", "not_sent", "text messages are not set up"),
    ]


# Questionnaire links ----------------------------------------------------------------------


def test_a_questionnaire_link_goes_by_the_reminder_channels_naming_no_questionnaire(
    hub, episode, notify, mailoutbox, django_capture_on_commit_callbacks
):
    choose(hub.student, "both")
    with django_capture_on_commit_callbacks(execute=True):
        send_completion_link(
            actor=hub.practitioner, episode=episode, session_number=1, codes=["PHQ-9"]
        )
    [email] = mailoutbox
    [request] = notify.received
    text = request["body"]["personalisation"]["message"]
    assert email.subject == "A few questions before your next appointment"
    assert email.body == text
    link = episode.completion_links.get()
    prefix = (
        "You have been asked to answer a few questions before your next appointment. "
        f"The link works once, until {when(link.expires_at)}: {settings.SITE_URL}"
        "/me/questionnaires/"
    )
    assert text.startswith(prefix)
    assert "PHQ" not in text
    assert sorted(link.reminders.values_list("channel", "status")) == [
        ("email", "sent"),
        ("sms", "sent"),
    ]


def test_a_questionnaire_link_is_sent_once(
    hub, episode, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        token = send_completion_link(
            actor=hub.practitioner, episode=episode, session_number=1, codes=["GAD-7"]
        )
    assert len(mailoutbox) == 1
    assert services.send_questionnaire_link(episode.completion_links.get(), token) == []
    assert len(mailoutbox) == 1


# The student's choice ---------------------------------------------------------------------


def test_the_student_sets_their_choice_and_it_is_audited(hub):
    assert services.preference_of(hub.student) == "email"
    services.set_reminder_preference(actor=hub.student_user, student=hub.student, channel="sms")
    assert services.preference_of(hub.student) == "sms"
    assert AuditEvent.objects.filter(
        action="reminders.preference.changed", student=hub.student
    ).exists()


def test_an_unknown_choice_is_refused_and_nothing_is_saved(hub):
    with pytest.raises(ValidationError, match="Choose how you would like to be reminded"):
        services.set_reminder_preference(
            actor=hub.student_user, student=hub.student, channel="pigeon"
        )
    assert not ReminderPreference.objects.exists()
    assert not AuditEvent.objects.filter(action="reminders.preference.changed").exists()


# The periodic run -------------------------------------------------------------------------


def test_the_command_sends_what_is_due_and_a_dry_run_sends_nothing(hub, episode, mailoutbox):
    book(hub, episode, soon(3))
    mailoutbox.clear()
    call_command("send_reminders", "--dry-run")
    assert mailoutbox == []
    assert not Reminder.objects.exists()
    call_command("send_reminders")
    call_command("send_reminders")
    assert len(mailoutbox) == 1


def test_the_task_sends_what_is_due(hub, episode, mailoutbox):
    book(hub, episode, soon(3))
    mailoutbox.clear()
    assert tasks.send_reminders.enqueue().return_value == 1
    assert len(mailoutbox) == 1
