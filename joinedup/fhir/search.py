"""FHIR search: parameters → filters over the rows the access layer lets through.

Supported, per resource type, exactly as `SEARCH_PARAMETERS` lists (the CapabilityStatement
is built from it): `_id`, `identifier` (`system|value` or `value`), `patient`/`subject`
(`Patient/<id>` or `<id>`), `status` (`active` for Patient), `date` and `_lastUpdated` (with
the prefixes eq, gt, ge, lt, le, at the precision given), `_count` (at most 200),
`_page`, and `_include`/`_revinclude` of the student's Patient and their resources. An
unknown parameter is refused rather than ignored, so a client never mistakes an unfiltered
result for a filtered one.
"""

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from joinedup.consent.policy import audit_listing
from joinedup.fhir import mapping
from joinedup.fhir.access import KINDS, PERSONAL, Kind, consent_status, visible
from joinedup.fhir.errors import FhirError
from joinedup.fhir.models import ExternalIdentifier
from joinedup.fhir.resources import questionnaires, render

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Deep enough for any real search; a larger page would overflow the database OFFSET.
MAX_PAGE = 100_000
COMMON = ("_id", "_count", "_page")
STUDENT_BOUND = ("identifier", "patient", "subject", "status", "date", "_lastUpdated")
SEARCH_PARAMETERS: dict[str, tuple[str, ...]] = {
    "Patient": (*COMMON, "identifier", "active", "_lastUpdated", "_revinclude"),
    "Organization": (*COMMON, "identifier", "name"),
    "HealthcareService": (*COMMON, "identifier", "name", "organization"),
    "Questionnaire": (*COMMON, "code", "url"),
    **{
        name: (*COMMON, *STUDENT_BOUND, "_include")
        for name in PERSONAL
        if name not in ("Patient", "AuditEvent")
    },
    "AuditEvent": (*COMMON, "patient", "date", "_lastUpdated"),
}
PARAMETER_TYPES = {
    "_id": "token",
    "identifier": "token",
    "patient": "reference",
    "subject": "reference",
    "organization": "reference",
    "status": "token",
    "active": "token",
    "code": "token",
    "url": "uri",
    "name": "string",
    "date": "date",
    "_lastUpdated": "date",
}
_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<value>\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)


@dataclass
class Page:
    resources: list[dict]
    included: list[dict]
    total: int
    number: int
    count: int
    # What the search's patient has of this type that the user may not see: an
    # OperationOutcome naming who holds it (withheld, never absent), or None.
    withheld: dict | None = None

    @property
    def has_next(self) -> bool:
        return self.number * self.count < self.total


def search(user, resource_type: str, params, *, request=None) -> Page:
    """One page of matches the user may see, with included resources, audited per student."""
    allowed = SEARCH_PARAMETERS[resource_type]
    for name in params:
        if name not in allowed:
            raise FhirError(
                400,
                f"The search parameter {name!r} is not supported for {resource_type}. "
                f"Supported: {', '.join(allowed)}.",
                code="not-supported",
                expression=name,
            )
    count = _positive(params, "_count", DEFAULT_COUNT, MAX_COUNT)
    number = _positive(params, "_page", 1, MAX_PAGE)
    if resource_type == "Questionnaire":
        return _questionnaires(params, count, number)
    kind = KINDS[resource_type]
    rows = _filter(user, kind, visible(user, kind), params).order_by("pk")
    total = rows.count()
    page_rows = list(rows[(number - 1) * count : number * count])
    resources = _render_audited(user, kind, page_rows, request)
    included = _includes(user, kind, page_rows, params, request)
    withheld = _withheld(user, kind, params, request)
    return Page(resources, included, total, number, count, withheld)


def _withheld(user, kind: Kind, params, request) -> dict | None:
    """For a search about one patient the user may know, what of the type's category is
    held elsewhere and not shared (as `$everything` says it); nothing for a patient the
    user may not know, who looks exactly like one that does not exist."""
    key = params.get("patient") or params.get("subject")
    if not key or kind.category is None or kind.name in ("Patient", "AuditEvent"):
        return None
    from joinedup.fhir.access import StudentRows, decide_student
    from joinedup.fhir.selectors import find_student_by_id, withheld_outcome

    student = find_student_by_id(key.removeprefix("Patient/"))
    if student is None:
        return None
    decisions = decide_student(
        user, student, [kind.category], request=request, action="fhir.search"
    )
    if decisions is None:
        return None
    return withheld_outcome(StudentRows(student=student, decisions=decisions))


