"""Emails of governance, sent outside the request."""

from datetime import date

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
def check_audit_chain(check_id: int) -> None:
    """Read the whole audit chain for the check an admin asked for, and keep what it found."""
    from joinedup.audit.selectors import verify_audit_chain
    from joinedup.governance.models import ChainCheck
    from joinedup.governance.services import finish_chain_check

    check = ChainCheck.objects.get(pk=check_id)
    try:
        verification = verify_audit_chain()
    except Exception as error:
        # Said on the page as a check that could not finish, never as an intact log.
        check.finished_at, check.problem = timezone.now(), f"could not finish: {error}"[:300]
        check.save(update_fields=["finished_at", "problem"])
        raise
    finish_chain_check(check, verification)


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
    message = ngettext(
        "%(count)d emergency access to a student's record by a member of %(org)s has not been "
        "reviewed within 7 days of its use.",
        "%(count)d emergency accesses to students' records by members of %(org)s have not been "
        "reviewed within 7 days of their use.",
        count,
    ) % {"count": count, "org": organisation.name}
    _tell_organisation(
        organisation,
        subject=_("Emergency access reviews overdue at %(org)s") % {"org": organisation.name},
        message=message,
        act=_("Review them here: %(link)s")
        % {"link": settings.SITE_URL + reverse("governance:overrides")},
        where=_("An organisation admin reviews them in JoinedUp, under Emergency access reviews."),
    )


@task
def email_override_summary(organisation_id: int, month: str) -> None:
    """An organisation's monthly summary of emergency access (`month` is "YYYY-MM"): how
    many times its staff used it, and how their reviews stand; never who or about whom."""
    from joinedup.consent.models import BreakGlass
    from joinedup.governance import rules
    from joinedup.governance.selectors import opened_in

    organisation = Organisation.objects.get(pk=organisation_id)
    first = date.fromisoformat(f"{month}-01")
    used = list(BreakGlass.objects.filter(opened_in(first), organisation=organisation)
                .select_related("review"))  # fmt: skip
    outcomes = [access.review.outcome if hasattr(access, "review") else "" for access in used]
    said = {
        "org": organisation.name, "month": f"{first:%B %Y}", "count": len(used),
        "appropriate": outcomes.count(rules.APPROPRIATE),
        "not_appropriate": outcomes.count(rules.NOT_APPROPRIATE),
        "waiting": outcomes.count(""),
    }  # fmt: skip
    message = ngettext(
        "In %(month)s, staff of %(org)s used emergency access to a student's record "
        "%(count)d time.",
        "In %(month)s, staff of %(org)s used emergency access to students' records "
        "%(count)d times.",
        len(used),
    ) % said + " " + _(
        "Reviewed as appropriate: %(appropriate)d. Not appropriate: %(not_appropriate)d. "
        "Waiting for review: %(waiting)d."
    ) % said  # fmt: skip
    link = settings.SITE_URL + reverse("governance:override-summary") + f"?month={month}"
    _tell_organisation(
        organisation,
        subject=_("Emergency access at %(org)s in %(month)s") % said,
        message=message,
        act=_("The summary, service by service: %(link)s") % {"link": link},
        where=_("An organisation admin sees it in JoinedUp, under Emergency access reviews."),
    )


@task
def email_retention_due(run_id: int) -> None:
    """Tell an organisation's admins, and its data protection contact, that records have
    passed their retention and wait for an admin to confirm their erasure: how many, never
    whose."""
    from joinedup.governance.models import RetentionRun

    run = RetentionRun.objects.select_related("organisation").get(pk=run_id)
    organisation = run.organisation
    count = sum(run.by_category.values())
    message = ngettext(
        "%(count)d record at %(org)s has passed its retention period. Nothing is erased until "
        "an admin checks the list and confirms it.",
        "%(count)d records at %(org)s have passed their retention period. Nothing is erased "
        "until an admin checks the list and confirms it.",
        count,
    ) % {"count": count, "org": organisation.name}
    _tell_organisation(
        organisation,
        subject=_("Records past their retention at %(org)s") % {"org": organisation.name},
        message=message,
        act=_("Check the list here: %(link)s")
        % {"link": settings.SITE_URL + reverse("governance:retention")},
        where=_("An organisation admin checks the list in JoinedUp, under Retention."),
    )


def _tell_organisation(organisation, *, subject: str, message: str, act: str, where: str):
    """The organisation's admins get `act` (with its link); its data protection contact, an
    address that need not sign in, is told `where` the admins act instead."""
    admins = set(User.objects.filter(
        memberships__organisation=organisation, memberships__role=Role.ORG_ADMIN, is_active=True
    ).values_list("email", flat=True))  # fmt: skip
    if admins:
        send_mail(subject=subject, message=message + "\n\n" + act, from_email=None,
                  recipient_list=sorted(admins))  # fmt: skip
    contact = organisation.data_protection_email
    if contact and contact not in admins:
        send_mail(subject=subject, message=message + "\n\n" + where, from_email=None,
                  recipient_list=[contact])  # fmt: skip


@task
def email_agreement_change(change_id: int) -> None:
    """Tell the other side what one side did to their agreement: drafted it (read it and
    activate it), activated it (in force now, or waiting for them), reviewed, withdrawn or
    suspended it (with the reason). Its admins get the link; its data protection contact, if
    not an admin (or if it has no admin yet), is told where the admins see it."""
    from joinedup.consent.models import AgreementChange

    change = AgreementChange.objects.select_related("agreement", "organisation").get(pk=change_id)
    agreement = change.agreement
    others = [s.organisation for s in agreement.sides.select_related("organisation")
              if s.organisation_id != change.organisation_id]  # fmt: skip
    said = {"org": change.organisation.name, "title": agreement.title}
    if change.what == "drafted":
        message = _("%(org)s has drafted a data sharing agreement with your organisation, "
                    "“%(title)s”. Nothing is shared under it until both sides activate it: "
                    "read it, and activate it for your side if you agree.") % said  # fmt: skip
    elif change.what == "activated":
        message = (_("%(org)s has activated “%(title)s”. It is in force: records are shared "
                     "under it.") if agreement.in_force_on(timezone.localdate()) else _(
            "%(org)s has activated “%(title)s”. Nothing is shared under it until your side "
            "activates it too.")) % said  # fmt: skip
    elif change.what == "withdrawn":
        message = _("%(org)s has withdrawn the draft “%(title)s”: nothing will be shared "
                    "under it. Their reason: %(note)s") % (
            said | {"note": change.note})  # fmt: skip
    elif change.what == "revised":
        message = _("%(org)s has changed the terms of “%(title)s”. %(note)s Read it, and "
                    "activate it for your side if you agree.") % (
            said | {"note": change.note})  # fmt: skip
    elif change.what == "reviewed":
        message = _("%(org)s has reviewed “%(title)s”. The next review is due by %(day)s.") % (
            said | {"day": f"{agreement.review_on:%-d %B %Y}"})  # fmt: skip
    else:
        message = _("%(org)s has suspended “%(title)s”: nothing is shared under it from now "
                    "on. Their reason: %(note)s") % (said | {"note": change.note})  # fmt: skip
    link = settings.SITE_URL + reverse("governance:agreement", args=[agreement.uuid])
    for organisation in others:
        _tell_organisation(
            organisation,
            subject=_("Data sharing agreement: %(title)s") % said,
            message=message,
            act=link,
            where=_("An organisation admin sees it in JoinedUp, under Data sharing agreements."),
        )
