"""Background work for consent: emails are sent outside the request."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.consent.models import BreakGlass, SharingRequest


@task
def report_break_glass(access_id: int) -> None:
    """Tell the data protection contacts what happened, in the email itself: the contact is
    an address, not someone who signs in, so there is no link to follow. No clinical
    content, and not who the student is."""
    access = BreakGlass.objects.select_related("user").get(pk=access_id)
    send_mail(
        subject=_("Emergency access to a student record"),
        message=_(
            "%(who)s used emergency access to a student record at %(when)s, for this reason:\n"
            "%(reason)s\n"
            "It expires at %(until)s. Everything read under it is in the audit log as "
            "override %(ref)s, and the student sees it in their record."
        )
        % {
            "who": access.user.email,
            "when": timezone.localtime(access.opened_at).strftime("%d %b %Y %H:%M"),
            "until": timezone.localtime(access.expires_at).strftime("%d %b %Y %H:%M"),
            "reason": access.reason,
            "ref": access.uuid,
        },
        from_email=None,
        recipient_list=[address.strip() for address in access.reported_to.split(",")],
    )


@task
def tell_asker(sharing_request_id: int) -> None:
    """Tell the member of staff who asked the student to share what the student answered,
    with a link to the student's record (no clinical content in the email)."""
    asked = SharingRequest.objects.select_related("asked_by", "service", "student").get(
        pk=sharing_request_id
    )
    link = settings.SITE_URL + reverse("record:student-detail", args=[asked.student.uuid])
    said = _("agreed to share") if asked.answer == "yes" else _("chose not to share")
    send_mail(
        subject=_("A student answered your request to share"),
        message=_(
            "The student you asked on %(date)s %(said)s their %(what)s with %(service)s.\n"
            "Open their record: %(link)s"
        )
        % {
            "date": timezone.localtime(asked.asked_at).strftime("%d %b %Y"),
            "said": said,
            "what": asked.get_category_display().lower(),
            "service": asked.service.name,
            "link": link,
        },
        from_email=None,
        recipient_list=[asked.asked_by.email],
    )
