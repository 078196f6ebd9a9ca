"""Emails of governance, sent outside the request."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.governance.models import Invitation
from joinedup.people.models import Role


@task
def email_invitation(invitation_id: int) -> None:
    """The invitation to join, to the address invited: who invited them, to what, until when,
    and the link to accept it."""
    from joinedup.governance.staff import token_of

    invitation = Invitation.objects.select_related(
        "organisation", "service", "department", "invited_by"
    ).get(pk=invitation_id)
    inviter = invitation.invited_by.get_full_name() or invitation.invited_by.email
    link = settings.SITE_URL + reverse("governance:join", args=[token_of(invitation)])
    send_mail(
        subject=_("You are invited to JoinedUp by %(org)s") % {"org": invitation.organisation},
        message=_(
            "%(inviter)s has invited you to JoinedUp, the joined-up care record for student "
            "mental health, as %(role)s in %(place)s.\n\n"
            "Accept by %(until)s: %(link)s\n\n"
            "You will choose a password, then set up an authenticator app on your phone "
            "before anything else: every member of staff signs in with a code from it.\n\n"
            "If you did not expect this, ignore it: nothing happens unless you accept."
        ) % {
            "inviter": inviter, "role": Role(invitation.role).label, "place": invitation.place,
            "until": f"{timezone.localtime(invitation.expires_at):%-d %B %Y, %H:%M}",
            "link": link,
        },
        from_email=None,
        recipient_list=[invitation.email],
    )  # fmt: skip
