"""Which rows of each FHIR resource type a user may see, through the access policy.

Every resource about a student belongs to one data category of the policy
(`joinedup.consent.rules.CATEGORIES`), as on the pages:

    Patient                         identity (address, GP and status: registration)
    ServiceRequest, Task,
    EpisodeOfCare, Consent          engagement
    QuestionnaireResponse,
    Observation                     outcomes
    Flag                            risk

A row is visible when the policy lets the user read the student's identity and the row's
category, and passes the decision's row-level answer (`Decision.rows()`; for searches and
exports its SQL twin `readable_rows()`): where the decision covers only the user's own
service (a care relationship without consent), only that service's rows. Organization,
HealthcareService and Questionnaire are the public directory and need no decision. An
AuditEvent is visible to whoever it records (a client sees its own reads) and, in their own
data, to the student.

Two paths, with the same outcome: `student_rows()` decides one student with `decide_many`
(audited per category), for reads by id and whole-record bundles; `visible()` is the same
rule as SQL filters (`readable_rows`), for searches and exports, which audit the students
they show. Both cost a constant number of queries whatever the number of rows.

One difference, on the safe side: a liaison seat whose whole view comes from a partner
service's care relationship sees every service's rows in a read, but only its own service's
in a search (`readable_rows` cannot tell that basis apart from its own relationships).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import ConsentGrant, consent_active_at
from joinedup.consent.policy import (
    consents_given_to,
    decide_many,
    readable_rows,
    readable_students,
    seats_of,
)
from joinedup.consent.rules import STUDENT_LEVEL, Decision
from joinedup.measures.models import Administration
from joinedup.people.models import Organisation, Service, Student
from joinedup.referrals.models import Episode, Referral
from joinedup.risk.models import Flag

STUDENT_RELATED = ("university", "gp_practice")
# Every row, as a condition that keeps its meaning when OR-ed (an empty Q() would vanish).
EVERY = ~Q(pk__in=[])


def _student_key_only(rows: QuerySet) -> QuerySet:
    """Rows with their student reduced to its uuid, all a reference needs: a bulk export
    builds hundreds of thousands of these, and a whole Student row costs several times more.
    (Reading any other student field from such a row would cost a query per row.)"""
    return rows.select_related("student").defer(
        *(f"student__{f.name}" for f in Student._meta.concrete_fields if f.name not in _KEY)
    )


_KEY = ("id", "uuid")


@dataclass(frozen=True)
class Kind:
    """How one resource type is stored and found: its model rows, category and fields."""

    name: str
    category: str | None
    rows: Callable[[], QuerySet]
    student: str | None = "student"  # the path from a row to its Student
    # The fields naming the service that wrote each row, for the policy's row-level answer.
    services: tuple[str, ...] = ("service",)
    # Rows that answer to recipients rather than writers (Consent): the partial view.
    own: Callable[[object], Q] | None = None
    date: str | None = None
    updated: object = None  # a field name or an expression
    statuses: dict[str, Q] = field(default_factory=dict)
    key: str = "uuid"


def _consent_rows(user) -> Q:
    # As `record.selectors.consents_of`: a partial view lists only the consents given to
    # the user's own service, department or organisation, or recorded by them.
    return consents_given_to(seats_of(user), user)


def _referrals() -> QuerySet:
    return _student_key_only(
        Referral.objects.select_related("from_service__organisation", "to_service__organisation")
    )


def administrations() -> QuerySet:
    """Every administration: the rows a QuestionnaireResponse and an Observation are both
    made from, where one pass renders the two (`resources.render` skips what is not one)."""
    # Answers are fetched per batch by `resources.render`, as plain values.
    return _student_key_only(Administration.objects.select_related("service__organisation"))


def _responses() -> QuerySet:
    # A score another system stated without answers is served as its Observation alone.
    return administrations().filter(score_only=False)


def _referral_statuses(mapping: dict[str, str]) -> dict[str, Q]:
    statuses: dict[str, list[str]] = {}
    for state, status in mapping.items():
        statuses.setdefault(status, []).append(state)
    return {status: Q(state__in=states) for status, states in statuses.items()}


def _kinds() -> dict[str, Kind]:
    from joinedup.fhir.mapping import SERVICE_REQUEST_STATUS, TASK_STATUS

    kinds = [
        Kind(
            "Patient",
            "identity",
            lambda: Student.objects.select_related(*STUDENT_RELATED),
            student="",
            updated="changed_at",
            statuses={
                "true": Q(status__in=("enrolled", "interrupted")),
                "false": ~Q(status__in=("enrolled", "interrupted")),
            },
        ),
        Kind(
            "Organization",
            None,
            lambda: Organisation.objects.all(),
            student=None,
        ),
        Kind(
            "HealthcareService",
            None,
            lambda: Service.objects.select_related("organisation"),
            student=None,
        ),
        Kind(
            "ServiceRequest",
            "engagement",
            _referrals,
            services=("from_service", "to_service"),
            date="created_at",
            updated="last_changed_at",
            statuses=_referral_statuses(SERVICE_REQUEST_STATUS),
        ),
        Kind(
            "Task",
            "engagement",
            _referrals,
            services=("from_service", "to_service"),
            date="created_at",
            updated="last_changed_at",
            statuses=_referral_statuses(TASK_STATUS),
        ),
        Kind(
            "EpisodeOfCare",
            "engagement",
            lambda: _student_key_only(
                Episode.objects.select_related("service__organisation", "referral")
            ),
            date="started_at",
            updated=Coalesce("ended_at", "started_at"),
            statuses={"active": Q(ended_at__isnull=True), "finished": Q(ended_at__isnull=False)},
        ),
        Kind(
            "QuestionnaireResponse",
            "outcomes",
            _responses,
            date="completed_at",
            updated="created_at",
            statuses={"completed": EVERY},
        ),
        Kind(
            "Observation",
            "outcomes",
            lambda: administrations().filter(main_score__isnull=False),
            date="completed_at",
            updated="created_at",
            statuses={"final": EVERY},
        ),
        Kind(
            "Flag",
            "risk",
            lambda: _student_key_only(
                Flag.objects.select_related("level", "service__organisation")
            ),
            date="raised_at",
            updated=Coalesce("acknowledged_at", "raised_at"),
            statuses={
                "active": Q(acknowledged_at__isnull=True),
                "inactive": Q(acknowledged_at__isnull=False),
            },
        ),
        Kind(
            "Consent",
            "engagement",
            lambda: _student_key_only(
                ConsentGrant.objects.select_related(
                    "recipient_service",
                    "recipient_department__organisation",
                    "recipient_organisation",
                )
            ),
            own=_consent_rows,
            date="created_at",
            updated=Coalesce("withdrawn_at", "created_at"),
            # "active" and "inactive" depend on the time: see `consent_status`.
        ),
        Kind(
            "AuditEvent",
            None,
            lambda: _student_key_only(AuditEvent.objects.all()),
            date="at",
            updated="at",
            key="seq",
        ),
    ]
    return {k.name: k for k in kinds}


KINDS: dict[str, Kind] = _kinds()
PERSONAL = tuple(name for name, kind in KINDS.items() if kind.category is not None)


def consent_status(status: str, now) -> Q:
    """The Consent `status` search as a filter at `now`."""
    active = consent_active_at(now)
    return active if status == "active" else ~active


def _key(kind: Kind) -> str:
    return "pk" if kind.name == "Patient" else "student_id"


def _readable(user, kind: Kind, rows: QuerySet, among=None) -> QuerySet:
    """`rows` of a personal `kind` filtered by the policy's row-level answer."""
    if kind.own is None:
        return readable_rows(
            user,
            kind.category,
            rows,
            student="" if kind.name == "Patient" else "student",
            services=kind.services,
            among=among,
        )
    key = _key(kind)
    identity = readable_students(user, "identity", among=among).values("pk")
    readable = readable_students(user, kind.category, among=among).values("pk")
    whole = readable_students(
        user, kind.category, bases=("self", "consent", "break_glass"), among=among
    ).values("pk")
    return rows.filter(**{f"{key}__in": identity}).filter(
        Q(**{f"{key}__in": readable}) & (kind.own(user) | Q(**{f"{key}__in": whole}))
    )


