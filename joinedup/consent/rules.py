"""The access rule: who may read which category of a student's data, and on what basis.

Pure functions over frozen facts; `joinedup.consent.policy` gathers the facts from the
database and writes the audit entry. The rules are those of DESIGN.md ("The access policy").
"""

import re
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_noop

# Any model's rows; `Any` for the row type, as `values()` may have changed it.
_Rows = TypeVar("_Rows", bound=QuerySet[Model, Any])

CATEGORIES: tuple[str, ...] = (
    "identity",
    "registration",
    "engagement",
    "assessment",
    "outcomes",
    "risk",
    "notes",
    "adjustments",
    "discharge",
)
CATEGORY_LABELS: dict[str, str] = {c: c.capitalize() for c in CATEGORIES}
# What each category is, in the student's words.
STUDENT_WORDS: dict[str, str] = {
    "identity": gettext_noop("your name, contact details and NHS number"),
    "registration": gettext_noop("your course, student status and GP"),
    "engagement": gettext_noop("which services support you, and your appointments"),
    "assessment": gettext_noop("your story and what you want from support"),
    "outcomes": gettext_noop("your questionnaire answers"),
    "risk": gettext_noop("notes about keeping you safe"),
    "notes": gettext_noop("their own session notes"),
    "adjustments": gettext_noop("support agreed for your studies"),
    "discharge": gettext_noop("summaries written when a service finished working with you"),
}

CLINICAL_ROLES = frozenset({"practitioner", "triage", "liaison"})
# Academic staff never see these, whatever the student consents to.
ACADEMIC_NEVER = frozenset({"assessment", "outcomes", "risk", "notes", "discharge"})
# All an academic may ever see: the student's name and number (their department's students),
# and with consent that the student is supported (engagement) and their adjustments.
ACADEMIC_MAY = frozenset({"identity", "engagement", "adjustments"})
# Scopes of an allowed decision that shows less than the whole category.
NAMES_ONLY = "names"  # identity: names and student number; no identifiers or contact
SUPPORTED_ONLY = "supported"  # engagement: that the student is supported, not by whom
# Case notes never leave the authoring service by consent, agreement or override.
SERVICE_ONLY = frozenset({"notes"})
# Facts about the student rather than records a service wrote: a care relationship shows
# them whole. Every other category is held by the service that wrote it, and a care
# relationship shows only what the user's own service wrote; the rest needs consent.
STUDENT_LEVEL = frozenset({"identity", "registration"})


@dataclass(frozen=True)
class Seat:
    """One of the user's memberships: the role they act in and where."""

    role: str
    organisation_id: int
    organisation_name: str
    service_id: int | None = None
    service_name: str = ""
    department_id: int | None = None
    department_name: str = ""

    @property
    def place(self) -> str:
        return self.service_name or self.department_name or self.organisation_name


