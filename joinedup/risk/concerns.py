"""Concerns raised by staff or fellow students: to the triage of the student's university
wellbeing service, with a response clock and a thread that carries no clinical detail."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import decide
from joinedup.consent.services import open_care_relationship, release_care_relationship
from joinedup.people.models import Service, Student
from joinedup.risk import rules, tasks
from joinedup.risk.models import Concern, ConcernMessage


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def universities_of(reporter) -> list[int]:
    """The universities a concern from `reporter` may be about: where they work or study."""
    universities = {m.organisation_id for m in reporter.memberships.all()}
    own = getattr(reporter, "student_record", None)
    if own is not None:
        universities.add(own.university_id)
    return sorted(universities)


def find_student_for_concern(reporter, student_number: str) -> Student | None:
    """The student a concern is about, by student number at the reporter's university, or
    None. The concern is raised either way and the reporter told the same: whether a number
    exists is not theirs to learn."""
    number = student_number.strip()
    if not number:
        return None
    return Student.objects.filter(
        student_number__iexact=number, university_id__in=universities_of(reporter)
    ).first()


def raise_concern(
    *,
    reporter,
    student,
    observed: str,
    urgency: str,
    student_knows: str,
    student_agreed: bool,
    anonymous: bool = False,
    student_number: str = "",
    request=None,
) -> tuple[Concern, str]:
    """Raise a concern; returns it and, for an anonymous student, the private code with
    which they read replies (shown once, stored only as a digest).

    Without a `student`, a `student_number` that matched no one goes to the triage of the
    reporter's university, who check it with the reporter."""
    number = (student.student_number if student else student_number).strip()
    errors = {}
    if student is None and not number:
        errors["student_number"] = _("Say which student you are worried about.")
    if not observed.strip():
        errors["observed"] = _("Say what you observed.")
    if urgency not in Concern.Urgency.values:
        errors["urgency"] = _("Say how urgent it feels.")
    if student_knows not in Concern.Knows.values:
        errors["student_knows"] = _("Say whether the student knows you are raising this.")
    universities = [student.university_id] if student else universities_of(reporter)
    service = (
        Service.objects.filter(organisation_id__in=universities, kind=Service.Kind.WELLBEING)
        .order_by("pk")
        .first()
    )
    if number and service is None:
        errors["student_number"] = _("There is no university wellbeing service here to send it to.")
    if errors:
        raise ValidationError(errors)
    is_student = hasattr(reporter, "student_record")
    code = secrets.token_urlsafe(9) if anonymous and is_student else ""
    now = timezone.now()
    with transaction.atomic():
        concern = Concern.objects.create(
            student=student,
            student_number_given=number,
            service=service,
            reporter=None if code else reporter,
            is_from_student=is_student,
            code_digest=digest(code) if code else "",
            observed=observed.strip(),
            urgency=urgency,
            student_knows=student_knows,
            student_agreed=student_agreed,
            raised_at=now,
            due_at=rules.concern_due_at(now, urgency),
        )
        if student is not None:
            open_care_relationship(
                student=student,
                service=service,
                reason=CareRelationship.Reason.CONCERN,
                actor=reporter,
            )
        append(
            [
                Entry(
                    "risk.concern.raised",
                    actor=None if code else reporter,
                    student=student,
                    category="risk",
                    reason=concern.get_urgency_display(),
                    request_id=request_id_of(request),
                )
            ]
        )
        transaction.on_commit(lambda: tasks.email_concern_raised.enqueue(concern.pk))
    return concern, code


def acknowledge_concern(*, actor, concern: Concern, request=None) -> Concern:
    """Triage picks the concern up; the person who raised it is told."""
    with transaction.atomic():
        if not Concern.objects.filter(pk=concern.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=actor
        ):
            raise ValidationError(_("This concern has already been acknowledged."))
        append(
            [
                Entry(
                    "risk.concern.acknowledged",
                    actor=actor,
                    student=concern.student,
                    category="risk",
                    request_id=request_id_of(request),
                )
            ]
        )
        transaction.on_commit(lambda: tasks.email_concern_acknowledged.enqueue(concern.pk))
    concern.refresh_from_db()
    return concern


CLOSED = gettext_lazy(
    "This concern is closed, so nobody would read a message here. If you are worried again, "
    "raise a new concern."
)


def add_message(
    *, concern: Concern, text: str, actor=None, from_reporter: bool, request=None
) -> ConcernMessage:
    """A message in the concern's thread: triage asks, the reporter adds what they see. A
    closed concern takes no more: nobody would read it."""
    if concern.outcome:
        raise ValidationError({"text": CLOSED})
    if not text.strip():
        raise ValidationError({"text": _("Write your message.")})
    with transaction.atomic():
        message = ConcernMessage.objects.create(
            concern=concern, from_reporter=from_reporter, author=actor, text=text.strip()
        )
        append(
            [
                Entry(
                    "risk.concern.message",
                    actor=actor,
                    student=concern.student,
                    category="risk",
                    request_id=request_id_of(request),
                )
            ]
        )
        if not from_reporter and concern.reporter_id:
            transaction.on_commit(lambda: tasks.email_concern_reply.enqueue(concern.pk))
    return message


def record_concern_outcome(*, actor, concern: Concern, outcome: str, request=None) -> Concern:
    """Close the concern with its outcome: the service's access that came with it ends, and
    the person who raised it is told it was closed (never what was decided)."""
    if outcome not in Concern.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    with transaction.atomic():
        now = timezone.now()
        Concern.objects.filter(pk=concern.pk).update(
            outcome=outcome,
            outcome_at=now,
            acknowledged_at=concern.acknowledged_at or now,
            acknowledged_by=concern.acknowledged_by or actor,
        )
        append(
            [
                Entry(
                    "risk.concern.outcome",
                    actor=actor,
                    student=concern.student,
                    category="risk",
                    reason=outcome,
                    request_id=request_id_of(request),
                )
            ]
        )
        if (
            concern.student is not None
            and not Concern.objects.filter(
                student=concern.student, service=concern.service, outcome=""
            ).exists()
        ):
            # The concern was the reason for the service's access; it ends with it.
            release_care_relationship(
                student=concern.student,
                service=concern.service,
                reason=CareRelationship.Reason.CONCERN,
                because=CareRelationship.Ending.CONCERN_CLOSED,
                actor=actor,
            )
        transaction.on_commit(lambda: tasks.email_concern_closed.enqueue(concern.pk))
    concern.refresh_from_db()
    return concern


def shared_with_reporter(concern: Concern, reporter) -> str:
    """What the reporter may learn afterwards: only what the student shares with them (for
    an academic, their department) — never clinical detail."""
    if (
        reporter is None
        or concern.student is None
        or not decide(reporter, concern.student, "engagement", purpose="academic_support").allowed
    ):
        return ""
    if (
        CareRelationship.objects.open()
        .filter(student=concern.student)
        .exclude(reason=CareRelationship.Reason.CONCERN)
        .exists()
    ):
        return _("The student is in contact with support.")
    return ""
