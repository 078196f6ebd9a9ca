"""Reminder rules, without a database: when an appointment is due its reminder, by which
channels, and the exact words of each message."""

import datetime as dt
import re

import pytest

from joinedup.reminders import rules

UTC = dt.UTC
STARTS = dt.datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
DAY = dt.timedelta(hours=24)

# Words that would tell a reader of the student's phone or inbox more than "an appointment".
CLINICAL_WORDS = (
    "mental", "health", "counsel", "therap", "wellbeing", "crisis", "risk", "assessment",
    "treatment", "review", "phq", "gad", "core", "wemwbs", "score", "depress", "anxi",
    "mood", "note", "referr", "nhs", "liaison", "clinic", "psych", "suicid", "harm",
)  # fmt: skip


def due(starts_at=STARTS, now=STARTS - DAY, status="booked", reminded_for=frozenset()):
    return rules.is_due(
        status=status, starts_at=starts_at, now=now, lead=DAY, reminded_for=set(reminded_for)
    )


def test_a_booked_appointment_is_due_from_the_lead_time_until_it_starts():
    assert due(now=STARTS - DAY)
    assert due(now=STARTS - dt.timedelta(minutes=1))


def test_an_appointment_further_off_than_the_lead_time_is_not_due_yet():
    assert not due(now=STARTS - DAY - dt.timedelta(seconds=1))


def test_an_appointment_that_has_started_is_not_reminded():
    assert not due(now=STARTS)
    assert not due(now=STARTS + dt.timedelta(minutes=5))


@pytest.mark.parametrize("status", ["cancelled", "attended", "missed"])
def test_only_a_booked_appointment_is_reminded(status):
    assert not due(status=status)


def test_an_appointment_reminded_at_its_time_is_not_reminded_again():
    assert not due(reminded_for={STARTS})


def test_an_appointment_moved_after_its_reminder_is_due_a_new_one():
    moved_to = STARTS + dt.timedelta(hours=2)
    assert due(starts_at=moved_to, now=STARTS - dt.timedelta(hours=1), reminded_for={STARTS})


# Channels ---------------------------------------------------------------------------------


def channels(choice, email="alex@example.com", phone="07700900123", sms=True):
    return rules.deliveries(choice, email=email, phone=phone, sms_available=sms)


def test_email_goes_to_the_email_address():
    assert channels("email") == [rules.Delivery("email", "alex@example.com")]


def test_sms_goes_to_the_phone_number():
    assert channels("sms") == [rules.Delivery("sms", "07700900123")]


def test_both_sends_email_then_sms():
    assert channels("both") == [
        rules.Delivery("email", "alex@example.com"),
        rules.Delivery("sms", "07700900123"),
    ]


def test_none_records_that_the_student_chose_none():
    assert channels("none") == [rules.Delivery("none", "", rules.CHOSE_NONE)]


def test_an_unknown_choice_is_the_default():
    assert rules.DEFAULT == "email"
    assert channels("pigeon") == channels("email")


def test_a_missing_address_is_no_contact_details():
    assert channels("email", email="  ") == [rules.Delivery("email", "", rules.NO_CONTACT)]
    assert channels("sms", phone="") == [rules.Delivery("sms", "", rules.NO_CONTACT)]
    assert channels("both", email="", phone="") == [
        rules.Delivery("email", "", rules.NO_CONTACT),
        rules.Delivery("sms", "", rules.NO_CONTACT),
    ]
    assert rules.NO_CONTACT == "no contact details"


def test_sms_without_notify_set_up_is_not_sent_and_says_why():
    assert channels("both", sms=False) == [
        rules.Delivery("email", "alex@example.com"),
        rules.Delivery("sms", "", rules.SMS_NOT_SET_UP),
    ]


def test_an_address_is_trimmed():
    assert channels("sms", phone=" 07700900123 ") == [rules.Delivery("sms", "07700900123")]


# Messages ---------------------------------------------------------------------------------

LINK = "https://joinedup.example.ac.uk/me/appointments/"
FORM = "https://joinedup.example.ac.uk/me/questionnaires/abc:def/"


def test_the_appointment_reminder_says_when_and_links_to_the_portal_only():
    text = rules.appointment_text(STARTS, LINK)
    assert text == (
        "You have an appointment on Tue 8 Dec at 14:00. "
        "Details: https://joinedup.example.ac.uk/me/appointments/"
    )


def test_the_questionnaire_message_names_no_questionnaire():
    text = rules.questionnaire_text(STARTS, FORM)
    assert text == (
        "You have been asked to answer a few questions before your next appointment. "
        "The link works once, until Tue 8 Dec at 14:00: "
        "https://joinedup.example.ac.uk/me/questionnaires/abc:def/"
    )


@pytest.mark.parametrize(
    "text",
    [
        rules.appointment_text(STARTS, LINK),
        rules.questionnaire_text(STARTS, FORM),
        rules.APPOINTMENT_SUBJECT,
        rules.QUESTIONNAIRE_SUBJECT,
    ],
)
def test_no_message_carries_a_clinical_word(text):
    words = re.sub(r"https?://\S+", "", text).lower()
    assert not [word for word in CLINICAL_WORDS if word in words]


def test_notify_errors_are_put_in_words():
    assert rules.notify_problem(
        400,
        [
            {
                "error": "BadRequestError",
                "message": "Can't send to this recipient using a team-only API key",
            }
        ],
    ) == ("GOV.UK Notify refused it (400): Can't send to this recipient using a team-only API key")
    assert rules.notify_problem(503, "Request failed") == (
        "GOV.UK Notify refused it (503): Request failed"
    )
    assert rules.notify_problem(400, [{"error": "A"}, "B"]) == (
        "GOV.UK Notify refused it (400): {'error': 'A'}; B"
    )
