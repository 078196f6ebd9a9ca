"""What an organisation's admin sees of its members' work: of their emergency overrides,
never who the student is or anything clinical, only who used it, why, what kinds of record
it read, and the review; of the audit log, the entries its members wrote."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import AgreementSide, BreakGlass, Category, DataSharingAgreement
from joinedup.consent.policy import seats_of
from joinedup.governance import rules
from joinedup.people.models import Department, Organisation, Role, Service, Student, User


def organisations_reviewed_by(user: User) -> list[int]:
    """The organisations whose overrides `user` reviews: those they are an admin of."""
    return list(
        user.memberships.filter(role=Role.ORG_ADMIN).values_list("organisation_id", flat=True)
    )


def require_admin_of(user: User, organisation_id: int) -> None:
    """Refuse (PermissionDenied) unless `user` is an admin of the organisation."""
    if organisation_id not in organisations_reviewed_by(user):
        raise PermissionDenied


def overrides_for(user: User) -> QuerySet[BreakGlass]:
    """Every override used from an organisation `user` is an admin of, whether or not its user
    still works there, those not yet reviewed first, then the latest."""
    return (
        BreakGlass.objects.filter(organisation_id__in=organisations_reviewed_by(user))
        .select_related("user", "review__reviewed_by", "escalation")
        .order_by(F("review__id").asc(nulls_first=True), "-opened_at")
    )


# An override's own opening is written a moment before the access it opens begins.
OVERRIDE_OPENING = timedelta(seconds=60)


def administered_by(user: User) -> set[int]:
    """The organisations `user` is an admin of, from the seats the header has already read
    (no query): for the header's counts."""
    return {seat.organisation_id for seat in seats_of(user) if seat.role == Role.ORG_ADMIN}


def overrides_to_review(user: User) -> int:
    """How many overrides that have ended wait for a review: the count beside "Emergency
    access reviews" in the header. One query."""
    return BreakGlass.objects.filter(
        organisation_id__in=administered_by(user), review__isnull=True,
        expires_at__lte=timezone.now(),
    ).count()  # fmt: skip


