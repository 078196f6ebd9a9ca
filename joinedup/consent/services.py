"""Changes to consent, care relationships and break-glass access. Each one is audited."""

from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import (
    BreakGlass,
    CareRelationship,
    Category,
    ConsentGrant,
    SharingRequest,
)
from joinedup.consent.policy import current_basis, gather_facts, seats_of
from joinedup.consent.rules import (
    CLINICAL_ROLES,
    STUDENT_WORDS,
    Grant,
    Seat,
    decide_access,
    reason_has_substance,
)
from joinedup.consent.tasks import report_break_glass, tell_asker
from joinedup.people.models import Department, Organisation, Service, Student, User
from joinedup.people.services import notify_student


def _change(action: str, actor: User | None, student: Student | None, category: str = "",
            reason: str = "", request: HttpRequest | None = None, seat: Seat | None = None,
            basis: str = "") -> Entry:  # fmt: skip
    return Entry(
        action=action,
        basis=basis,
        actor=actor,
        student=student,
        category=category,
        reason=reason,
        actor_role=seat.role if seat else ("student" if _is_student(actor, student) else ""),
        actor_service=seat.place if seat else "",
        actor_organisation=seat.organisation_name if seat else "",
        request_id=request_id_of(request),
    )


def _is_student(actor: User | None, student: Student | None) -> bool:
    return (
        actor is not None and student is not None and student.user_id == getattr(actor, "pk", None)
    )


def record_consent(*, actor: User, student: Student, category: str, purpose: str,
                   how_given: str, recipient_service: Service | None = None,
                   recipient_department: Department | None = None,
                   recipient_organisation: Organisation | None = None,
                   valid_from: datetime | None = None, valid_until: datetime | None = None,
                   request: HttpRequest | None = None) -> ConsentGrant:  # fmt: skip
    """Record a consent the student gave, in the portal or to a member of staff.

    A member of staff records one only on a basis other than an emergency override: access
    opened for an emergency must leave nothing lasting behind it, so under an override alone
    the student gives the consent themselves, in their portal.
    """
    if not _is_student(actor, student):
        _check_may_record_for(actor, student)
    grant = ConsentGrant(
        student=student,
        category=category,
        purpose=purpose,
        how_given=how_given,
        recipient_service=recipient_service,
        recipient_department=recipient_department,
        recipient_organisation=recipient_organisation,
        recorded_by=actor,
        valid_from=valid_from or timezone.now(),
        valid_until=valid_until,
    )
    grant.full_clean()
    with transaction.atomic():
        grant.save()
        append(
            [
                _change(
                    "consent.grant.recorded",
                    actor,
                    student,
                    category,
                    f"{grant.get_how_given_display()}: to {grant.recipient}",
                    request,
                )
            ]
        )
    return grant


def _check_may_record_for(actor: User, student: Student) -> None:
    basis = current_basis(actor, student)
    if basis == "authored":
        raise ValidationError(NO_LONGER_IN_CARE)
    if basis == "break_glass":
        raise ValidationError(
            _(
                "You can see this record only through emergency access, which leaves nothing "
                "lasting behind it. Ask the student to share it from their own page, or ask a "
                "colleague in a service involved in their care to record it."
            )
        )


def withdraw_consent(
    *, actor: User, grant: ConsentGrant, request: HttpRequest | None = None
) -> ConsentGrant:
    """Withdraw a consent with immediate effect; the very next request is decided without it."""
    with transaction.atomic():
        grant = ConsentGrant.objects.select_for_update().get(pk=grant.pk)
        if grant.withdrawn_at is not None:
            return grant
        grant.withdrawn_at = timezone.now()
        grant.withdrawn_by = actor
        grant.save(update_fields=["withdrawn_at", "withdrawn_by"])
        append(
            [
                _change(
                    "consent.grant.withdrawn",
                    actor,
                    grant.student,
                    grant.category,
                    f"to {grant.recipient}",
                    request,
                )
            ]
        )
    return grant


def withdraw_all_consents(
    *, actor: User, student: Student, request: HttpRequest | None = None
) -> int:
    grants = list(ConsentGrant.objects.active().filter(student=student))
    for grant in grants:
        withdraw_consent(actor=actor, grant=grant, request=request)
    return len(grants)


