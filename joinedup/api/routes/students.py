"""Students: those the caller may read, and one student's record, section by section, with
only what the access policy allows (the same builder as the record page)."""

import datetime as dt
from uuid import UUID

from ninja import Router, Schema
from pydantic import Field

from joinedup.api.errors import COMMON
from joinedup.api.paging import PageInfo, PageQuery, take_page
from joinedup.consent.policy import audit_listing, decide_many, readable_students
from joinedup.record.selectors import get_record_for_user
from joinedup.risk.selectors import current_levels

router = Router(tags=["students"])


class StudentSummary(Schema):
    uuid: UUID
    display_name: str
    student_number: str
    university: str


class StudentPage(PageInfo):
    items: list[StudentSummary]


class Identity(Schema):
    preferred_name: str
    legal_given_name: str
    legal_family_name: str
    pronouns: str
    date_of_birth: dt.date
    nhs_number: str
    email: str
    phone: str
    trusted_contact_name: str
    trusted_contact_relationship: str
    trusted_contact_phone: str
    trusted_contact_permission: str


class Registration(Schema):
    university: str
    department: str | None
    status: str
    gp_practice: str | None
    is_not_gp_registered: bool
    is_international: bool
    term_postcode: str
    home_postcode: str


class InvolvedService(Schema):
    service: str
    organisation: str
    reason: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None


class Engagement(Schema):
    services: list[InvolvedService]
    is_supported: bool | None = Field(
        None,
        description="For academic staff, who never learn which services know the student: "
        "whether any service supports them now (`services` is then empty).",
    )
    consents_shown: str = Field(
        description="`all` the student's consents, or `yours`: only those given to your "
        "service, department or organisation."
    )


class EntryOut(Schema):
    uuid: UUID
    title: str
    body: str
    service: str
    created_at: dt.datetime
    is_private_to_service: bool
    is_withheld_from_student: bool


class Section(Schema):
    category: str
    label: str
    allowed: bool
    basis: str = Field(description="Why it is shown: relationship, consent, break_glass…")
    reason: str = Field(description="The policy's reason, in words, shown or refused.")
    limit: str = Field(description="When only your service's entries are shown, why.")
    held_by: list[str] = Field(
        description="The services holding what this section does not show you: withheld, "
        "never absent. Empty when nothing is held back (or, for academic staff, who never "
        "learn which services know the student)."
    )
    entries: list[EntryOut]


class StudentRecord(Schema):
    uuid: UUID
    display_name: str
    student_number: str
    identity: Identity | None
    registration: Registration | None
    engagement: Engagement | None
    risk_level: str | None = Field(description="The current risk level, if risk is shown.")
    sections: list[Section]


@router.get("/students", response={200: StudentPage, **COMMON}, summary="Students I may read")
def list_students(request, paging: PageQuery, q: str = ""):
    """Students whose identity the access policy lets the caller read, by name; `q` searches
    names and matches a student number exactly. Each student listed is audited."""
    user = request.auth
    students = (
        readable_students(user, "identity")
        .search(q)
        .select_related("university")
        .order_by("preferred_name", "legal_family_name", "pk")
    )
    rows, info = take_page(students, paging)
    _audit_listed(user, rows, request)
    return StudentPage(
        **info.dict(),
        items=[
            StudentSummary(
                uuid=s.uuid,
                display_name=s.display_name,
                student_number=s.student_number,
                university=s.university.name,
            )
            for s in rows
        ],
    )


def _audit_listed(user, students, request) -> None:
    """Audit each listed student with its true basis: students in the caller's care in one
    entry each (as the caseload does); any other (consent, department, emergency access) is
    decided one by one, so the log records the consent or override it rested on."""
    in_care = set(
        readable_students(
            user, "identity", bases=("relationship",), among=[s.pk for s in students]
        ).values_list("pk", flat=True)
    )
    audit_listing(
        user,
        [s for s in students if s.pk in in_care],
        action="api.students.listed",
        reason="Listed through the API.",
        request=request,
    )
    for student in students:
        if student.pk not in in_care:
            decide_many(user, student, ["identity"], request=request, action="api.students.listed")


@router.get(
    "/students/{student_uuid}", response={200: StudentRecord, **COMMON}, summary="A student"
)
def read_student(request, student_uuid: UUID):
    """The student's record: every category, each either shown (with the basis) or refused
    (with the reason), exactly as on the record page. 404 unless the caller may read the
    student's identity. Every decision is audited."""
    user = request.auth
    record = get_record_for_user(user, student_uuid, request=request)
    student = record.student
    allowed = {s.category for s in record.sections if s.decision.allowed}
    engagement = record.section("engagement").decision if "engagement" in allowed else None
    return StudentRecord(
        uuid=student.uuid,
        display_name=student.display_name,
        student_number=student.student_number,
        identity=_identity(student) if "identity" in allowed and not record.names_only else None,
        registration=_registration(student) if "registration" in allowed else None,
        engagement=Engagement(
            services=[
                InvolvedService(
                    service=r.service.name,
                    organisation=r.service.organisation.name,
                    reason=r.reason,
                    opened_at=r.opened_at,
                    closed_at=r.closed_at,
                )
                for r in record.services
            ],
            is_supported=record.is_supported,
            consents_shown="all" if engagement.whole and record.is_supported is None else "yours",
        )
        if engagement
        else None,
        risk_level=current_levels(user, [student.pk]).get(student.pk, "Not assessed")
        if "risk" in allowed
        else None,
        sections=[
            Section(
                category=s.category,
                label=str(s.label),
                allowed=s.decision.allowed,
                basis=s.decision.basis,
                reason=s.decision.reason,
                limit=s.decision.limit,
                held_by=s.held_by,
                entries=[
                    EntryOut(
                        uuid=e.uuid,
                        title=e.title,
                        body=e.body,
                        service=e.service.name,
                        created_at=e.created_at,
                        is_private_to_service=e.is_private_to_service,
                        is_withheld_from_student=e.is_withheld_from_student,
                    )
                    for e in s.entries
                ],
            )
            for s in record.sections
        ],
    )


def _identity(student) -> Identity:
    return Identity(**{name: getattr(student, name) for name in Identity.model_fields})


def _registration(student) -> Registration:
    return Registration(
        university=student.university.name,
        department=student.department.name if student.department else None,
        status=student.status,
        gp_practice=student.gp_practice.name if student.gp_practice else None,
        is_not_gp_registered=student.is_not_gp_registered,
        is_international=student.is_international,
        term_postcode=student.term_postcode,
        home_postcode=student.home_postcode,
    )
