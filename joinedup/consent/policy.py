"""The access policy: the one gate for every read of a student's personal data.

`decide()` gathers the facts about a user and a student, applies the pure rule in
`joinedup.consent.rules`, and writes the decision (allowed or refused) to the audit log.
`readable_students()` is the same rule as a QuerySet filter, for list pages.
"""

from collections.abc import Callable, Collection, Iterable
from itertools import combinations
from typing import cast
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, Model, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.models import AuditEvent
from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import (
    BreakGlass,
    CareRelationship,
    ConsentGrant,
    DataSharingAgreement,
    agreement_in_force,
)
from joinedup.consent.rules import (
    ACADEMIC_NEVER,
    CATEGORIES,
    CLINICAL_ROLES,
    SERVICE_ONLY,
    STUDENT_LEVEL,
    Decision,
    Facts,
    Grant,
    Seat,
    decide_access,
)
from joinedup.people.models import Department, Service, Student, User
from joinedup.people.services import notify_student

__all__ = [
    "Decision",
    "current_basis",
    "decide",
    "decide_as",
    "decide_for_service",
    "decide_many",
    "department_seat",
    "grants_reaching",
    "readable_rows",
    "readable_students",
    "reading_purpose",
    "seats_of",
    "service_ids_of",
]

# Who reads: a user signed in (staff or a student), or no one.
type Reader = User | AnonymousUser
# Active data sharing agreements: (lower organisation id, higher one, category, purpose).
type Agreements = frozenset[tuple[int, int, str, str]]


def decide(
    user: Reader,
    student: Student,
    category: str,
    purpose: str = "direct_care",
    *,
    request: HttpRequest | None = None,
) -> Decision:
    """Decide and audit one read of `category` of `student`'s data by `user`."""
    return decide_many(user, student, [category], purpose, request=request)[category]


def decide_many(
    user: Reader,
    student: Student,
    categories: Iterable[str] = CATEGORIES,
    purpose: str = "direct_care",
    *,
    request: HttpRequest | None = None,
    action: str = "record.read",
    gate: str | None = None,
) -> dict[str, Decision]:
    """Decide several categories at once (one set of queries), auditing each decision.

    With `gate` (a category), nothing else is read when the gate is refused: only that
    refusal is returned and audited, as when a page needs the student's identity first.
    """
    facts = gather_facts(user, student)
    decisions = {category: decide_access(facts, category, purpose) for category in categories}
    if gate is not None and not decisions[gate].allowed:
        decisions = {gate: decisions[gate]}
    seqs = append(
        [_entry(user, student, category, d, action, request) for category, d in decisions.items()]
    )
    if student.notify_new_access:
        _tell_of_first_access(student, decisions, seqs)
    return decisions


def _tell_of_first_access(student: Student, decisions: dict[str, Decision], seqs: range) -> None:
    """The student asked to be told the first time a new service opens their record."""
    seat = next((d.seat for d in decisions.values() if d.allowed and d.basis != "self"), None)
    if seat is None:
        return
    earlier = AuditEvent.objects.filter(
        student=student, allowed=True, actor_service=seat.place, seq__lt=seqs[0]
    )
    if not earlier.exists():
        with student.in_own_language():
            notify_student(
                student,
                _("%(service)s (%(organisation)s) opened your record for the first time.")
                % {"service": seat.place, "organisation": seat.organisation_name},
            )


def _entry(
    user: Reader,
    student: Student,
    category: str,
    decision: Decision,
    action: str,
    request: HttpRequest | None,
) -> Entry:
    seat = decision.seat
    return Entry(
        action=action,
        actor=user,
        student=student,
        category=category,
        allowed=decision.allowed,
        basis=decision.basis,
        reason=decision.reason,
        actor_role="student" if decision.basis == "self" else (seat.role if seat else ""),
        actor_service=seat.place if seat else "",
        actor_organisation=seat.organisation_name if seat else "",
        request_id=request_id_of(request),
    )