@dataclass(frozen=True)
class Grant:
    """An active consent grant, reduced to what the rule needs."""

    category: str
    purpose: str
    service_id: int | None = None
    department_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the rule needs to know about one user and one student, at one moment."""

    seats: tuple[Seat, ...]
    is_self: bool = False
    university_id: int = 0
    department_id: int | None = None
    # Open care relationships of the student: (service id, that service's organisation id).
    relationships: frozenset[tuple[int, int]] = frozenset()
    # Every service that has been involved with the student, open or closed, the same way:
    # the services whose entries the record may hold.
    involved: frozenset[tuple[int, int]] = frozenset()
    # Services that took the student on (a referral or an episode) and no longer do: each
    # still reads what it wrote itself.
    former: frozenset[int] = frozenset()
    grants: tuple[Grant, ...] = ()
    # Active agreements as (lower organisation id, higher organisation id, category, purpose).
    agreements: frozenset[tuple[int, int, str, str]] = frozenset()
    break_glass: bool = False

    def agreement_covers(self, org_a: int, org_b: int, category: str, purpose: str) -> bool:
        low, high = sorted((org_a, org_b))
        return (low, high, category, purpose) in self.agreements


@dataclass(frozen=True)
class Decision:
    """The answer for one category. `whole` is false when only the rows written by
    `services` (the user's own services in the student's care) may be shown; `limit` then
    says, in plain words, why the rest is hidden. `scope` narrows what an allowed category
    shows: `NAMES_ONLY` or `SUPPORTED_ONLY` for academic staff, empty for everything the
    category holds. `rows()` applies the answer to a QuerySet: no caller filters rows itself."""

    allowed: bool
    basis: str
    reason: str
    seat: Seat | None = None
    whole: bool = True
    limit: str = ""
    scope: str = ""
    services: frozenset[int] = frozenset()

    def rows(self, queryset: _Rows, *service_fields: str) -> _Rows:
        """The rows of `queryset` (one category's rows about the student) this decision lets
        through; `service_fields` name the field(s) saying which service wrote each row
        (default `service`; a row passes when any of them is one of `services`)."""
        if not self.allowed:
            return queryset.none()
        if self.whole:
            return queryset
        return queryset.filter(self.written_by_own(*service_fields))

    def written_by_own(self, *service_fields: str) -> Q:
        """The filter on rows written by the decision's own services."""
        written = Q(pk__in=[])
        for name in service_fields or ("service",):
            written |= Q(**{f"{name}__in": sorted(self.services)})
        return written

    def may_read_row(self, *service_ids: int | None) -> bool:
        """Whether a row already fetched, written by `service_ids`, passes `rows()`."""
        return self.allowed and (self.whole or any(s in self.services for s in service_ids))


def decide_access(facts: Facts, category: str, purpose: str = "direct_care") -> Decision:
    """Decide one read of `category` for `purpose`, trying each of the user's seats in turn.

    Allowed on the first basis that holds (own record, care relationship, department,
    consent, break-glass), preferring a seat that may see the whole category; otherwise
    refused with the reason from the most relevant seat.
    """
    if category not in CATEGORIES:
        raise ValueError(f"Unknown data category: {category!r}")
    if facts.is_self:
        return Decision(True, "self", "This is your own record.")
    decisions = [
        _decide_for_seat(facts, seat, category, purpose)
        for seat in sorted(facts.seats, key=_seat_priority)
    ]
    allowed = [d for d in decisions if d.allowed]
    whole = next((d for d in allowed if d.whole), None)
    if whole is not None:
        return whole
    if allowed:
        # Each seat in the student's care reads its own service's rows.
        return replace(allowed[0], services=frozenset().union(*(d.services for d in allowed)))
    if decisions:
        return decisions[0]
    return Decision(False, "none", "You have no role in any service or department.")


def _seat_priority(seat: Seat) -> int:
    order = ("practitioner", "liaison", "triage", "academic")
    return order.index(seat.role) if seat.role in order else len(order)


def _decide_for_seat(facts: Facts, seat: Seat, category: str, purpose: str) -> Decision:
    label = CATEGORY_LABELS[category]
    if seat.role == "researcher":
        return _refuse(seat, "Researchers see anonymised aggregates only, never a record.")
    if seat.role == "org_admin":
        return _refuse(seat, "Organisation admins do not see the content of student records.")
    if seat.role == "service_manager":
        return _refuse(
            seat,
            "Service managers see aggregate reports; a student's record needs a practitioner role.",
        )
    if seat.role == "academic":
        return _decide_for_academic(facts, seat, category, purpose, label)
    if seat.role not in CLINICAL_ROLES:
        return _refuse(seat, f"The role {seat.role!r} gives no access to student records.")
    return _decide_for_clinician(facts, seat, category, purpose, label)


def _is(label: str) -> str:
    """The verb agreeing with a category label: "Risk is", "Outcomes are"."""
    return "are" if label.endswith("s") else "is"


def _decide_for_academic(
    facts: Facts, seat: Seat, category: str, purpose: str, label: str
) -> Decision:
    """Academic staff see the names and student numbers of their department's students and,
    with consent, that the student is supported and their adjustments: never identifiers,
    contact details, or which services know the student."""
    if category not in ACADEMIC_MAY:
        return _refuse(seat, f"{label} {_is(label)} never shown to academic staff.")
    scope = {"identity": NAMES_ONLY, "engagement": SUPPORTED_ONLY}.get(category, "")
    in_department = seat.department_id is not None and seat.department_id == facts.department_id
    if category == "identity" and in_department:
        return Decision(True, "department", f"The student is in {seat.place}.", seat, scope=scope)
    if _consented(facts, seat, category, purpose, include_service=False):
        if _agreement_allows(facts, seat, category, purpose):
            return Decision(
                True, "consent", f"The student shares {label.lower()} with you.", seat, scope=scope
            )
        return _no_agreement(facts, seat, label)
    return _refuse(seat, f"{label} {_is(label)} not shared with {seat.place}: no consent.")


def _decide_for_clinician(
    facts: Facts, seat: Seat, category: str, purpose: str, label: str
) -> Decision:
    related = purpose == "direct_care" and any(
        service_id == seat.service_id for service_id, _ in facts.relationships
    )
    if related and category in STUDENT_LEVEL:
        return Decision(
            True, "relationship", f"{seat.place} is involved in the student's care.", seat
        )
    if related and category in SERVICE_ONLY:
        return Decision(
            True,
            "relationship",
            _in_care_own(seat),
            seat,
            whole=False,
            limit=f"{label} stay with the service that wrote them.",
            services=frozenset({seat.service_id}) if seat.service_id else frozenset(),
        )
    if related and seat.role == "liaison" and _partners_only(facts, seat, category, purpose):
        # A liaison worker already in the student's care bridges the partner services: when
        # every other service involved is a partner under an agreement covering the category,
        # they read the whole of it.
        return Decision(
            True,
            "relationship",
            f"{seat.place} is involved in the student's care, with partner services under "
            "a data sharing agreement.",
            seat,
        )
    if category in SERVICE_ONLY:
        stay = f"{label} stay with the service that wrote them."
        if _formerly_cared(facts, seat, purpose):
            return _authored(seat, category, label, stay)
        return _refuse(seat, stay)
    consented = _consented(facts, seat, category, purpose, include_service=True)
    if consented and _agreement_allows(facts, seat, category, purpose):
        return Decision(True, "consent", f"The student shares {label.lower()} with you.", seat)
    if facts.break_glass:
        return Decision(True, "break_glass", "Emergency override in force.", seat)
    refusal = (
        _no_agreement(facts, seat, label).reason
        if consented
        else f"{label} {_is(label)} not shared with {seat.place}: no consent."
    )
    others = (
        refusal
        if consented
        else f"{label} from other services {_is(label)} not shared with {seat.place}: no consent."
    )
    own = frozenset({seat.service_id}) if seat.service_id else frozenset()
    if related:
        return Decision(
            True,
            "relationship",
            _in_care_own(seat),
            seat,
            whole=False,
            limit=others,
            services=own,
        )
    if _formerly_cared(facts, seat, purpose):
        return _authored(seat, category, label, others)
    return _refuse(seat, refusal)


# How a reason says that a service in the student's care reads only its own rows: the
# student's "who looked" tells these reads apart by it.
OWN_ROWS_ONLY = "reads what it wrote itself"


def _in_care_own(seat: Seat) -> str:
    return f"{seat.place} is involved in the student's care and {OWN_ROWS_ONLY}."


def _formerly_cared(facts: Facts, seat: Seat, purpose: str) -> bool:
    return purpose == "direct_care" and seat.service_id in facts.former


def _authored(seat: Seat, category: str, label: str, others: str) -> Decision:
    """A service that discharged or declined the student reads only what it wrote: the
    student's name and number on its own records, and its own rows of each category."""
    if category == "registration":
        return _refuse(seat, f"{seat.place} no longer works with the student.")
    reason = f"{seat.place} worked with the student and {OWN_ROWS_ONLY}."
    if category == "identity":
        return Decision(True, "authored", reason, seat, scope=NAMES_ONLY)
    return Decision(
        True,
        "authored",
        reason,
        seat,
        whole=False,
        limit=f"{seat.place} no longer works with the student; {others[0].lower()}{others[1:]}",
        # Only a seat with a service formerly cared (`_formerly_cared`).
        services=frozenset({seat.service_id}) if seat.service_id else frozenset(),
    )


def _partners_only(facts: Facts, seat: Seat, category: str, purpose: str) -> bool:
    """Whether every service involved with the student, other than the seat's own, is in the
    seat's organisation or one an active agreement covers for `category` and `purpose`."""
    return category not in SERVICE_ONLY and all(
        service_id == seat.service_id
        or org_id == seat.organisation_id
        or facts.agreement_covers(seat.organisation_id, org_id, category, purpose)
        for service_id, org_id in facts.involved | facts.relationships
    )


def _consented(
    facts: Facts, seat: Seat, category: str, purpose: str, *, include_service: bool
) -> bool:
    for grant in facts.grants:
        if grant.category != category or grant.purpose != purpose:
            continue
        if grant.organisation_id is not None and grant.organisation_id == seat.organisation_id:
            return True
        if include_service and grant.service_id is not None and grant.service_id == seat.service_id:
            return True
        if grant.department_id is not None and grant.department_id == seat.department_id:
            return True
    return False


def _agreement_allows(facts: Facts, seat: Seat, category: str, purpose: str) -> bool:
    """Inside the student's university consent is enough; across organisations an agreement
    between the recipient's organisation and the university must cover the category."""
    if seat.organisation_id == facts.university_id:
        return True
    return facts.agreement_covers(seat.organisation_id, facts.university_id, category, purpose)


def _no_agreement(facts: Facts, seat: Seat, label: str) -> Decision:
    return _refuse(
        seat,
        f"{label}: the student consents, but no data sharing agreement between "
        f"{seat.organisation_name} and the student's university covers it.",
    )


def _refuse(seat: Seat, reason: str) -> Decision:
    return Decision(False, "none", reason, seat)


def reason_has_substance(reason: str) -> bool:
    """Whether an emergency override's written reason says something: at least four words of
    two or more letters, three of them different, and fifteen letters in all (so "aaaaaaaaaa"
    or "urgent urgent" are refused, "Student disclosed a plan tonight" is not)."""
    words = [w for w in re.findall(r"[^\W\d_]+", reason.casefold()) if len(w) >= 2]
    return len(words) >= 4 and len(set(words)) >= 3 and sum(map(len, words)) >= 15
