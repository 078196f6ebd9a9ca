"""Reminder rules: which appointments are due a reminder, by which channels a student is
reminded, and what the messages say.

A message may be read on a lock screen or a shared inbox, so it says only that there is an
appointment (when) or a few questions to answer, with a link to the student's own portal:
never the service, the clinician, the kind of appointment, the questionnaire or a score.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from joinedup.lib.dates import day_and_time

EMAIL, SMS, BOTH, NONE = "email", "sms", "both", "none"
CHOICES = (EMAIL, SMS, BOTH, NONE)
# Reminders are on unless the student opts out; email needs nothing more to be set up.
DEFAULT = EMAIL

NO_CONTACT = "no contact details"
SMS_NOT_SET_UP = "text messages are not set up"
CHOSE_NONE = "the student chose no reminders"


def is_due(
    *, status: str, starts_at: datetime, now: datetime, lead: timedelta, reminded_for: set[datetime]
) -> bool:
    """A booked appointment still to come is due its reminder from `lead` before it starts,
    once for each time it is booked at: moved after its reminder, it gets a new one."""
    return (
        status == "booked" and starts_at - lead <= now < starts_at and starts_at not in reminded_for
    )


@dataclass(frozen=True)
class Delivery:
    """One channel to remind by: the address to use, or why it cannot be used."""

    channel: str
    address: str
    problem: str = ""


def deliveries(choice: str, *, email: str, phone: str, sms_available: bool) -> list[Delivery]:
    """The channels of the student's choice (the default if unknown), each with its address
    or the reason it cannot be sent; a student who chose none gets one record saying so."""
    if choice not in CHOICES:
        choice = DEFAULT
    if choice == NONE:
        return [Delivery(NONE, "", CHOSE_NONE)]
    channels = [EMAIL, SMS] if choice == BOTH else [choice]
    found = []
    for channel in channels:
        address = (email if channel == EMAIL else phone).strip()
        if not address:
            problem = NO_CONTACT
        elif channel == SMS and not sms_available:
            problem = SMS_NOT_SET_UP
        else:
            problem = ""
        found.append(Delivery(channel, address if not problem else "", problem))
    return found


APPOINTMENT_SUBJECT = gettext_noop("Appointment reminder")
QUESTIONNAIRE_SUBJECT = gettext_noop("A few questions before your next appointment")


def appointment_text(starts_at: datetime, link: str) -> str:
    """The reminder of an appointment, `starts_at` in the student's local time."""
    return _("You have an appointment on %(when)s. Details: %(link)s") % {
        "when": day_and_time(starts_at, short=True),
        "link": link,
    }


def questionnaire_text(expires_at: datetime, link: str) -> str:
    """The message carrying a questionnaire link, `expires_at` in local time."""
    return _(
        "You have been asked to answer a few questions before your next appointment. "
        "The link works once, until %(when)s: %(link)s"
    ) % {"when": day_and_time(expires_at, short=True), "link": link}


def notify_problem(status_code: int, message: object) -> str:
    """GOV.UK Notify's refusal in words: its status and each error message it gave."""
    if isinstance(message, list):
        words = "; ".join(
            str(error.get("message", error)) if isinstance(error, dict) else str(error)
            for error in message
        )
    else:
        words = str(message)
    return f"GOV.UK Notify refused it ({status_code}): {words}"