def seats_of(user: Reader) -> tuple[Seat, ...]:
    """The user's memberships as seats, cached on the user object for the request."""
    if not user.is_authenticated:
        return ()
    cached = getattr(user, "_joinedup_seats", None)
    if cached is None:
        cached = tuple(
            Seat(
                role=m.role,
                organisation_id=m.organisation_id,
                organisation_name=m.organisation.name,
                service_id=m.service_id,
                service_name=m.service.name if m.service else "",
                department_id=m.department_id,
                department_name=m.department.name if m.department else "",
            )
            for m in user.memberships.select_related("organisation", "service", "department")
        )
        user._joinedup_seats = cached  # type: ignore[attr-defined]  # a cache for the request
    return cached


def service_ids_of(user: Reader) -> list[int]:
    """The services the user works in (every seat that has one)."""
    return [s.service_id for s in seats_of(user) if s.service_id]


def reading_purpose(user: Reader) -> str:
    """The purpose a user reads a record for: academic support for academic staff who hold
    no clinical role, direct care for everyone else."""
    roles = {seat.role for seat in seats_of(user)}
    if "academic" in roles and not roles & CLINICAL_ROLES:
        return "academic_support"
    return "direct_care"


def gather_facts(user: Reader, student: Student) -> Facts:
    seats = seats_of(user)
    if user.is_authenticated and student.user_id == user.pk:
        return Facts(seats=seats, is_self=True)
    return _facts_for_seats(seats, student, user=user)


def _facts_for_seats(
    seats: tuple[Seat, ...], student: Student, *, user: Reader | None = None
) -> Facts:
    if not seats:
        return Facts(seats=())
    now = timezone.now()
    involvement = CareRelationship.objects.filter(student=student).values_list(
        "service_id", "service__organisation_id", "closed_at", "reason"
    )
    involved = frozenset((service, org) for service, org, _, _ in involvement)
    relationships = frozenset(
        (service, org) for service, org, closed_at, _ in involvement if closed_at is None
    )
    former = frozenset(
        service
        for service, _, closed_at, reason in involvement
        if closed_at is not None and reason in TOOK_ON
    )
    grants = tuple(
        Grant(*row)
        for row in ConsentGrant.objects.active(now)
        .filter(student=student)
        .values_list(
            "category",
            "purpose",
            "recipient_service_id",
            "recipient_department_id",
            "recipient_organisation_id",
        )
    )
    break_glass = (
        user is not None
        and any(s.role in CLINICAL_ROLES for s in seats)
        # Only a signed-in user has seats.
        and BreakGlass.objects.active(now).filter(user=cast(User, user), student=student).exists()
    )
    return Facts(
        seats=seats,
        university_id=student.university_id,
        department_id=student.department_id,
        relationships=relationships,
        involved=involved,
        former=former,
        grants=grants,
        agreements=_agreements_of({s.organisation_id for s in seats}),
        break_glass=break_glass,
    )


def decide_for_service(
    service: Service, student: Student, category: str, purpose: str = "direct_care"
) -> Decision:
    """What a practitioner of `service` would be allowed to read, without auditing (no one
    reads anything): whether consent lets a referral carry a category to that service."""
    return decide_as(service_seat(service), student, [category], purpose)[category]


def decide_as(
    seat: Seat,
    student: Student,
    categories: Iterable[str] = CATEGORIES,
    purpose: str = "direct_care",
) -> dict[str, Decision]:
    """What a member of staff in `seat` would be allowed to read of each category, decided
    in one pass without auditing: what the student's consent page and preview show of a
    recipient, so they show what the policy applies."""
    facts = _facts_for_seats((seat,), student)
    return {category: decide_access(facts, category, purpose) for category in categories}


def service_seat(service: Service) -> Seat:
    """The seat a service's staff read in: a student liaison service's staff are liaison
    workers, every other service's practitioners."""
    return Seat(
        role="liaison" if service.kind == "student_liaison" else "practitioner",
        organisation_id=service.organisation_id,
        organisation_name=service.organisation.name,
        service_id=service.pk,
        service_name=service.name,
    )