def visible(user, kind: Kind, among=None) -> QuerySet:
    """Every row of `kind` the user may see, as one filtered QuerySet (no audit: the caller
    audits the students whose rows it shows). `among` (student ids): only those students'
    rows, with the policy's subqueries narrowed to them (a search about one patient)."""
    rows = kind.rows()
    if among is not None and kind.category is not None:
        rows = rows.filter(**{f"{_key(kind)}__in": among})
    if kind.name == "AuditEvent":
        return own_trail(user, rows)
    if kind.category is None:
        return rows
    return _readable(user, kind, rows, among=among)


def own_trail(user, rows: QuerySet) -> QuerySet:
    """The audit events a client reads of its own: its reads and changes, not its refusals.
    A refused read leaves no more trace for the reader than a read of something missing, so
    an id cannot be probed through the trail (the data protection officer and the student
    still see every refusal)."""
    return rows.filter(actor=user).exclude(allowed=False)


def visible_by_student(user, kind: Kind, size: int = 2000, *, within: set[int] | None = None):
    """`visible()` in pieces of `size` students, for bulk export: the students are worked
    out once, and each piece is then an indexed lookup by student, its policy subqueries
    narrowed to the piece (one big filtered query re-evaluated per page would grow with the
    whole data set at every page). `within`: only these students (a group's members)."""
    key = _key(kind)
    ids = set(readable_students(user, "identity").values_list("pk", flat=True))
    ids &= set(readable_students(user, kind.category).values_list("pk", flat=True))
    if within is not None:
        ids &= within
    ordered = sorted(ids)
    for offset in range(0, len(ordered), size):
        piece = ordered[offset : offset + size]
        # One array parameter, not thousands of placeholders for the driver to splice in.
        rows = kind.rows().filter(**{f"{key}__any_of": frozenset(piece)})
        yield _readable(user, kind, rows, among=piece)


