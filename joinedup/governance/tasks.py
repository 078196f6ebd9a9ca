"""Emails of governance, sent outside the request."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from joinedup.governance.models import Invitation
from joinedup.people.models import Organisation, Role, User


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


@task
def email_overdue_reviews(organisation_id: int, count: int) -> None:
    """Tell an organisation's admins, and its data protection contact, that emergency
    accesses by its members wait for review past the 7 days: how many, never who or about
    whom. Admins get the link to the reviews; the contact, an address that need not sign in,
    is told where the admins review them."""
    organisation = Organisation.objects.get(pk=organisation_id)
    admins = set(User.objects.filter(
        memberships__organisation=organisation, memberships__role=Role.ORG_ADMIN, is_active=True
    ).values_list("email", flat=True))  # fmt: skip
    message = ngettext(
        "%(count)d emergency access to a student's record by a member of %(org)s has not been "
        "reviewed within 7 days of its use.",
        "%(count)d emergency accesses to students' records by members of %(org)s have not been "
        "reviewed within 7 days of their use.",
        count,
    ) % {"count": count, "org": organisation.name}
    subject = _("Emergency access reviews overdue at %(org)s") % {"org": organisation.name}
    if admins:
        link = settings.SITE_URL + reverse("governance:overrides")
        review = _("Review them here: %(link)s") % {"link": link}
        send_mail(subject=subject, message=message + "\n\n" + review, from_email=None,
                  recipient_list=sorted(admins))  # fmt: skip
    contact = organisation.data_protection_email
    if contact and contact not in admins:
        where = _("An organisation admin reviews them in JoinedUp, under Emergency access "
                  "reviews.")  # fmt: skip
        send_mail(subject=subject, message=message + "\n\n" + where, from_email=None,
                  recipient_list=[contact])  # fmt: skip
