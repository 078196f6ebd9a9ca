"""The national data opt-out, as an NHS organisation's admin applies it: the NHS numbers of
its patients sent to NHS England's Check for National Data Opt-outs service, the service's
answer imported (the numbers it returns may be used; those it leaves out have opted out),
held for a fixed period, and used by every research extract of NHS care. And the other way:
the choices students record in JoinedUp, exported for the NHS partner. Each step audited."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from nhs_number import is_valid

from joinedup.audit.services import append
from joinedup.consent.models import CareRelationship
from joinedup.governance import rules
from joinedup.governance.models import OptOutCheck
from joinedup.governance.selectors import require_admin_of
from joinedup.governance.services import admin_entry
from joinedup.people.models import Organisation, Student, User


def patients_of(organisation: Organisation):
    """The students (current records) with an NHS number whom the organisation's services
    have ever cared for or been asked to."""
    return Student.objects.filter(
        pk__in=CareRelationship.objects.filter(service__organisation=organisation).values("student")
    ).exclude(nhs_number="")


def start_check(*, actor: User, organisation: Organisation, request=None) -> OptOutCheck:
    """The NHS numbers to send to the service, kept so its answer can be read against them."""
    require_admin_of(actor, organisation.pk)
    numbers = sorted(set(patients_of(organisation).values_list("nhs_number", flat=True)))
    if not numbers:
        raise ValidationError(_("None of your services' students has an NHS number to check."))
    with transaction.atomic():
        check = OptOutCheck.objects.create(organisation=organisation, sent_by=actor,
                                           numbers=numbers)  # fmt: skip
        append([admin_entry(actor, request, organisation=organisation,
                            action="governance.opt_out.check_sent",
                            reason=f"{len(numbers)} NHS numbers to check")])  # fmt: skip
    return check


def record_answer(*, actor: User, check: OptOutCheck, text: str, request=None,
                  everyone_opted_out: bool = False) -> OptOutCheck:  # fmt: skip
    """Import the service's answer: every line a valid NHS number that was sent, or nothing
    is imported and each bad line is named. An empty answer means everyone checked has opted
    out, and is taken only when the admin says so."""
    require_admin_of(actor, check.organisation.pk)
    if check.returned_at is not None:
        raise ValidationError(_("This check's answer is imported already: start a new check."))
    returned = rules.read_returned_list(text, is_valid)
    problems = list(returned.problems)
    unsent = sorted(returned.numbers - set(check.numbers))
    if unsent:
        problems.append(ngettext(
            "%(count)d NHS number was not in the list sent (%(first)s): is this the answer to "
            "another check?",
            "%(count)d NHS numbers were not in the list sent, such as %(first)s: is this the "
            "answer to another check?", len(unsent),
        ) % {"count": len(unsent), "first": unsent[0]})  # fmt: skip
    if everyone_opted_out and returned.numbers:
        problems.append(_("The file holds NHS numbers, so not everyone opted out: untick the "
                          "box and import it again."))  # fmt: skip
    elif not returned.numbers and not problems and not everyone_opted_out:
        problems.append(_(
            "The file holds no NHS numbers. If the service returned it so, everyone checked "
            "has opted out: tick the box and import it again."
        ))  # fmt: skip
    if problems:
        raise ValidationError({"file": problems})
    now = timezone.now()
    with transaction.atomic():
        check.opted_out = sorted(set(check.numbers) - returned.numbers)
        check.returned_at, check.returned_by = now, actor
        check.expires_at = now + rules.OPT_OUT_CHECK_LASTS
        check.save(update_fields=["opted_out", "returned_at", "returned_by", "expires_at"])
        append([admin_entry(
            actor, request, organisation=check.organisation,
            action="governance.opt_out.answer_imported",
            reason=f"{len(check.numbers)} checked, {len(check.opted_out)} opted out",
        )])  # fmt: skip
    return check


@dataclass(frozen=True)
class NationalOptOuts:
    """What the current checks say: the opted-out NHS numbers, and which organisations
    have a current check (an extract says so in its release note)."""

    numbers: frozenset[str]
    current: dict[str, datetime]  # organisation name → when its check expires
    missing: list[str]  # NHS organisations with no current check


def national_opt_outs(now: datetime | None = None) -> NationalOptOuts:
    """The opted-out NHS numbers of every NHS organisation's latest check that has not
    expired. An expired check counts for nothing: it must be run again."""
    now = now or timezone.now()
    numbers: set[str] = set()
    current: dict[str, datetime] = {}
    nhs = Organisation.objects.filter(kind=Organisation.Kind.NHS_TRUST)
    for organisation in nhs:
        latest = (
            OptOutCheck.objects.filter(organisation=organisation, returned_at__isnull=False)
            .order_by("-returned_at")
            .first()
        )
        if latest is not None and latest.expires_at and latest.expires_at > now:
            numbers.update(latest.opted_out)
            current[organisation.name] = latest.expires_at
    missing = [o.name for o in nhs if o.name not in current]
    return NationalOptOuts(frozenset(numbers), current, missing)


def portal_choices(organisation: Organisation):
    """The organisation's patients who recorded a national data opt-out in JoinedUp: their
    NHS numbers, for the partner to record it nationally."""
    return patients_of(organisation).filter(national_data_opt_out=True).order_by("nhs_number")


def record_download(*, actor: User, check: OptOutCheck, request=None) -> None:
    require_admin_of(actor, check.organisation.pk)
    append([admin_entry(
        actor, request, organisation=check.organisation,
        action="governance.opt_out.numbers_downloaded",
        reason=f"{len(check.numbers)} NHS numbers of the check started {check.sent_at:%Y-%m-%d}",
    )])  # fmt: skip


def record_export(*, actor: User, organisation: Organisation, count: int, request=None) -> None:
    require_admin_of(actor, organisation.pk)
    append([admin_entry(
        actor, request, organisation=organisation, action="governance.opt_out.choices_exported",
        reason=f"{count} NHS numbers of students who opted out in JoinedUp",
    )])  # fmt: skip
