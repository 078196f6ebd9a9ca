"""Background work for consent: emails are sent outside the request."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.consent.models import BreakGlass


@task
def report_break_glass(access_id: int) -> None:
    """Tell the organisation's data protection contact; no clinical content in the email."""
    access = BreakGlass.objects.select_related("user").get(pk=access_id)
    link = settings.SITE_URL + reverse("admin:consent_breakglass_change", args=[access.pk])
    send_mail(
        subject=_("Emergency access to a student record"),
        message=_(
            "%(who)s used emergency access to a student record at %(when)s.\n"
            "It expires at %(until)s. Review it here: %(link)s"
        )
        % {
            "who": access.user.email,
            "when": timezone.localtime(access.opened_at).strftime("%d %b %Y %H:%M"),
            "until": timezone.localtime(access.expires_at).strftime("%d %b %Y %H:%M"),
            "link": link,
        },
        from_email=None,
        recipient_list=[address.strip() for address in access.reported_to.split(",")],
    )