def caseload_of(user) -> set[int]:
    """The students in the care of the user's service (an open care relationship), as its
    caseload lists them: the members of its `Group` for a group-level export."""
    return set(
        readable_students(user, "identity", bases=("relationship",)).values_list("pk", flat=True)
    )


def registration_readable(user, student_ids=None) -> set[int]:
    """Of these students (None: of all), those whose registration details the user may
    read."""
    among = None if student_ids is None else list(student_ids)
    return set(readable_students(user, "registration", among=among).values_list("pk", flat=True))


@dataclass
class StudentRows:
    """One student's rows of each resource type that a user may see, decided once."""

    student: Student
    decisions: dict[str, Decision]
    rows: dict[str, list] = field(default_factory=dict)

    @property
    def with_registration(self) -> bool:
        decision = self.decisions.get("registration")
        return decision is not None and decision.allowed


def decide_student(
    user, student: Student, categories, *, request=None, action="fhir.read"
) -> dict[str, Decision] | None:
    """Decide (and audit) the categories for one student, identity first; None when the
    user may not even know who the student is."""
    decisions = decide_many(
        user,
        student,
        ["identity", *[c for c in categories if c != "identity"]],
        request=request,
        action=action,
        gate="identity",
    )
    return decisions if decisions["identity"].allowed else None


def may_see(user, kind: Kind, row, decisions: dict[str, Decision]) -> bool:
    """Whether one fetched row is visible under its student's decisions."""
    decision = decisions.get(kind.category)
    if decision is None or not decision.allowed:
        return False
    if decision.whole or kind.category in STUDENT_LEVEL:
        return True
    if kind.own is not None:
        return type(row).objects.filter(pk=row.pk).filter(kind.own(user)).exists()
    return decision.may_read_row(*(getattr(row, f"{name}_id") for name in kind.services))


_RECORD_CATEGORIES = ("identity", "registration", "engagement", "outcomes", "risk")


def _record_categories(types) -> list[str]:
    """The categories a record of these resource types shows: identity always (who the
    student is), registration with the Patient (address, GP, status)."""
    needed = {"identity"} | {KINDS[name].category for name in types if name in KINDS}
    if "Patient" in types:
        needed.add("registration")
    return [category for category in _RECORD_CATEGORIES if category in needed]


def student_rows(user, student: Student, *, types=None, request=None, action="fhir.record.read"):
    """Everything about one student that `user` may see, per resource type (audited once per
    category); None when the user may not know the student. Constant queries. With `types`,
    only those resource types, and only their categories are decided and audited: a
    category whose rows are not wanted is not read.

    The student also gets the audit trail of who read their record; staff and clients
    get no AuditEvents here (their own actions are searchable at /fhir/AuditEvent)."""
    types = set(KINDS) if types is None else set(types)
    categories = _record_categories(types)
    decisions = decide_student(user, student, categories, request=request, action=action)
    if decisions is None:
        return None
    result = StudentRows(student=student, decisions=decisions)
    fetched: dict[str, list] = {}  # a ServiceRequest and its Task share their rows
    for name in PERSONAL:
        kind = KINDS[name]
        decision = decisions.get(kind.category)
        if name == "Patient" or name not in types or decision is None or not decision.allowed:
            continue
        source = _SHARED_ROWS.get(name, name)
        if source not in fetched:
            rows = (_SOURCES[source] if source in _SOURCES else KINDS[source].rows)().filter(
                student=student
            )
            if kind.own is not None and not decision.whole:
                rows = rows.filter(kind.own(user))
            elif kind.own is None:
                rows = decision.rows(rows, *kind.services)
            fetched[source] = list(rows)
        result.rows[name] = fetched[source]
    if "Patient" in types:
        result.rows["Patient"] = [student]
    if decisions["identity"].basis == "self" and "AuditEvent" in types:
        result.rows["AuditEvent"] = _accesses(student)
    return result


# Resource types made from the same rows, fetched once: a Task is its referral's; a
# QuestionnaireResponse and an Observation are an administration's answers and score
# (rendering skips an administration without the one or the other).
_SHARED_ROWS = {
    "Task": "ServiceRequest",
    "QuestionnaireResponse": "administrations",
    "Observation": "administrations",
}
_SOURCES = {"administrations": administrations}


def _accesses(student) -> list:
    """Who read the student's record, for the student themself (as on their portal page)."""
    from joinedup.audit.selectors import accesses_to

    return list(_student_key_only(accesses_to(student)))