def _render_audited(user, kind: Kind, rows, request) -> list[dict]:
    if kind.category is None or kind.name == "AuditEvent":
        return render(kind.name, rows)
    students = [r if kind.name == "Patient" else r.student for r in rows]
    registration = set()
    if kind.name == "Patient":
        from joinedup.fhir.access import registration_readable

        registration = registration_readable(user, [s.pk for s in students])
    categories = ("identity", kind.category) if kind.category != "identity" else ("identity",)
    audit_listing(
        user,
        students,
        action="fhir.search",
        reason=f"FHIR {kind.name} search",
        request=request,
        categories=lambda student: (
            categories + (("registration",) if student.pk in registration else ())
        ),
    )
    return render(kind.name, rows, registration_ids=registration)


def _includes(user, kind: Kind, rows, params, request) -> list[dict]:
    """`_include=<Type>:patient|subject` adds the matches' Patients; `_revinclude=<Type>:
    patient|subject` on a Patient search adds those patients' resources of that type. Both
    pass through the same access filters as a search of that type."""
    included: list[dict] = []
    for value in params.getlist("_include"):
        source, _, target = value.partition(":")
        if source != kind.name or target not in ("patient", "subject"):
            raise FhirError(
                400,
                f"_include={value} is not supported: use {kind.name}:patient.",
                code="not-supported",
                expression="_include",
            )
        patients = KINDS["Patient"]
        student_ids = {r.student_id for r in rows}
        students = visible(user, patients).filter(pk__in=student_ids)
        included += _render_audited(user, patients, list(students), request)
    for value in params.getlist("_revinclude"):
        source, _, target = value.partition(":")
        if (
            source not in PERSONAL
            or source in ("Patient", "AuditEvent")
            or target
            not in (
                "patient",
                "subject",
            )
        ):
            raise FhirError(
                400,
                f"_revinclude={value} is not supported: use <Type>:patient, where the type is "
                "one of the student's resources.",
                code="not-supported",
                expression="_revinclude",
            )
        other = KINDS[source]
        others = visible(user, other).filter(student_id__in=[r.pk for r in rows]).order_by("pk")
        included += _render_audited(user, other, list(others[: MAX_COUNT * 5]), request)
    return included


def _questionnaires(params, count: int, number: int) -> Page:
    resources = questionnaires()
    if "_id" in params:
        resources = [r for r in resources if r["id"] in params.getlist("_id")]
    if "url" in params:
        resources = [r for r in resources if r["url"] in params.getlist("url")]
    for value in params.getlist("code"):
        system, code = _token(value)
        resources = [
            r
            for r in resources
            if any(c["code"] == code and system in (None, c["system"]) for c in r.get("code", []))
        ]
    total = len(resources)
    return Page(resources[(number - 1) * count : number * count], [], total, number, count)


def _filter(user, kind: Kind, rows: QuerySet, params) -> QuerySet:
    for name in params:
        for value in params.getlist(name):
            rows = _apply(kind, rows, name, value)
    return rows


def _apply(kind: Kind, rows: QuerySet, name: str, value: str) -> QuerySet:
    if name in ("_count", "_page", "_include", "_revinclude"):
        return rows
    if name == "_id":
        return rows.filter(_key_filter(kind, value.split(",")))
    if name in ("patient", "subject"):
        student = value.removeprefix("Patient/")
        return rows.filter(student__uuid=_uuid(student, name))
    if name == "identifier":
        return rows.filter(_identifier_filter(kind, value))
    if name in ("status", "active"):
        return rows.filter(_status_filter(kind, name, value))
    if name == "date":
        return rows.filter(_date_filter(kind.date, value, name))
    if name == "_lastUpdated":
        updated = F(kind.updated) if isinstance(kind.updated, str) else kind.updated
        return rows.alias(_updated=updated).filter(_date_filter("_updated", value, name))
    if name == "name":
        return rows.filter(name__icontains=value)
    if name == "organization":
        return rows.filter(organisation__uuid=_uuid(value.removeprefix("Organization/"), name))
    raise FhirError(400, f"The search parameter {name!r} is not supported.", expression=name)


def _key_filter(kind: Kind, values: list[str]) -> Q:
    if kind.key == "seq":
        if not all(is_whole_number(v) for v in values):
            raise FhirError(400, "An AuditEvent id is a whole number.", expression="_id")
        return Q(seq__in=[int(v) for v in values])
    return Q(uuid__in=[_uuid(v, "_id") for v in values])


