"""Emails about questionnaires, sent outside the request. None carries clinical content."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.measures.models import CompletionLink


@task
def email_completion_link(link_id: int, token: str) -> None:
    """Send the student their questionnaire link; the email names only the service."""
    link = CompletionLink.objects.select_related("episode__student__user", "episode__service").get(
        pk=link_id
    )
    student = link.episode.student
    address = student.email or (student.user.email if student.user else "")
    if not address:
        return
    url = settings.SITE_URL + reverse("portal:questionnaire-complete", args=[token])
    send_mail(
        subject=_("Questionnaires before your next session"),
        message=_(
            "Hello %(name)s,\n\n%(service)s has asked you to fill in a short questionnaire "
            "before your next session. It takes a few minutes:\n%(url)s\n\n"
            "The link works once and expires on %(expires)s."
        )
        % {
            "name": student.display_name,
            "service": link.episode.service.name,
            "url": url,
            "expires": timezone.localtime(link.expires_at).strftime("%d %b %Y %H:%M"),
        },
        from_email=None,
        recipient_list=[address],
    )