def department_seat(department: Department) -> Seat:
    """The seat an academic department's staff read in (for academic support)."""
    return Seat(
        role="academic",
        organisation_id=department.organisation_id,
        organisation_name=department.organisation.name,
        department_id=department.pk,
        department_name=department.name,
    )


def grants_reaching(
    student: Student, seat: Seat, category: str, purpose: str
) -> QuerySet[ConsentGrant]:
    """The student's active consent grants through which `seat` may read `category`: to
    its service, its department or its whole organisation (what `rules._consented` asks,
    as a query). Withdrawing them all stops that path at the next request."""
    return ConsentGrant.objects.active().filter(
        _recipient(seat), student=student, category=category, purpose=purpose
    )


def _recipient(seat: Seat) -> Q:
    """Grants whose recipient is this seat: its organisation, its department, and (for a
    clinical seat) its service."""
    recipient = Q(recipient_organisation_id=seat.organisation_id)
    if seat.department_id:
        recipient |= Q(recipient_department_id=seat.department_id)
    if seat.role in CLINICAL_ROLES and seat.service_id:
        recipient |= Q(recipient_service_id=seat.service_id)
    return recipient


def consents_given_to(seats: Collection[Seat], user: Reader | None = None) -> Q:
    """The consent grants naming one of these seats' services, departments or
    organisations as recipient, or recorded by `user`: what a partial view of the
    student's engagement lists (the list names recipients)."""
    given = (
        Q(recipient_service_id__in=[s.service_id for s in seats if s.service_id])
        | Q(recipient_department_id__in=[s.department_id for s in seats if s.department_id])
        | Q(recipient_organisation_id__in=[s.organisation_id for s in seats])
    )
    return given | Q(recorded_by=user) if user is not None else given


def _active_agreements(organisation_ids: Collection[int]) -> QuerySet[DataSharingAgreement]:
    return (
        DataSharingAgreement.objects.filter(
            agreement_in_force(timezone.localdate()), organisations__in=organisation_ids
        )
        .prefetch_related("organisations")
        .distinct()
    )


def _agreements_of(organisation_ids: Collection[int]) -> Agreements:
    covered: set[tuple[int, int, str, str]] = set()
    for agreement in _active_agreements(organisation_ids):
        org_ids = sorted(o.pk for o in agreement.organisations.all())
        for low, high in combinations(org_ids, 2):
            for category in agreement.categories:
                for purpose in agreement.purposes:
                    covered.add((low, high, category, purpose))
    return frozenset(covered)


def _agreements_reaching(user: Reader, seats: tuple[Seat, ...]) -> Agreements:
    """The agreements covering the user's organisations, cached on the user object for the
    request, as its seats are (a page asks the policy about several lists)."""
    cached = getattr(user, "_joinedup_agreements", None)
    if cached is None:
        cached = _agreements_of({s.organisation_id for s in seats})
        if user.is_authenticated:
            user._joinedup_agreements = cached  # type: ignore[attr-defined]  # for the request
    return cached


def _partners(
    agreements: Agreements, organisation_id: int, category: str, purpose: str
) -> set[int]:
    partners: set[int] = set()
    for low, high, cat, pur in agreements:
        if cat == category and pur == purpose and organisation_id in (low, high):
            partners.add(high if low == organisation_id else low)
    return partners


_ALL_BASES = ("self", "relationship", "department", "consent", "break_glass", "authored")
# The reasons for which a service took the student on: once they end, the service still
# reads what it wrote (`rules._authored`); a concern's end leaves it nothing.
TOOK_ON = (CareRelationship.Reason.REFERRAL, CareRelationship.Reason.EPISODE)


def _took_on(service_id: int) -> QuerySet[CareRelationship]:
    """The closed relationships through which `service_id` took students on."""
    return CareRelationship.objects.filter(
        service_id=service_id, closed_at__isnull=False, reason__in=TOOK_ON
    )


