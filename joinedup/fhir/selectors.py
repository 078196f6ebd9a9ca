"""Reads as FHIR: one resource by id, and one student's whole record as a Bundle."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.fhir import access
from joinedup.fhir.access import student_rows
from joinedup.fhir.errors import not_found
from joinedup.fhir.mapping import bundle
from joinedup.fhir.resources import questionnaires, render
from joinedup.fhir.search import is_whole_number
from joinedup.people.models import Student

# The order resources appear in a record Bundle: the student first, then what refers to them.
RECORD_ORDER = (
    "Patient",
    "Organization",
    "HealthcareService",
    "EpisodeOfCare",
    "ServiceRequest",
    "Task",
    "QuestionnaireResponse",
    "Observation",
    "Flag",
    "Consent",
    "AuditEvent",
)


def fhir_base(request=None) -> str:
    """The server's FHIR base URL: from the request when there is one, else SITE_URL."""
    if request is not None:
        return request.build_absolute_uri("/fhir").rstrip("/")
    return f"{settings.SITE_URL.rstrip('/')}/fhir"


def student_bundle(user, student, *, types=None, request=None) -> dict | None:
    """`student_record`'s Bundle alone (a subject access download, an export)."""
    found = student_record(user, student, types=types, request=request)
    return found[0] if found is not None else None


def student_record(user, student, *, types=None, request=None) -> tuple[dict, dict | None] | None:
    """Everything about `student` that `user` may see, as a FHIR `collection` Bundle.

    `user` is the student themself (subject access: their whole record, and who read it) or
    a member of staff or system client (exactly what the access policy lets them read, each
    category decided and audited once). The organisations and services the resources refer
    to are included. With `types` (resource type names), only those types, and only their
    categories are decided and audited. Returned with the OperationOutcome of what was
    withheld (`withheld_outcome`). None when `user` may not know the student at all.
    """
    found = student_rows(user, student, types=types, request=request, action="fhir.record.read")
    if found is None:
        return None
    now = timezone.now()
    registration = {student.pk} if found.with_registration else set()
    by_type = {
        name: render(name, rows, registration_ids=registration, now=now)
        for name, rows in found.rows.items()
    }
    by_type["Organization"], by_type["HealthcareService"] = _places(
        found.rows, student, with_gp=found.with_registration
    )
    resources = [r for name in RECORD_ORDER for r in by_type.get(name, [])]
    result = bundle("collection", resources, base=fhir_base(request))
    return result | {"timestamp": now.isoformat()}, withheld_outcome(found)


def withheld_outcome(found) -> dict | None:
    """An OperationOutcome naming each category the user was refused, or saw only part of,
    and who holds the rest ("suppressed"): withheld is never absent. None when nothing is
    held back."""
    from joinedup.record.selectors import held_by

    issues = []
    for category, decision in found.decisions.items():
        if category in ("identity", "registration"):
            continue
        held = held_by(found.student, category, decision)
        if held:
            label = category.capitalize()
            issues.append(
                {
                    "severity": "information",
                    "code": "suppressed",
                    "details": {
                        "text": f"{label}: held by {', '.join(held)} — not shared with you."
                    },
                    "diagnostics": decision.limit if decision.allowed else decision.reason,
                }
            )
    return {"resourceType": "OperationOutcome", "issue": issues} if issues else None


def _places(rows: dict, student, *, with_gp: bool) -> tuple[list[dict], list[dict]]:
    """The organisations and services the record's resources name, without more queries
    (every row arrives with them selected)."""
    services = {}
    for referral in rows.get("ServiceRequest", []):
        for service in (referral.from_service, referral.to_service):
            if service is not None:
                services[service.pk] = service
    for name in ("EpisodeOfCare", "QuestionnaireResponse", "Flag"):
        for row in rows.get(name, []):
            services[row.service.pk] = row.service
    organisations = {s.organisation.pk: s.organisation for s in services.values()}
    organisations[student.university.pk] = student.university
    if with_gp and student.gp_practice_id is not None:
        organisations[student.gp_practice.pk] = student.gp_practice
    return (
        render("Organization", sorted(organisations.values(), key=lambda o: o.pk)),
        render("HealthcareService", sorted(services.values(), key=lambda s: s.pk)),
    )


def read_resource(user, resource_type: str, key: str, *, request=None) -> dict:
    """One resource the user may see; 404 for missing and forbidden alike."""
    if resource_type == "Questionnaire":
        found = [q for q in questionnaires() if q["id"] == key]
        if not found:
            raise not_found(resource_type, key)
        return found[0]
    kind = access.KINDS[resource_type]
    row = _fetch(kind, key)
    if row is None:
        raise not_found(resource_type, key)
    if resource_type == "AuditEvent":
        if not access.own_trail(user, kind.rows()).filter(pk=row.pk).exists():
            raise not_found(resource_type, key)
        return render(resource_type, [row])[0]
    if kind.category is None:
        return render(resource_type, [row])[0]
    # The row's student carries only its uuid (`access._student_key_only`); the decision
    # needs the whole student.
    student = row if resource_type == "Patient" else Student.objects.get(pk=row.student_id)
    categories = ["registration"] if resource_type == "Patient" else [kind.category]
    decisions = access.decide_student(
        user, student, categories, request=request, action="fhir.read"
    )
    if decisions is None or not access.may_see(user, kind, row, decisions):
        raise not_found(resource_type, key)
    registration = {student.pk} if resource_type == "Patient" and _allowed(decisions) else set()
    resources = render(resource_type, [row], registration_ids=registration)
    if not resources:  # an Observation of an administration without a score
        raise not_found(resource_type, key)
    return resources[0]


def find_student_by_id(key: str) -> Student | None:
    """The student a Patient id names, or None (callers decide access before showing)."""
    try:
        return Student.objects.select_related(*access.STUDENT_RELATED).filter(uuid=key).first()
    except ValidationError:  # not a uuid
        return None


def _allowed(decisions) -> bool:
    decision = decisions.get("registration")
    return decision is not None and decision.allowed


def _fetch(kind, key: str):
    if kind.key == "seq":
        return kind.rows().filter(seq=int(key)).first() if is_whole_number(key) else None
    try:
        return kind.rows().filter(uuid=uuid.UUID(key)).first()
    except ValueError:  # a malformed id is simply not found
        return None
