"""Risk emails, sent outside the request: what happened and a link, never clinical
content or the student's name."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.consent.models import CareRelationship
from joinedup.people.models import CLINICAL_ROLES, Role, User
from joinedup.risk import rules
from joinedup.risk.models import Concern, Escalation, Flag


def _caring_services(flag: Flag) -> list[int]:
    return list(
        CareRelationship.objects.open()
        .filter(student=flag.student)
        .values_list("service_id", flat=True)
    ) or [flag.service_id]


def _emails(service_ids, roles) -> list[str]:
    return sorted(
        set(
            User.objects.filter(
                memberships__service_id__in=service_ids, memberships__role__in=roles, is_active=True
            ).values_list("email", flat=True)
        )
    )


def escalation_recipients(flag: Flag, stage: int) -> list[str]:
    """Duty (triage) workers of the services in the student's care, or their managers;
    a service without a duty worker escalates to its practitioners."""
    services = _caring_services(flag)
    if stage == rules.DUTY:
        return _emails(services, [Role.TRIAGE]) or _emails(services, CLINICAL_ROLES)
    return _emails(services, [Role.SERVICE_MANAGER]) or _emails(services, CLINICAL_ROLES)


def _link() -> str:
    return settings.SITE_URL + reverse("risk:flags")


def _escalated_link(flag: Flag) -> str:
    """The page a service manager acts on an escalated flag from (the flags worklist is
    for those in the student's care)."""
    return settings.SITE_URL + reverse("risk:flag-escalated", args=[flag.uuid])


@task
def email_flag_raised(flag_id: int) -> None:
    flag = Flag.objects.select_related("level").get(pk=flag_id)
    recipients = _emails(_caring_services(flag), CLINICAL_ROLES)
    if recipients:
        send_mail(
            _("A %(level)s risk flag needs acknowledging") % {"level": flag.level.name.lower()},
            _(
                "A student in your care has a %(level)s risk flag. Acknowledge it by %(due)s: "
                "%(link)s"
            )
            % {
                "level": flag.level.name.lower(),
                "link": _link(),
                "due": timezone.localtime(flag.due_at).strftime("%d %b %Y %H:%M"),
            },
            None,
            recipients,
        )


@task
def email_escalation(escalation_id: int) -> None:
    escalation = Escalation.objects.select_related("flag__level").get(pk=escalation_id)
    flag = escalation.flag
    if escalation.sent_to:
        send_mail(
            _("Escalation: a %(level)s risk flag is not acknowledged")
            % {"level": flag.level.name.lower()},
            _(
                "A %(level)s risk flag for a student in your services' care was due for "
                "acknowledgement at %(due)s and nobody has acknowledged it. Act now: %(link)s"
            )
            % {
                "level": flag.level.name.lower(),
                "link": _link() if escalation.stage == rules.DUTY else _escalated_link(flag),
                "due": timezone.localtime(flag.due_at).strftime("%d %b %Y %H:%M"),
            },
            None,
            escalation.sent_to,
        )


@task
def email_flag_assigned(flag_id: int) -> None:
    """Tell the practitioner a manager asked to act on an escalated flag."""
    flag = Flag.objects.select_related("level", "assigned_to", "assigned_by").get(pk=flag_id)
    send_mail(
        _("Please act now on a %(level)s risk flag") % {"level": flag.level.name.lower()},
        _(
            "%(manager)s asks you to act on a %(level)s risk flag for a student in your "
            "service's care. It was due for acknowledgement at %(due)s. Open it: %(link)s"
        )
        % {
            "manager": flag.assigned_by.get_full_name() or flag.assigned_by.email,
            "level": flag.level.name.lower(),
            "due": timezone.localtime(flag.due_at).strftime("%d %b %Y %H:%M"),
            "link": _link(),
        },
        None,
        [flag.assigned_to.email],
    )


def _concern_link(concern) -> str:
    return settings.SITE_URL + reverse("risk:concern-detail", args=[concern.uuid])


@task
def email_concern_raised(concern_id: int) -> None:
    """Tell the triage of the service that a concern has arrived, and how soon to respond."""
    concern = Concern.objects.select_related("service").get(pk=concern_id)
    recipients = _emails([concern.service_id], [Role.TRIAGE]) or _emails(
        [concern.service_id], CLINICAL_ROLES
    )
    if recipients:
        send_mail(
            _("New %(urgency)s concern for %(service)s")
            % {"urgency": concern.urgency, "service": concern.service.name},
            _("A concern about a student has been raised. Respond by %(due)s: %(link)s")
            % {
                "due": timezone.localtime(concern.due_at).strftime("%d %b %Y %H:%M"),
                "link": _concern_link(concern),
            },
            None,
            recipients,
        )


@task
def email_concern_acknowledged(concern_id: int) -> None:
    concern = Concern.objects.select_related("reporter", "service").get(pk=concern_id)
    if concern.reporter:
        send_mail(
            _("Your concern has been picked up"),
            _("%(service)s has picked up the concern you raised. See it: %(link)s")
            % {"service": concern.service.name, "link": _concern_link(concern)},
            None,
            [concern.reporter.email],
        )


@task
def email_concern_reply(concern_id: int) -> None:
    concern = Concern.objects.select_related("reporter", "service").get(pk=concern_id)
    if concern.reporter:
        send_mail(
            _("A reply about the concern you raised"),
            _("%(service)s has written about the concern you raised. Read it: %(link)s")
            % {"service": concern.service.name, "link": _concern_link(concern)},
            None,
            [concern.reporter.email],
        )


@task
def email_concern_closed(concern_id: int) -> None:
    """Tell the person who raised the concern that it was closed; what was decided stays
    between the student and the service."""
    concern = Concern.objects.select_related("reporter", "service").get(pk=concern_id)
    if concern.reporter:
        send_mail(
            _("The concern you raised has been closed"),
            _(
                "%(service)s has closed the concern you raised. What was decided is between the "
                "student and %(service)s. See it: %(link)s"
            )
            % {"service": concern.service.name, "link": _concern_link(concern)},
            None,
            [concern.reporter.email],
        )
