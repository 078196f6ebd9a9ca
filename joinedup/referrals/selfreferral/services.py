"""Self-referral: a student, or someone not yet registered, asks a service for help
themselves; the service's triage confirms who they are, or rejects the self-referral.

A self-referral is a referral like any other, written by `referrals.services.create_referral`
and sent at once, so it lands in the service's waiting list with the same clock (it starts
when the self-referral is received) and opens the same care relationship
(`consent.services.open_care_relationship`, reason "referral"). That relationship is the
whole of the consent a self-referral implies: the person's own request that this one service
hold and read their record while it decides and cares for them, ending when the referral
does. It implies no sharing with any other service, so no consent grant is recorded: the
student gives those themselves, as anyone does.

Someone not signed in gets a pending record (`Student.is_pending`), their details as they
typed them. Nothing the form answers depends on who else is registered: a pending record
claims no student number, and likely duplicates are looked for only when triage opens it.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.services import Entry, append
from joinedup.consent.policy import entry_for
from joinedup.people.intake import Found, StudentDetails, find_duplicates
from joinedup.people.merging import MergePlan, merge_records
from joinedup.people.models import Organisation, Service, Student, User
from joinedup.people.rules import date_of_birth_problem
from joinedup.referrals import services as referrals
from joinedup.referrals.models import Referral
from joinedup.referrals.selfreferral import rules, tasks

# The referrals someone not signed in sends are written by this account: it cannot sign in,
# and it is no member of any service, so it reads nothing.
FORM_ACCOUNT_EMAIL = "self-referral-form@joinedup.invalid"

REFUSALS = {
    rules.Refusal.NOT_TAKEN: gettext_lazy("%(service)s does not take self-referrals."),
    rules.Refusal.STAFF: gettext_lazy(
        "This form is for students referring themselves. To refer a student, open their record "
        "and choose to refer them."
    ),
    rules.Refusal.ALREADY_OPEN: gettext_lazy(
        "You already have a referral with %(service)s. They will be in touch; if you need to "
        "tell them something, contact them."
    ),
}
NO_CONTACT = gettext_lazy("Give an email address or a phone number, so the service can reach you.")
NO_REASON = gettext_lazy("Say what you would like help with.")


@dataclass(frozen=True)
class PendingDetails:
    """What someone not yet registered tells the service about themselves."""

    legal_given_name: str
    legal_family_name: str
    date_of_birth: dt.date
    student_number: str = ""
    email: str = ""
    phone: str = ""
    gp_practice: Organisation | None = None
    is_not_gp_registered: bool = False


def form_account() -> User:
    """The account self-referrals from the public form are written by (made once)."""
    user, created = User.objects.get_or_create(
        email=FORM_ACCOUNT_EMAIL,
        defaults={"first_name": "Self-referral", "last_name": "form", "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _check(service: Service, *, is_staff: bool = False, student: Student | None = None) -> None:
    entry = getattr(service, "directory_entry", None)
    has_open = (
        student is not None
        and Referral.objects.open().filter(student=student, to_service=service).exists()
    )
    refusal = rules.refusal(
        accepts_self=entry is not None and entry.takes("self"),
        is_staff=is_staff,
        has_open_referral=has_open,
    )
    if refusal is not None:
        raise ValidationError(REFUSALS[refusal] % {"service": service.name})


def self_refer(
    *,
    student: Student,
    service: Service,
    reason: str,
    email: str,
    phone: str,
    request: HttpRequest | None = None,
) -> Referral:
    """A signed-in student refers themselves to `service`: their contact details are
    brought up to date on their record if they changed them, and the referral is sent."""
    _check(service, student=student)
    errors = {}
    if rules.contact_missing(email, phone):
        errors["email"] = NO_CONTACT
    if not reason.strip():
        errors["reason"] = NO_REASON
    if errors:
        raise ValidationError(errors)
    actor = student.user
    with transaction.atomic():
        changed = [
            name
            for name, value in (("email", email.strip()), ("phone", phone.strip()))
            if getattr(student, name) != value
        ]
        if changed:
            student.email, student.phone = email.strip(), phone.strip()
            student.save(update_fields=changed)
            append(
                [
                    entry_for(
                        "people.student.contact_changed",
                        actor,
                        student,
                        category="identity",
                        reason=f"Changed in a self-referral to {service}: {', '.join(changed)}",
                        request=request,
                    )
                ]
            )
        return referrals.create_referral(
            actor=actor,
            student=student,
            to_service=service,
            source=Referral.Source.SELF,
            reason=reason.strip(),
            request=request,
        )


def self_refer_unregistered(
    *,
    service: Service,
    university: Organisation,
    details: PendingDetails,
    reason: str,
    request: HttpRequest | None = None,
) -> Referral:
    """Someone not signed in refers themselves to `service`: a pending record of
    `university` is made from what they typed, and its referral is sent to the service's
    triage. Refused with a message by field for missing contact details, a date of birth
    that cannot be a student's, or a service that does not take self-referrals."""
    _check(service)
    errors = {}
    if rules.contact_missing(details.email, details.phone):
        errors["email"] = NO_CONTACT
    if date_of_birth_problem(details.date_of_birth, timezone.localdate()) is not None:
        errors["date_of_birth"] = _("Check the date of birth.")
    if not reason.strip():
        errors["reason"] = NO_REASON
    if university.kind != Organisation.Kind.UNIVERSITY:
        errors["university"] = _("Choose your university.")
    if details.gp_practice is not None and details.is_not_gp_registered:
        errors["is_not_gp_registered"] = _(
            "Either choose your GP practice or say you are not registered with a GP, not both."
        )
    if errors:
        raise ValidationError(errors)
    student = Student(
        university=university,
        is_pending=True,
        legal_given_name=details.legal_given_name.strip(),
        legal_family_name=details.legal_family_name.strip(),
        date_of_birth=details.date_of_birth,
        student_number=rules.student_number(details.student_number),
        email=details.email.strip(),
        phone=details.phone.strip(),
        gp_practice=details.gp_practice,
        is_not_gp_registered=details.is_not_gp_registered,
        # They asked in Welsh: what is sent to them is in Welsh too.
        language=Student.Language.WELSH if translation.get_language() == "cy" else "",
    )
    student.full_clean(exclude=["user", "department"])
    with transaction.atomic():
        student.save()
        append(
            [
                entry_for(
                    "people.student.self_referred",
                    None,
                    student,
                    category="identity",
                    service=service,
                    reason=f"A pending record from a self-referral to {service}",
                    request=request,
                )
            ]
        )
        return referrals.create_referral(
            actor=form_account(),
            student=student,
            to_service=service,
            source=Referral.Source.SELF,
            reason=reason.strip(),
            request=request,
        )


