"""Sending reminders, and the student's choice of how to be reminded.

Each reminder is claimed by writing its rows first (one per channel, unique per appointment
time or link), then sent: a second run, or two at once, sends nothing twice. A reminder
that cannot go (no address, text messages not set up, Notify's refusal, a mail server
error) is recorded as not sent, with why, and the rest of the batch goes on.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append
from joinedup.referrals.models import Appointment
from joinedup.reminders import notify, rules
from joinedup.reminders.models import Reminder, ReminderPreference

logger = logging.getLogger(__name__)


def preference_of(student) -> str:
    """The student's choice, or the default when they have not chosen."""
    preference = ReminderPreference.objects.filter(student=student).first()
    return preference.channel if preference else rules.DEFAULT


def set_reminder_preference(*, actor, student, channel: str, request=None) -> ReminderPreference:
    """The student chooses how they are reminded: email, text message, both or none."""
    if channel not in rules.CHOICES:
        raise ValidationError({"channel": _("Choose how you would like to be reminded.")})
    with transaction.atomic():
        preference, _created = ReminderPreference.objects.update_or_create(
            student=student, defaults={"channel": channel}
        )
        append(
            [
                Entry(
                    action="reminders.preference.changed",
                    actor=actor,
                    student=student,
                    category="identity",
                    actor_role="student",
                    reason=channel,
                )
            ]
        )
    return preference


def _link(name: str) -> str:
    return settings.SITE_URL + reverse(name)


def _claim(student, channel_choice: str, **about) -> list[tuple[Reminder, rules.Delivery]]:
    """Write the reminder's rows, one per channel; none when another run already did."""
    email = student.email or (student.user.email if student.user else "")
    found = rules.deliveries(
        channel_choice, email=email, phone=student.phone, sms_available=notify.sms_available()
    )
    try:
        with transaction.atomic():
            return [
                (
                    Reminder.objects.create(
                        student=student,
                        channel=delivery.channel,
                        status=Reminder.Status.NOT_SENT if delivery.problem else "pending",
                        detail=delivery.problem,
                        **about,
                    ),
                    delivery,
                )
                for delivery in found
            ]
    except IntegrityError:
        return []


def _record(reminder: Reminder, *, problem: str = "", notify_id: str = "") -> None:
    reminder.status = Reminder.Status.NOT_SENT if problem else Reminder.Status.SENT
    reminder.detail, reminder.notify_id = problem, notify_id
    reminder.sent_at = None if problem else timezone.now()
    reminder.save(update_fields=["status", "detail", "notify_id", "sent_at"])


def _send(claimed, subject: str, text: str) -> list[Reminder]:
    """Send each claimed row that has an address, recording what happened."""
    for reminder, delivery in claimed:
        if delivery.problem:
            continue
        if delivery.channel == rules.EMAIL:
            try:
                send_mail(subject, text, None, [delivery.address])
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("Reminder %s not emailed: %s", reminder.uuid, error)
                _record(
                    reminder, problem=_("the email could not be sent: %(error)s") % {"error": error}
                )
            else:
                _record(reminder)
        else:
            try:
                notify_id = notify.send_sms(delivery.address, text, reference=str(reminder.uuid))
            except notify.APIError as error:
                logger.warning("Reminder %s not texted: %s", reminder.uuid, error)
                _record(reminder, problem=notify.problem_of(error))
            else:
                _record(reminder, notify_id=notify_id)
    return [reminder for reminder, _delivery in claimed]


def remind_of_appointment(appointment: Appointment) -> list[Reminder]:
    """Remind the student of one appointment at the time it is now booked for, once."""
    student = appointment.episode.student
    claimed = _claim(
        student,
        preference_of(student),
        appointment=appointment,
        for_starts_at=appointment.starts_at,
    )
    with student.in_own_language():
        subject = _(rules.APPOINTMENT_SUBJECT)
        text = rules.appointment_text(
            timezone.localtime(appointment.starts_at), _link("portal:appointments")
        )
    return _send(claimed, subject, text)


def due_appointments(now=None) -> list[Appointment]:
    """Booked appointments inside the reminder window not yet reminded at their time."""
    now = now or timezone.now()
    lead = timedelta(hours=settings.REMINDER_LEAD_HOURS)
    reminded = Reminder.objects.filter(
        appointment=OuterRef("pk"), for_starts_at=OuterRef("starts_at")
    )
    candidates = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED, starts_at__gt=now, starts_at__lte=now + lead
        )
        .exclude(Exists(reminded))
        .select_related("episode__student__user")
        .order_by("starts_at", "pk")
    )
    return [
        appointment
        for appointment in candidates
        if rules.is_due(
            status=appointment.status,
            starts_at=appointment.starts_at,
            now=now,
            lead=lead,
            reminded_for=set(),
        )
    ]


def send_due_reminders(now=None) -> list[Reminder]:
    """The periodic run: remind of every appointment now due, each once."""
    sent: list[Reminder] = []
    for appointment in due_appointments(now):
        sent.extend(remind_of_appointment(appointment))
    return sent


def send_questionnaire_link(link, token: str) -> list[Reminder]:
    """Send a questionnaire link by the student's reminder channels, once."""
    student = link.episode.student
    claimed = _claim(student, preference_of(student), completion_link=link)
    url = settings.SITE_URL + reverse("portal:questionnaire-complete", args=[token])
    with student.in_own_language():
        subject = _(rules.QUESTIONNAIRE_SUBJECT)
        text = rules.questionnaire_text(timezone.localtime(link.expires_at), url)
    return _send(claimed, subject, text)
