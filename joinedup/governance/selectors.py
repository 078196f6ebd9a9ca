"""What an organisation's admin sees of its members' work: of their emergency overrides,
never who the student is or anything clinical, only who used it, why, what kinds of record
it read, and the review; of the audit log, the entries its members wrote."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import BreakGlass, Category
from joinedup.governance import rules
from joinedup.people.models import Department, Organisation, Role, Service, Student, User


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


@dataclass(frozen=True)
class AuditSearch:
    """What a data protection officer asks of the audit log: entries written by members of
    their organisations within a period (dates inclusive, in local time), about one student
    (by student number or NHS number), by one member of staff (words of their name or
    email), from one service or department."""

    start: date
    end: date
    student: str = ""
    staff: str = ""
    place: str = ""


def places_of(user: User) -> list[str]:
    """The services and departments of the organisations `user` is an admin of, by name."""
    orgs = organisations_reviewed_by(user)
    names = {
        *Service.objects.filter(organisation_id__in=orgs).values_list("name", flat=True),
        *Department.objects.filter(organisation_id__in=orgs).values_list("name", flat=True),
    }
    return sorted(names)


def students_numbered(identifier: str) -> QuerySet[Student]:
    """The student records (merged ones too) with this student number or NHS number."""
    text = identifier.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    match = Q(student_number__iexact=text)
    if len(digits) == 10:
        match |= Q(nhs_number=digits)
    return Student.records.filter(match)


def audit_entries(user: User, search: AuditSearch) -> QuerySet[AuditEvent]:
    """The entries `search` finds, newest first: only those written by members of the
    organisations `user` is an admin of, as the entry recorded their organisation."""
    names = Organisation.objects.filter(pk__in=organisations_reviewed_by(user)).values("name")
    zone = timezone.get_current_timezone()
    entries = AuditEvent.objects.filter(
        actor_organisation__in=names,
        at__gte=datetime.combine(search.start, time.min, zone),
        at__lt=datetime.combine(search.end + timedelta(days=1), time.min, zone),
    )
    if search.student:
        entries = entries.filter(student__in=students_numbered(search.student).values("pk"))
    for word in search.staff.split():
        entries = entries.filter(
            Q(actor_email__icontains=word)
            | Q(actor__first_name__icontains=word)
            | Q(actor__last_name__icontains=word)
        )
    if search.place:
        entries = entries.filter(actor_service=search.place)
    return entries.select_related("actor", "student").order_by("-seq")


def read_in_words(entry: AuditEvent) -> str:
    """What an entry did, as a data protection officer says it: "Read: Risk", "Refused:
    Notes", or the change it records."""
    label = str(Category(entry.category).label) if entry.category in Category.values else ""
    if entry.allowed is True:
        return _("Read: %(what)s") % {"what": label} if label else _("Read")
    if entry.allowed is False:
        return _("Refused: %(what)s") % {"what": label} if label else _("Refused")
    return label


def reason_of(entry: AuditEvent) -> str:
    """An entry's reason as an admin may read it (`rules.shows_reason`)."""
    if rules.shows_reason(allowed=entry.allowed, category=entry.category, action=entry.action):
        return entry.reason
    return _("Withheld: it may describe the student's care.") if entry.reason else ""