def _identifier_filter(kind: Kind, value: str) -> Q:
    system, code = _token(value)
    if kind.name == "Patient":
        if system == mapping.NHS_NUMBER_SYSTEM:
            return Q(nhs_number=code.replace(" ", ""))
        if system is not None and system.startswith(f"{mapping.STUDENT_NUMBER_SYSTEM}:"):
            university = _uuid(system.rsplit(":", 1)[1], "identifier")
            return Q(student_number=code, university__uuid=university)
        if system is None:
            return Q(nhs_number=code) | Q(student_number=code)
    if kind.name == "Organization" and system in (mapping.ODS_SYSTEM, None):
        ods = Q(ods_code=code.upper())
        return ods if system is not None else ods | _own_id(code)
    if system in (mapping.ID_SYSTEM, None):
        own = _own_id(code)
        if system is not None:
            return own
    else:
        own = Q(pk__in=[])
    external = ExternalIdentifier.objects.filter(resource_type=kind.name, value=code)
    if system is not None:
        external = external.filter(system=system)
    return own | Q(uuid__in=external.values("target_uuid"))


def _own_id(code: str) -> Q:
    try:
        return Q(uuid=uuid.UUID(code))
    except ValueError:
        return Q(pk__in=[])


def _status_filter(kind: Kind, name: str, value: str) -> Q:
    if kind.name == "Consent" and value in ("active", "inactive"):
        return consent_status(value, timezone.now())
    expected = "active" if kind.name == "Patient" else "status"
    if name != expected or value not in kind.statuses:
        known = ", ".join(kind.statuses) or "active, inactive"
        raise FhirError(
            400,
            f"{value!r} is not a {kind.name} {name} this server knows. Known: {known}.",
            code="code-invalid",
            expression=name,
        )
    return kind.statuses[value]


def _date_filter(field: str | None, value: str, name: str) -> Q:
    match = _DATE.match(value)
    if field is None or match is None:
        raise FhirError(
            400,
            f"{name}={value} is not a date this server understands: use a prefix (eq, gt, ge, "
            "lt, le) and a date such as 2026-01-31 or 2026-01-31T09:00:00Z.",
            code="invalid",
            expression=name,
        )
    prefix = match.group("prefix") or "eq"
    if prefix not in ("eq", "gt", "ge", "lt", "le"):
        raise FhirError(400, f"The date prefix {prefix!r} is not supported.", expression=name)
    start, end = date_range(match.group("value"), name)
    return {
        "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
        "ge": Q(**{f"{field}__gte": start}),
        "gt": Q(**{f"{field}__gte": end}),
        "le": Q(**{f"{field}__lt": end}),
        "lt": Q(**{f"{field}__lt": start}),
    }[prefix]


def date_range(text: str, name: str) -> tuple[dt.datetime, dt.datetime]:
    """The interval a date of any precision stands for, in UTC (a date without a time zone
    is read in the server's zone, as FHIR says for dates without an offset)."""
    zone = timezone.get_current_timezone()
    try:
        if len(text) == 4:
            start = dt.datetime(int(text), 1, 1, tzinfo=zone)
            end = start.replace(year=start.year + 1)
        elif len(text) == 7:
            start = dt.datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=zone)
            end = (start + dt.timedelta(days=32)).replace(day=1)
        elif len(text) == 10:
            start = dt.datetime.fromisoformat(text).replace(tzinfo=zone)
            end = start + dt.timedelta(days=1)
        else:
            start = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            end = start + dt.timedelta(seconds=1)
    except (ValueError, OverflowError) as error:
        raise FhirError(400, f"{name}: {text} is not a real date.", expression=name) from error
    if timezone.is_naive(start):  # a time without an offset
        start, end = start.replace(tzinfo=zone), end.replace(tzinfo=zone)
    return start, end


def _token(value: str) -> tuple[str | None, str]:
    if "|" in value:
        system, code = value.split("|", 1)
        return system or None, code
    return None, value


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise FhirError(
            400, f"{name}: {value!r} is not an id this server issues.", expression=name
        ) from error


def is_whole_number(value: str) -> bool:
    """Plain ASCII digits a database integer can hold ("²" is a digit to Python)."""
    return value.isascii() and value.isdigit() and len(value) <= 18


def _positive(params, name: str, default: int, most: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not is_whole_number(value) or int(value) < 1:
        raise FhirError(400, f"{name} must be a whole number above 0.", expression=name)
    return min(int(value), most)