@dataclass(frozen=True)
class OverrideFacts:
    access: BreakGlass
    place: str  # the service (and organisation) it was used from
    read: list[str]  # the data categories read under it
    reads: int
    student_told: bool  # the student asks (now) to be told of every emergency access
    overdue: bool
    still_open: bool  # in force still: reviewed once it has ended


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
             and abs(at - access.opened_at) < OVERRIDE_OPENING),
            "",
        )  # fmt: skip
        found.append(OverrideFacts(
            access=access, place=place, reads=len(during),
            read=[str(Category(c).label) for c in dict.fromkeys(during) if c in Category.values],
            student_told=access.student.notify_break_glass,
            overdue=rules.is_overdue(access.opened_at, now, reviewed=hasattr(access, "review")),
            still_open=access.expires_at > now,
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
    reads_only: bool = False  # only reads of the record, allowed or refused
    override: BreakGlass | None = None  # what was done under this override, while it lasted


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
    if search.reads_only:
        entries = entries.filter(allowed__isnull=False)
    if access := search.override:
        entries = entries.filter(actor=access.user, student=access.student,
                                 at__gte=access.opened_at - OVERRIDE_OPENING,
                                 at__lte=access.expires_at)  # fmt: skip
    return entries.select_related("actor", "student").order_by("-seq")


def override_referenced(user: User, reference) -> BreakGlass | None:
    """The override with this audit reference, if it was used from an organisation of
    `user`'s (else None: another organisation's is not theirs to search)."""
    return overrides_for(user).filter(uuid=reference).first()


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


@dataclass(frozen=True)
class AgreementFacts:
    """An agreement as one party's admin sees it: both sides, whether data flows under it
    today, and what to act on."""

    agreement: DataSharingAgreement
    mine: list[AgreementSide]  # the sides of organisations `user` is an admin of
    sides: list[AgreementSide]
    in_force: bool
    waiting_for: list[str]  # organisations that have not activated it (or suspended it)
    warnings: list[str]
    # Other agreements between the same organisations in force now: what they cover is
    # shared under them whatever happens to this one.
    alongside: list[str] = field(default_factory=list)


def agreements_of(user: User, today: date | None = None) -> list[AgreementFacts]:
    """The agreements an organisation of `user`'s is party to, newest first (three queries)."""
    today = today or timezone.localdate()
    mine = set(organisations_reviewed_by(user))
    agreements = (
        DataSharingAgreement.objects.filter(sides__organisation_id__in=mine)
        .distinct()
        .prefetch_related("sides__organisation", "sides__changed_by")
        .order_by("-drafted_at", "-pk")
    )
    facts = [_facts(agreement, mine, today) for agreement in agreements]
    in_force: dict[frozenset, list[str]] = {}
    for f in facts:
        if f.in_force:
            in_force.setdefault(_between(f), []).append(f.agreement.title)
    return [
        replace(f, alongside=[t for t in in_force.get(_between(f), []) if t != f.agreement.title])
        for f in facts
    ]


def _between(facts: "AgreementFacts") -> frozenset:
    return frozenset(side.organisation_id for side in facts.sides)


def agreement_of(user: User, agreement_uuid) -> AgreementFacts | None:
    found = [f for f in agreements_of(user) if str(f.agreement.uuid) == str(agreement_uuid)]
    return found[0] if found else None


def _facts(agreement: DataSharingAgreement, mine: set[int], today: date) -> AgreementFacts:
    sides = sorted(agreement.sides.all(), key=lambda s: s.organisation.name)
    return AgreementFacts(
        agreement=agreement,
        mine=[s for s in sides if s.organisation_id in mine],
        sides=sides,
        in_force=agreement.in_force_on(today),
        waiting_for=[s.organisation.name for s in sides if not s.active],
        warnings=rules.agreement_warnings(agreement.ends_on, agreement.review_on, today),
    )


def agreements_to_act_on(user: User) -> int:
    """How many agreements not yet ended wait for `user`'s organisation to activate them
    for the first time, or warn of an end or review: the count beside "Data sharing
    agreements" in the header. One query (the seats are the header's already)."""
    today = timezone.localdate()
    mine = administered_by(user)
    sides = (
        AgreementSide.objects.filter(organisation_id__in=mine)
        .values_list(
            "agreement_id", "active", "changed_at", "agreement__ends_on", "agreement__review_on"
        )
        .filter(agreement__withdrawn_at__isnull=True)
    )
    return len({
        agreement for agreement, active, changed_at, ends_on, review_on in sides
        if not (ends_on and ends_on < today)
        and ((not active and changed_at is None)
             or rules.agreement_warnings(ends_on, review_on, today))
    })  # fmt: skip


@dataclass(frozen=True)
class ServiceMonth:
    """One service's emergency accesses opened in a month, and how their reviews stand."""

    place: str
    used: int
    appropriate: int
    not_appropriate: int
    waiting: int
    overdue: int


def opened_in(month: date) -> Q:
    """Overrides opened in the month starting `month`, UK time."""
    zone = timezone.get_current_timezone()
    return Q(
        opened_at__gte=datetime.combine(month, time.min, zone),
        opened_at__lt=datetime.combine(rules.add_months(month, 1), time.min, zone),
    )


def monthly_summary(user: User, month: date) -> list[ServiceMonth]:
    """Per service (where the member was working when they opened it), the overrides used by
    members of `user`'s organisations in the month starting `month`."""
    accesses = list(overrides_for(user).filter(opened_in(month)))
    rows: dict[str, list[OverrideFacts]] = {}
    for facts in facts_of(accesses):
        rows.setdefault(facts.place or _("Place not recorded"), []).append(facts)

    def outcome(facts: OverrideFacts) -> str:
        return facts.access.review.outcome if hasattr(facts.access, "review") else ""

    return [
        ServiceMonth(
            place=place, used=len(found),
            appropriate=sum(outcome(f) == rules.APPROPRIATE for f in found),
            not_appropriate=sum(outcome(f) == rules.NOT_APPROPRIATE for f in found),
            waiting=sum(not outcome(f) for f in found),
            overdue=sum(f.overdue for f in found),
        )
        for place, found in sorted(rows.items())
    ]  # fmt: skip