# Triage -------------------------------------------------------------------------------------


def details_of(student: Student) -> StudentDetails:
    return StudentDetails(
        student_number=student.student_number,
        legal_given_name=student.legal_given_name,
        legal_family_name=student.legal_family_name,
        date_of_birth=student.date_of_birth,
        nhs_number=student.nhs_number,
    )


def likely_duplicates(actor: User, student: Student) -> list[Found]:
    """Registered records that may be the pending `student`: the same NHS number, student
    number (at their university), or legal name and date of birth. Whose each is, only
    where `actor` may read that record's identity (`people.intake.find_duplicates`)."""
    found = find_duplicates(actor, details_of(student), student.university)
    return [f for f in found if f.duplicate.key != student.pk]


def _check_triage(referral: Referral) -> None:
    if not rules.may_triage(referral.state, referral.student.is_pending):
        raise ValidationError(
            _("This self-referral has already been confirmed or rejected. Nothing was changed.")
        )


def confirm_self_referral(
    *,
    actor: User,
    referral: Referral,
    student_number: str = "",
    as_student_key: int | None = None,
    confirmed_different: bool = False,
    request: HttpRequest | None = None,
) -> Referral:
    """Triage confirms the pending record of a self-referral: as a new student (with their
    student number), or as a registered student it is likely to be (`as_student_key`, one
    of `likely_duplicates`), whose record then takes the referral, its care relationship and
    everything else the pending record holds, the pending record staying only as a merged
    tombstone. The referral keeps its clock; it is accepted or declined as any other."""
    _check_triage(referral)
    pending = referral.student
    found = likely_duplicates(actor, pending)
    if as_student_key is not None:
        if not any(f.duplicate.key == as_student_key for f in found):
            raise ValidationError(
                {"as_student": _("That record is no longer a likely match: choose again.")}
            )
        kept = Student.objects.get(pk=as_student_key)
        merge_records(kept=kept, merged=pending, entries=_merged_entries(actor, referral, request))
        return Referral.objects.select_related("student").get(pk=referral.pk)
    number = rules.number_on_confirm(pending.student_number, student_number)
    if not number:
        raise ValidationError({"student_number": _("Give the student's number to confirm them.")})
    if found and not confirmed_different:
        raise ValidationError(
            {
                "confirmed_different": _(
                    "Records listed here may be this person: confirm them as one of those, or "
                    "say that they are a different person."
                )
            }
        )
    taken = _(
        "%(university)s already has a student with this number: confirm them as that student "
        "instead, or check the number."
    ) % {"university": pending.university.name}
    if Student.objects.filter(
        university=pending.university, student_number=number, is_pending=False
    ).exists():
        raise ValidationError({"student_number": taken})
    try:
        with transaction.atomic():
            pending.student_number, pending.is_pending = number, False
            pending.save(update_fields=["student_number", "is_pending"])
            append(
                [
                    entry_for(
                        "people.student.self_referral_confirmed",
                        actor,
                        pending,
                        category="identity",
                        service=referral.to_service,
                        reason=f"Confirmed as a new student by {referral.to_service}"
                        + (" (told of a possible duplicate: a different person)" if found else ""),
                        request=request,
                    )
                ]
            )
    except IntegrityError as error:  # the number was taken a moment ago
        raise ValidationError({"student_number": taken}) from error
    return Referral.objects.select_related("student").get(pk=referral.pk)


