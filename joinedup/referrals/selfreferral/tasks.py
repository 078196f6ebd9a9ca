"""The email to someone whose self-referral was rejected: plain words, where else to turn,
and nothing clinical (not even what they asked for help with)."""

from django.core.mail import send_mail
from django.tasks import task
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.referrals.models import Referral

# What the person is told for each reason a rejection may give (`rules.REJECTION_REASONS`).
REJECTION_WORDS = {
    "not_eligible": gettext_lazy(
        "%(service)s is not the right service for what you asked for help with."
    ),
    "out_of_area": gettext_lazy("%(service)s does not cover where you live or study."),
    "no_contact": gettext_lazy("%(service)s tried to contact you but could not reach you."),
    "duplicate": gettext_lazy("%(service)s already has a request for help from you."),
    "student": gettext_lazy("You told %(service)s that you no longer want their help."),
}
CRISIS = gettext_lazy(
    "If you feel you cannot keep yourself safe, call 999 or go to A&E. For urgent mental health "
    "help, call NHS 111 and choose the mental health option, or call Samaritans free on 116 123."
)


@task
def email_rejected(referral_id: int) -> None:
    """Tell the person that their self-referral will not go ahead, and why, in plain words."""
    referral = Referral.objects.select_related("student", "to_service").get(pk=referral_id)
    with referral.student.in_own_language():
        service = referral.to_service
        lines = [
            _("Hello %(name)s,") % {"name": referral.student.legal_given_name},
            _("Thank you for asking %(service)s for help. We cannot take your request forward.")
            % {"service": service.name},
            str(REJECTION_WORDS[referral.decline_reason]) % {"service": service.name},
        ]
        if referral.signposted_to:
            lines.append(_("We suggest you contact: %(where)s") % {"where": referral.signposted_to})
        entry = getattr(service, "directory_entry", None)
        if entry is not None and (entry.phone or entry.email):
            lines.append(
                _("If you have a question, contact %(service)s: %(how)s")
                % {
                    "service": service.name,
                    "how": " · ".join(filter(None, [entry.phone, entry.email])),
                }
            )
        lines.append(str(CRISIS))
        subject = _("Your request for help from %(service)s") % {"service": service.name}
    send_mail(
        subject=subject,
        message="\n\n".join(lines),
        from_email=None,
        recipient_list=[referral.student.email],
    )