def readable_students(
    user: Reader,
    category: str,
    purpose: str = "direct_care",
    *,
    bases: Collection[str] = _ALL_BASES,
    among: Collection[int] | None = None,
) -> QuerySet[Student]:
    """The students whose `category` `user` may read: `decide_access` as one SQL filter.

    `bases` narrows the list (the caseload uses only care relationships). `among` (student
    ids) asks about a known few, which keeps each basis's subquery small. This makes no
    audit entry; a page that shows the rows audits what it shows.
    """
    seats = seats_of(user)
    agreements = _agreements_reaching(user, seats)
    condition = _readable(user, seats, agreements, category, purpose, bases, among)
    students = Student.objects.filter(condition)
    return students if among is None else students.filter(pk__any_of=frozenset(among))


def _readable(
    user: Reader,
    seats: tuple[Seat, ...],
    agreements: Agreements,
    category: str,
    purpose: str,
    bases: Collection[str],
    among: Collection[int] | None,
) -> Q:
    """`readable_students` as a condition on Student, the agreements fetched already."""
    condition = Q(pk__in=[])
    for source in _readable_sources(user, seats, agreements, category, purpose, bases, among):
        condition |= Q(pk__in=source)
    return condition


def _readable_sources(
    user: Reader,
    seats: tuple[Seat, ...],
    agreements: Agreements,
    category: str,
    purpose: str,
    bases: Collection[str],
    among: Collection[int] | None,
) -> list[QuerySet[Model, dict[str, int]]]:
    """The readable students as a union of id subqueries, one per basis and seat, each
    driven from its own (small, indexed) rows: the student is theirs, in the service's
    care, in the tutor's department, consenting, or opened by an override. A list of rows
    about students can then be filtered by these directly, never scanning every student of
    a hub (a condition on the Student table would: it is an OR of unlike terms)."""

    def ids(rows: QuerySet[Model], field: str = "student_id") -> QuerySet[Model, dict[str, int]]:
        if among is not None:
            rows = rows.filter(**{f"{field}__any_of": frozenset(among)})
        return rows.values(field)

    now = timezone.now()
    sources: list[QuerySet[Model, dict[str, int]]] = []
    if "self" in bases and user.is_authenticated:
        # A student always reads their own record.
        sources.append(ids(Student.objects.filter(user_id=user.pk), "pk"))
    open_relationship = CareRelationship.objects.open()
    for seat in seats:
        clinical, academic = seat.role in CLINICAL_ROLES, seat.role == "academic"
        if not (clinical or academic) or (academic and category in ACADEMIC_NEVER):
            continue
        if clinical and purpose == "direct_care" and "relationship" in bases and seat.service_id:
            sources.append(ids(open_relationship.filter(service_id=seat.service_id)))
        authored = "authored" in bases and category != "registration"
        if clinical and purpose == "direct_care" and authored and seat.service_id:
            sources.append(ids(_took_on(seat.service_id)))
        if academic and category == "identity" and "department" in bases:
            sources.append(ids(Student.objects.filter(department_id=seat.department_id), "pk"))
        if category in SERVICE_ONLY and not clinical:
            continue
        if "consent" in bases and category not in SERVICE_ONLY:
            universities = {seat.organisation_id} | _partners(
                agreements, seat.organisation_id, category, purpose
            )
            grants = ConsentGrant.objects.active(now).filter(
                _recipient(seat), category=category, purpose=purpose,
                student__university_id__in=universities,
            )  # fmt: skip
            sources.append(ids(grants))
        if clinical and "break_glass" in bases and category not in SERVICE_ONLY:
            # Only a signed-in user has seats.
            sources.append(ids(BreakGlass.objects.active(now).filter(user=cast(User, user))))
    return sources