def open_care_relationship(
    *, student: Student, service: Service, reason: str, actor: User | None = None
) -> CareRelationship:
    """Open a service's care relationship for `reason` (referrals, episodes and concerns
    call this); one already open for the same reason is reused (two records merged into
    one may bring two: each is kept, and they close together)."""
    with transaction.atomic():
        relationship = (
            CareRelationship.objects.open()
            .filter(student=student, service=service, reason=reason)
            .order_by("opened_at", "pk")
            .first()
        )
        if relationship is None:
            relationship = CareRelationship.objects.create(
                student=student, service=service, reason=reason
            )
            append(
                [
                    _change(
                        "consent.relationship.opened", actor, student, reason=f"{service}: {reason}"
                    )
                ]
            )
    return relationship


def close_care_relationship(
    *,
    relationship: CareRelationship,
    because: str,
    actor: User | None = None,
    at: datetime | None = None,
) -> None:
    """Close the relationship because its reason ended: access it gave ends at once."""
    ending = CareRelationship.Ending(because)
    with transaction.atomic():
        relationship.closed_at = at or timezone.now()
        relationship.ended_because = ending
        relationship.save(update_fields=["closed_at", "ended_because"])
        append(
            [
                _change(
                    "consent.relationship.closed",
                    actor,
                    relationship.student,
                    reason=f"{relationship.service}: {ending.label}",
                )
            ]
        )


def release_care_relationship(
    *, student: Student, service: Service, reason: str, because: str, actor: User | None = None
) -> None:
    """Close the service's open relationship for `reason`: the caller has checked that
    nothing else of that reason (another open referral, episode or concern) still needs it."""
    for relationship in CareRelationship.objects.open().filter(
        student=student, service=service, reason=reason
    ):
        close_care_relationship(relationship=relationship, because=because, actor=actor)


NO_LONGER_IN_CARE = gettext_lazy(
    "Your service no longer works with the student: it keeps what it wrote, and does nothing "
    "more in their care. A service working with them can, or the student from their own page."
)
WEAK_REASON = gettext_lazy(
    "Write the reason: what risk to life makes this access necessary, in a sentence the data "
    "protection officer and the student can read."
)


def open_break_glass(
    *, actor: User, student: Student, reason: str, request: HttpRequest | None = None
) -> BreakGlass:
    """Open time-limited emergency access for a written reason (risk to life).

    Only clinical roles may; the organisation's data protection contact is told by email and
    the student sees it in their access log.
    """
    reason = (reason or "").strip()
    seats = [s for s in seats_of(actor) if s.role in CLINICAL_ROLES]
    if not seats:
        raise ValidationError(_("Only practitioners, triage and liaison staff may do this."))
    if not reason_has_substance(reason):
        raise ValidationError({"reason": WEAK_REASON})
    now = timezone.now()
    with transaction.atomic():
        access = BreakGlass.objects.create(
            user=actor,
            organisation_id=seats[0].organisation_id,
            student=student,
            reason=reason,
            opened_at=now,
            expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
        )
        # The data protection officers of the user's organisation and, when it is another,
        # of the student's university are both told.
        contacts = Organisation.objects.filter(
            pk__in={seats[0].organisation_id, student.university_id}
        ).exclude(data_protection_email="")
        access.reported_to = ", ".join(
            sorted({o.data_protection_email for o in contacts.order_by("pk")})
        )
        access.save(update_fields=["reported_to"])
        append(
            [
                _change(
                    "consent.break_glass.opened",
                    actor,
                    student,
                    reason=reason,
                    request=request,
                    seat=seats[0],
                    basis="break_glass",
                )
            ]
        )
        if access.reported_to:
            transaction.on_commit(lambda: report_break_glass.enqueue(access.pk))
        if student.notify_break_glass:
            with student.in_own_language():
                notify_student(
                    student,
                    # An email may be read by others: the reason is on the record's page only.
                    _(
                        "Emergency access to your record was opened by %(service)s. "
                        "Their reason is under “Who has looked at your record”."
                    )
                    % {"service": seats[0].place},
                )
    return access


