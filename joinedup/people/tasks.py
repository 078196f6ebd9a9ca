"""Emails to students, sent outside the request."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils.translation import gettext as _

from joinedup.people.models import Notification


@task
def email_notification(notification_id: int) -> None:
    notification = Notification.objects.select_related("student__user").get(pk=notification_id)
    student = notification.student
    address = student.email or (student.user.email if student.user else "")
    if address:
        with student.in_own_language():
            subject = _("About your record")
        send_mail(
            subject,
            f"{notification.text}\\n{settings.SITE_URL}{reverse('portal:home')}",
            None,
            [address],
        )