def readable_rows[M: Model](
    user: Reader,
    category: str,
    rows: QuerySet[M],
    *,
    student: str = "student",
    services: tuple[str, ...] = ("service",),
    purpose: str = "direct_care",
    among: Collection[int] | None = None,
) -> QuerySet[M]:
    """The rows of `rows` (one category's rows, about many students) the user may read:
    `Decision.rows()` as one SQL filter, for searches, lists and exports. A row passes when
    the user may read the student's identity and the category, and either reads the whole
    category (own record, consent, override) or the row was written by one of the user's
    services that is in the student's care. `student` is the path from a row to its
    student; `services` the fields naming the service that wrote it. No audit entry: the
    caller audits the students whose rows it shows. `among` (student ids) narrows the
    policy's subqueries to a known few, as in `readable_students`."""
    key = f"{student}_id" if student else "pk"
    seats = seats_of(user)
    agreements = _agreements_reaching(user, seats)

    def students(category: str, bases: Collection[str] = _ALL_BASES) -> Q:
        # The rows' students filtered by the sources themselves: no scan of every student.
        condition = Q(pk__in=[])
        for source in _readable_sources(user, seats, agreements, category, purpose, bases, among):
            condition |= Q(**{f"{key}__in": source})
        return condition

    if among is not None:
        rows = rows.filter(**{f"{key}__any_of": frozenset(among)})
    rows = rows.filter(students("identity"))
    if category in STUDENT_LEVEL:
        return rows if category == "identity" else rows.filter(students(category))
    passes = students(
        category, ("self", "break_glass") if category in SERVICE_ONLY else _WHOLE_BASES
    )
    if purpose == "direct_care":
        for seat in seats:
            if seat.role in CLINICAL_ROLES and seat.service_id:
                caring = CareRelationship.objects.open().filter(service_id=seat.service_id)
                written = Q(pk__in=[])
                for name in services:
                    written |= Q(**{f"{name}_id": seat.service_id})
                cared = Q(**{f"{key}__in": caring.values("student_id")}) | Q(
                    **{f"{key}__in": _took_on(seat.service_id).values("student_id")}
                )
                passes |= written & cared
    return rows.filter(passes)


# The bases that read the whole of a category (a care relationship reads the own service's
# rows only; see `rules._decide_for_clinician`).
_WHOLE_BASES = ("self", "consent", "break_glass")


def held_elsewhere(decision: Decision, sources: Iterable[tuple[QuerySet[Model], str]]) -> list[str]:
    """The services holding rows that `decision` does not let through, by name: what a
    page says instead of "none" ("Risk: held by Crisis Team — not shared with you").
    `sources` are (QuerySet of one category's rows about the student, service field)
    pairs. Case notes are named too (withheld, not absent), though they never leave the
    service that wrote them. Nothing is named to academic staff, who never learn which
    services know the student."""
    if decision.whole and decision.allowed:
        return []
    if decision.seat is not None and decision.seat.role not in CLINICAL_ROLES:
        return []
    names: set[str] = set()
    for rows, field in sources:
        kept = decision.rows(rows, field).values("pk")
        names.update(rows.exclude(pk__in=kept).values_list(f"{field}__name", flat=True))
    return sorted(names)


def find_student(student_uuid: UUID | str) -> Student:
    """The student with this uuid, or 404. Callers decide access before showing anything.
    The uuid of a record merged into another (a link in an old email) finds the one kept."""
    related = ("university", "department", "gp_practice")
    student = Student.records.select_related(*related).filter(uuid=student_uuid).first()
    if student is not None and student.merged_into_id is not None:
        student = Student.objects.select_related(*related).filter(pk=student.merged_into_id).first()
    if student is None:
        raise Http404("No such student.")
    return student


def current_basis(user: User, student: Student) -> str:
    """The basis on which `user` reads the student's identity now, decided without
    auditing: what a page or action checks before acting in the student's care (a service
    that no longer works with the student, basis "authored", reads what it wrote and does
    nothing more)."""
    return decide_access(gather_facts(user, student), "identity").basis