def record_refused_break_glass(
    *,
    actor: User,
    request: HttpRequest | None = None,
    why: str = "The details given match no student.",
) -> None:
    """An emergency override refused (details that match no student, a reason that says
    too little): audited, as every attempt at emergency access is."""
    seat = next((s for s in seats_of(actor) if s.role in CLINICAL_ROLES), None)
    append(
        [
            _change(
                "consent.break_glass.refused",
                actor,
                None,
                reason=why,
                request=request,
                seat=seat,
                basis="break_glass",
            )
        ]
    )


def ask_to_share(
    *,
    actor: User,
    student: Student,
    category: str,
    request: HttpRequest | None = None,
    why: str = "",
) -> SharingRequest:
    """Ask the student to share `category` with the actor's service: refused in words when
    a consent could never let the service read it, when it reads it already, or when the
    same question is waiting for an answer. The student is told in their portal and by
    email, in plain words. `why` says what prompted it, when not the actor's own click (a
    discharge asks for the referrer)."""
    seat = next((s for s in seats_of(actor) if s.role in CLINICAL_ROLES and s.service_id), None)
    if seat is None or seat.service_id is None:  # (a seat found has a service)
        raise ValidationError(_("Only a member of a clinical service can ask a student to share."))
    if category not in STUDENT_WORDS:
        raise ValidationError(_("Choose what to ask the student to share."))
    facts = gather_facts(actor, student)
    label = Category(category).label
    identity = decide_access(facts, "identity")
    if not identity.allowed:
        raise ValidationError(_("No such student."))
    if identity.basis == "authored":
        raise ValidationError(NO_LONGER_IN_CARE)
    now = decide_access(facts, category)
    if now.allowed and now.whole:
        raise ValidationError(
            _("You can already see %(what)s from every service.") % {"what": label.lower()}
        )
    consented = replace(
        facts, grants=(*facts.grants, Grant(category, "direct_care", service_id=seat.service_id))
    )
    if_shared = decide_access(consented, category)
    if not (if_shared.allowed and if_shared.whole):
        raise ValidationError(
            _("Even with the student's consent %(service)s could not see this: %(reason)s")
            % {"service": seat.place, "reason": if_shared.limit or if_shared.reason}
        )
    waiting = SharingRequest.objects.waiting().filter(
        student=student, service_id=seat.service_id, category=category
    )
    if earlier := waiting.first():
        raise ValidationError(
            _("%(service)s asked on %(date)s; the student has not answered yet.")
            % {
                "service": seat.place,
                "date": timezone.localtime(earlier.asked_at).strftime("%d %b %Y"),
            }
        )
    with transaction.atomic():
        asked = SharingRequest.objects.create(
            student=student, category=category, service_id=seat.service_id, asked_by=actor
        )
        append([_change("consent.sharing.asked", actor, student, category,
                        why or f"Asked to share with {seat.place}", request, seat)])  # fmt: skip
        with student.in_own_language():
            notify_student(
                student,
                _("%(service)s asks you to share %(what)s. You choose: open your record to say yes "
                  "or no.") % {"service": seat.place, "what": _(STUDENT_WORDS[category])},
            )  # fmt: skip
    return asked


def answer_sharing_request(
    *, actor: User, asked: SharingRequest, share: bool, request: HttpRequest | None = None
) -> SharingRequest:
    """The student answers a sharing request: yes records a consent (given in the portal) to
    the service for direct care; no records the answer. The asker is told by email."""
    student = asked.student
    if not _is_student(actor, student):
        raise ValidationError(_("Only the student can answer this."))
    with transaction.atomic():
        asked = SharingRequest.objects.select_for_update().get(pk=asked.pk)
        if asked.answered_at is not None:
            raise ValidationError(_("You answered this already."))
        if share:
            asked.grant = record_consent(
                actor=actor,
                student=student,
                category=asked.category,
                purpose="direct_care",
                how_given=ConsentGrant.HowGiven.PORTAL,
                recipient_service=asked.service,
                request=request,
            )
        asked.answer = SharingRequest.Answer.YES if share else SharingRequest.Answer.NO
        asked.answered_at = timezone.now()
        asked.save(update_fields=["grant", "answer", "answered_at"])
        append([_change("consent.sharing.answered", actor, student, asked.category,
                        f"{asked.get_answer_display()}: to {asked.service}", request)])  # fmt: skip
        transaction.on_commit(lambda: tell_asker.enqueue(asked.pk))
    return asked
