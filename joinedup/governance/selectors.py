"""What an organisation's admin sees of its members' emergency overrides: never who the
student is or anything clinical; who used it, why, what kinds of record it read, and the
review."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, QuerySet
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import BreakGlass, Category
from joinedup.governance import rules
from joinedup.people.models import Role, User


def organisations_reviewed_by(user: User) -> list[int]:
    """The organisations whose overrides `user` reviews: those they are an admin of."""
    return list(
        user.memberships.filter(role=Role.ORG_ADMIN).values_list("organisation_id", flat=True)
    )


def overrides_for(user: User) -> QuerySet[BreakGlass]:
    """Every override used by a member of an organisation `user` is an admin of, those not
    yet reviewed first, then the latest."""
    return (
        BreakGlass.objects.filter(
            user__memberships__organisation_id__in=organisations_reviewed_by(user)
        )
        .distinct()
        .select_related("user", "review__reviewed_by")
        .order_by(F("review__id").asc(nulls_first=True), "-opened_at")
    )


@dataclass(frozen=True)
class OverrideFacts:
    access: BreakGlass
    place: str  # the service (and organisation) it was used from
    read: list[str]  # the data categories read under it
    reads: int
    student_told: bool  # the student asks (now) to be told of every emergency access
    overdue: bool


def facts_of(accesses: list[BreakGlass], now: datetime | None = None) -> list[OverrideFacts]:
    """What each override did, from the audit log (two queries for the lot)."""
    now = now or timezone.now()
    opened = {
        (e.actor_id, e.student_id, e.at): f"{e.actor_service}, {e.actor_organisation}"
        for e in AuditEvent.objects.filter(
            action="consent.break_glass.opened",
            student_id__in={a.student_id for a in accesses},
        )
    }
    reads = AuditEvent.objects.filter(
        basis="break_glass", allowed=True, student_id__in={a.student_id for a in accesses}
    ).values_list("actor_id", "student_id", "at", "category")
    found = []
    for access in accesses:
        during = [
            category for actor, student, at, category in reads
            if actor == access.user_id and student == access.student_id
            and access.opened_at <= at <= access.expires_at
        ]  # fmt: skip
        place = next(
            (where for (actor, student, at), where in opened.items()
             if actor == access.user_id and student == access.student_id
             and abs((at - access.opened_at).total_seconds()) < 60),
            "",
        )  # fmt: skip
        found.append(OverrideFacts(
            access=access, place=place, reads=len(during),
            read=[str(Category(c).label) for c in dict.fromkeys(during) if c in Category.values],
            student_told=access.student.notify_break_glass,
            overdue=rules.is_overdue(access.opened_at, now, reviewed=hasattr(access, "review")),
        ))  # fmt: skip
    return found
