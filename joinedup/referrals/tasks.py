"""Emails about referrals, sent outside the request. They say what happened and link to
it; none carries clinical content or the student's name."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.people.models import CLINICAL_ROLES, Role, User
from joinedup.referrals.gaps import detect_gaps as run_gap_rules
from joinedup.referrals.models import FollowUpTask, Referral


def _members(service, roles) -> list[str]:
    return list(
        User.objects.filter(
            memberships__service=service, memberships__role__in=roles, is_active=True
        )
        .values_list("email", flat=True)
        .distinct()
    )


def _link(name: str, *args) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _send(subject: str, message: str, recipients: list[str]) -> None:
    if recipients:
        send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)


@task
def email_new_referral(referral_id: int) -> None:
    """Tell the receiving service's clinical staff that a referral has arrived."""
    referral = Referral.objects.select_related("to_service", "from_service").get(pk=referral_id)
    _send(
        _("New referral for %(service)s") % {"service": referral.to_service.name},
        _("A new referral has arrived for %(service)s from %(source)s.\nOpen it: %(link)s")
        % {
            "service": referral.to_service.name,
            "source": referral.from_service or referral.get_source_display(),
            "link": _link("referrals:referral-detail", referral.uuid),
        },
        _members(referral.to_service, CLINICAL_ROLES),
    )


@task
def email_referrer(referral_id: int, what: str) -> None:
    """Tell the person who referred that the referral was accepted, declined or discharged."""
    referral = Referral.objects.select_related("to_service", "created_by", "student").get(
        pk=referral_id
    )
    if not referral.created_by.is_active or referral.created_by_id == referral.student.user_id:
        # No one to send to that page: a self-referral (the student follows it in their
        # portal; one from the public form is answered by its own email).
        return
    _send(
        _("Your referral to %(service)s was %(what)s")
        % {"service": referral.to_service.name, "what": what},
        _("Your referral to %(service)s was %(what)s.\nSee it: %(link)s")
        % {
            "service": referral.to_service.name,
            "what": what,
            "link": _link("referrals:referral-detail", referral.uuid),
        },
        [referral.created_by.email],
    )


@task
def email_referrer_discharge_withheld(referral_id: int, asked: str) -> None:
    """Tell the person who referred that the student was discharged, when and by whom,
    and that the summary is not shared with their service (`asked`: what was done about
    that); nothing of the summary."""
    referral = Referral.objects.select_related("to_service", "from_service", "created_by").get(
        pk=referral_id
    )
    _send(
        _("Your referral to %(service)s: the student was discharged")
        % {"service": referral.to_service.name},
        _(
            "%(service)s discharged the student on %(date)s.\n"
            "The discharge summary stays with %(service)s: the student's consent does not let "
            "it reach %(referrer)s. %(asked)s\nSee the referral: %(link)s"
        )
        % {
            "service": referral.to_service.name,
            "date": timezone.localtime(referral.discharged_at).strftime("%d %b %Y"),
            "referrer": referral.from_service.name,
            "asked": asked,
            "link": _link("referrals:referral-detail", referral.uuid),
        },
        [referral.created_by.email],
    )


@task
def email_follow_up(task_id: int) -> None:
    """Tell the university service that a follow-up is due."""
    follow_up = FollowUpTask.objects.select_related("service").get(pk=task_id)
    _send(
        _("A follow-up is due for %(service)s") % {"service": follow_up.service.name},
        _("A student needs a follow-up from %(service)s by %(due)s.\nSee it: %(link)s")
        % {
            "service": follow_up.service.name,
            "due": timezone.localtime(follow_up.due_at).strftime("%d %b %Y %H:%M"),
            "link": _link("referrals:follow-ups"),
        },
        _members(follow_up.service, CLINICAL_ROLES),
    )


@task
def email_overdue_follow_up(task_id: int) -> None:
    """Escalate an overdue follow-up or task to the service's managers (its clinicians when
    it has none). A task a colleague set names whom it is for and links to the tasks page,
    where managers see their services' overdue tasks; neither names the student nor says
    what the task is."""
    follow_up = FollowUpTask.objects.select_related("service", "assignee").get(pk=task_id)
    recipients = _members(follow_up.service, [Role.SERVICE_MANAGER]) or _members(
        follow_up.service, CLINICAL_ROLES
    )
    due = timezone.localtime(follow_up.due_at).strftime("%d %b %Y %H:%M")
    if follow_up.is_follow_up:
        subject = _("Overdue follow-up in %(service)s") % {"service": follow_up.service.name}
        body = _(
            "A follow-up in %(service)s was due at %(due)s and is not done.\nSee it: %(link)s"
        ) % {"service": follow_up.service.name, "due": due, "link": _link("referrals:follow-ups")}
    else:
        subject = _("Overdue task in %(service)s") % {"service": follow_up.service.name}
        body = _("A task for %(whom)s was due at %(due)s and is not done.\nSee it: %(link)s") % {
            "whom": follow_up.assignee
            or _("everyone in %(service)s") % {"service": follow_up.service.name},
            "due": due,
            "link": _link("referrals:tasks"),
        }
    _send(subject, body, recipients)


@task
def detect_gaps() -> int:
    """The daily gap detection run; returns how many new items it raised."""
    return len(run_gap_rules())
