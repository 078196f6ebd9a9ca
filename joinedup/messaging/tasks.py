"""Telling the student there is a message, outside the request."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils.translation import gettext as _

from joinedup.messaging import rules
from joinedup.messaging.models import Message
from joinedup.reminders import notify
from joinedup.reminders import rules as reminder_rules
from joinedup.reminders.services import preference_of

logger = logging.getLogger(__name__)


@task
def tell_student_of_message(message_id: int) -> list[str]:
    """Email the student (and text them, if they chose text reminders) that a service has
    written to them: the words say only that there is a message, and link to its thread.
    Returns the channels that went."""
    message = Message.objects.select_related("student__user", "service").get(pk=message_id)
    student = message.student
    link = settings.SITE_URL + reverse("portal:message-thread", args=[message.service.uuid])
    choice = preference_of(student)
    # Choosing no reminders is not choosing to miss a service's message: email still goes.
    found = reminder_rules.deliveries(
        reminder_rules.EMAIL if choice == reminder_rules.NONE else choice,
        email=student.email or (student.user.email if student.user else ""),
        phone=student.phone,
        sms_available=notify.sms_available(),
    )
    sent = []
    with student.in_own_language():
        subject, text = _(rules.NOTIFICATION_SUBJECT), rules.notification_text(link)
    for delivery in found:
        if delivery.problem:
            continue
        try:
            if delivery.channel == reminder_rules.EMAIL:
                send_mail(subject, text, None, [delivery.address])
            else:
                notify.send_sms(delivery.address, text, reference=str(message.uuid))
        except (smtplib.SMTPException, OSError, notify.APIError) as error:
            logger.warning("Message %s not notified by %s: %s", message.uuid,
                           delivery.channel, error)  # fmt: skip
        else:
            sent.append(delivery.channel)
    return sent