def _merged_entries(actor: User, referral: Referral, request: HttpRequest | None):
    def entries(plan: MergePlan) -> list[Entry]:
        why = f"Self-referral to {referral.to_service} confirmed as this student"
        return [
            entry_for(
                "people.student.self_referral_confirmed",
                actor,
                plan.kept,
                category="identity",
                service=referral.to_service,
                reason=f"{why}: pending record {plan.merged.uuid} merged into this one",
                request=request,
            ),
            entry_for(
                "people.student.merged_away",
                actor,
                plan.merged,
                category="identity",
                service=referral.to_service,
                reason=f"{why} {plan.kept.uuid}; this record is kept only so that its audit "
                "entries resolve",
                request=request,
            ),
        ]

    return entries


def reject_self_referral(
    *,
    actor: User,
    referral: Referral,
    version: int,
    reason: str,
    signposted_to: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """Triage rejects a pending record's self-referral with a reason a person may be told:
    the referral is declined (its care relationship closes), and the person is emailed in
    plain words, with where else to turn and no clinical detail."""
    _check_triage(referral)
    if not rules.may_reject_for(reason):
        raise ValidationError({"reason": _("Choose the reason for rejecting.")})
    with transaction.atomic():
        referral = referrals.decline_referral(
            actor=actor,
            referral=referral,
            version=version,
            reason=reason,
            signposted_to=signposted_to,
            request=request,
        )
        if referral.student.email:
            transaction.on_commit(lambda: tasks.email_rejected.enqueue(referral.pk))
    return referral