def get_student_for_user(
    user: Reader, student_uuid: UUID | str, *, request: HttpRequest | None = None
) -> Student:
    """The student, if the policy lets `user` read their identity; else 404 (audited).

    Missing and forbidden look the same, so ids cannot be probed.
    """
    student = find_student(student_uuid)
    if not decide(user, student, "identity", request=request).allowed:
        raise Http404("No such student.")
    return student


def entry_for(
    action: str,
    actor: Reader | None,
    student: Student,
    *,
    category: str,
    service: Service | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Entry:
    """An audit entry for `actor` changing or reading `student`'s data, naming the seat they
    act in (their seat in `service`); the student themselves (or no one signed in, as with
    a questionnaire link) is recorded as the student."""
    seats = seats_of(actor) if actor is not None else ()
    seat = next((s for s in seats if service is not None and s.service_id == service.pk), None)
    is_student = actor is None or getattr(actor, "pk", None) == student.user_id
    return Entry(
        action=action,
        actor=actor,
        student=student,
        category=category,
        reason=reason,
        actor_role=seat.role if seat else ("student" if is_student else ""),
        actor_service=seat.place if seat else "",
        actor_organisation=seat.organisation_name if seat else "",
        request_id=request_id_of(request),
    )


def audit_listing(
    user: Reader,
    students: Iterable[Student],
    *,
    action: str,
    reason: str,
    request: HttpRequest | None = None,
    categories: Callable[[Student], Iterable[str]] = lambda student: ("identity",),
) -> None:
    """Audit each student a list page shows (once each), in the categories it shows, with
    the basis the policy decides for each (a constant number of queries)."""
    shown = list({s.pk: s for s in students}.values())
    wanted = {(student.pk, c) for student in shown for c in categories(student)}
    seats = seats_of(user)
    agreements = _agreements_reaching(user, seats)
    bases = _bases_of(user, seats, agreements, {c for _, c in wanted}, {pk for pk, _ in wanted})
    seat = next((s for s in seats if s.service_id), None)
    append(
        [
            Entry(
                action=action,
                actor=user,
                student=student,
                category=category,
                allowed=student.pk in bases[category],
                basis=bases[category].get(student.pk, "none"),
                reason=reason,
                actor_role=seat.role if seat else "",
                actor_service=seat.place if seat else "",
                actor_organisation=seat.organisation_name if seat else "",
                request_id=request_id_of(request),
            )
            for student in shown
            for category in categories(student)
        ]
    )


def bases_of(
    user: Reader, category: str, student_ids: Iterable[int], purpose: str = "direct_care"
) -> dict[int, str]:
    """The basis on which the user reads `category` of each of these students, as
    `decide_access` would choose it (missing: no basis). Two queries."""
    seats = seats_of(user)
    agreements = _agreements_reaching(user, seats)
    return _bases_of(user, seats, agreements, {category}, student_ids, purpose).get(category, {})


def _bases_of(
    user: Reader,
    seats: tuple[Seat, ...],
    agreements: Agreements,
    categories: Collection[str],
    student_ids: Iterable[int],
    purpose: str = "direct_care",
) -> dict[str, dict[int, str]]:
    """`bases_of` for each of `categories`, in one query."""
    among = frozenset(student_ids)
    if not among or not categories:
        return {}

    def basis(category: str) -> Case:
        order = (
            ("self", "relationship", "department", "consent", "break_glass", "authored")
            if category in STUDENT_LEVEL
            else ("self", "consent", "break_glass", "relationship", "department", "authored")
        )
        return Case(
            *(
                When(
                    _readable(user, seats, agreements, category, purpose, (b,), among),
                    then=Value(b),
                )
                for b in order
            ),
            default=Value("none"),
        )

    named = dict(enumerate(categories))
    found = Student.objects.filter(pk__any_of=among).annotate(
        **{f"basis_{n}": basis(category) for n, category in named.items()}
    )
    bases: dict[str, dict[int, str]] = {category: {} for category in categories}
    for pk, *each in found.values_list("pk", *(f"basis_{n}" for n in named)):
        for n, b in enumerate(each):
            if b != "none":
                bases[named[n]][pk] = b
    return bases
