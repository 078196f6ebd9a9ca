"""FHIR search: parameters → filters over the rows the access layer lets through.

Supported, per resource type, exactly as `PARAMETERS` lists them with their standard
definitions (the CapabilityStatement is built from it): `_id`, `identifier` (`system|value`
or `value`), `patient`/`subject` (`Patient/<id>` or `<id>`), `status` (`active` for
Patient), the type's date (`date`, `authored`, `authored-on`, `birthdate`) and
`_lastUpdated` (with the prefixes eq, gt, ge, lt, le, at the precision given), and the
codes and names each type is searched by. The result parameters: `_count` (at most 200; 0
gives the total alone), `_page`, `_sort`, `_total`, `_summary=count`, `_elements`,
`_include`/`_revinclude` of the student's Patient and their resources, and `_format` and
`_pretty`.

An unknown parameter that could filter is refused rather than ignored, so a client never
mistakes an unfiltered result for a filtered one; with `Prefer: handling=lenient` it is
ignored and said so. An unknown result parameter (a `_` parameter that cannot narrow what
is found, such as another server's `_totalMethod`) is ignored, and said so in an
OperationOutcome entry; neither appears in the Bundle's self link.
"""

import collections
import datetime as dt
import functools
import re
import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from joinedup.consent.policy import audit_listing
from joinedup.fhir import mapping
from joinedup.fhir.access import EVERY, KINDS, PERSONAL, Kind, consent_status, visible
from joinedup.fhir.errors import FhirError
from joinedup.fhir.models import ExternalIdentifier
from joinedup.fhir.resources import questionnaires, render
from joinedup.measures import instruments
from joinedup.people.models import Student

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Deep enough for any real search; a larger page would overflow the database OFFSET.
MAX_PAGE = 100_000
HL7 = "http://hl7.org/fhir/SearchParameter/"


@dataclass(frozen=True)
class Parameter:
    """A search parameter: its FHIR type, its definition, and what it filters on (`on`:
    one of the meanings `_apply` knows)."""

    type: str
    definition: str
    on: str


COMMON = {
    "_id": Parameter("token", f"{HL7}Resource-id", "_id"),
    "_lastUpdated": Parameter("date", f"{HL7}Resource-lastUpdated", "_lastUpdated"),
}


def _p(type_: str, definition: str, on: str) -> Parameter:
    return Parameter(type_, definition if "/" in definition else f"{HL7}{definition}", on)


# Each resource type's parameters, by their standard names.
PARAMETERS: dict[str, dict[str, Parameter]] = {
    "Patient": {
        "identifier": _p("token", "Patient-identifier", "identifier"),
        "active": _p("token", "Patient-active", "active"),
        "name": _p("string", "Patient-name", "person-name"),
        "family": _p("string", "individual-family", "family"),
        "given": _p("string", "individual-given", "given"),
        "birthdate": _p("date", "individual-birthdate", "birthdate"),
    },
    "Organization": {
        "identifier": _p("token", "Organization-identifier", "identifier"),
        "name": _p("string", "Organization-name", "name"),
    },
    "HealthcareService": {
        "identifier": _p("token", "HealthcareService-identifier", "identifier"),
        "name": _p("string", "HealthcareService-name", "name"),
        "organization": _p("reference", "HealthcareService-organization", "organization"),
    },
    "Questionnaire": {
        "code": _p("token", "Questionnaire-code", "code"),
        "url": _p("uri", "Questionnaire-url", "url"),
    },
    "ServiceRequest": {
        "identifier": _p("token", "clinical-identifier", "identifier"),
        "patient": _p("reference", "clinical-patient", "patient"),
        "subject": _p("reference", "ServiceRequest-subject", "patient"),
        "status": _p("token", "ServiceRequest-status", "status"),
        "authored": _p("date", "ServiceRequest-authored", "date"),
    },
    "Task": {
        "identifier": _p("token", "Task-identifier", "identifier"),
        "patient": _p("reference", "Task-patient", "patient"),
        "subject": _p("reference", "Task-subject", "patient"),
        "status": _p("token", "Task-status", "status"),
        "authored-on": _p("date", "Task-authored-on", "date"),
    },
    "EpisodeOfCare": {
        "identifier": _p("token", "clinical-identifier", "identifier"),
        "patient": _p("reference", "clinical-patient", "patient"),
        "status": _p("token", "EpisodeOfCare-status", "status"),
        "date": _p("date", "clinical-date", "date"),
    },
    "QuestionnaireResponse": {
        "identifier": _p("token", "QuestionnaireResponse-identifier", "identifier"),
        "patient": _p("reference", "QuestionnaireResponse-patient", "patient"),
        "subject": _p("reference", "QuestionnaireResponse-subject", "patient"),
        "status": _p("token", "QuestionnaireResponse-status", "status"),
        "authored": _p("date", "QuestionnaireResponse-authored", "date"),
        "questionnaire": _p("reference", "QuestionnaireResponse-questionnaire", "questionnaire"),
    },
    "Observation": {
        "identifier": _p("token", "clinical-identifier", "identifier"),
        "patient": _p("reference", "clinical-patient", "patient"),
        "subject": _p("reference", "Observation-subject", "patient"),
        "status": _p("token", "Observation-status", "status"),
        "date": _p("date", "clinical-date", "date"),
        "code": _p("token", "clinical-code", "score-code"),
        "category": _p("token", "Observation-category", "category"),
    },
    "Flag": {
        "identifier": _p("token", "Flag-identifier", "identifier"),
        "patient": _p("reference", "clinical-patient", "patient"),
        "subject": _p("reference", "Flag-subject", "patient"),
        "date": _p("date", "clinical-date", "date"),
        # R4 defines no status search for Flag; this server's own, as Flag.status reads.
        "status": _p("token", f"{mapping.ID_SYSTEM}/SearchParameter/Flag-status", "status"),
    },
    "Consent": {
        "identifier": _p("token", "clinical-identifier", "identifier"),
        "patient": _p("reference", "clinical-patient", "patient"),
        "status": _p("token", "Consent-status", "status"),
        "date": _p("date", "clinical-date", "date"),
    },
    "AuditEvent": {
        "patient": _p("reference", "AuditEvent-patient", "patient"),
        "date": _p("date", "AuditEvent-date", "date"),
    },
}
PARAMETERS = {name: COMMON | params for name, params in PARAMETERS.items()}
# Result parameters: they shape the answer, never narrow what is found.
RESULT = ("_count", "_page", "_sort", "_total", "_summary", "_elements", "_format", "_pretty")
INCLUDES: dict[str, tuple[str, ...]] = {
    **{name: ("_include",) for name in PERSONAL if name not in ("Patient", "AuditEvent")},
    "Patient": ("_revinclude",),
}
# Standard parameters that filter, which this server does not support: never ignored.
FILTERING = ("_filter", "_has", "_query", "_tag", "_profile", "_security", "_text",
             "_content", "_list", "_source", "_type", "_contained", "_containedType")  # fmt: skip
# What `_sort` may order by, besides `_id` and `_lastUpdated`: the type's date parameter.
SORT_FIELDS = {"birthdate": "date_of_birth", "family": "legal_family_name"}
SUMMARIES = ("true", "text", "data")
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
             "code": "SUBSETTED"}  # fmt: skip
_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<value>\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)


@dataclass
class Page:
    resources: list[dict]
    included: list[dict]
    total: int | None
    number: int
    count: int
    # What the search's patient has of this type that the user may not see: an
    # OperationOutcome naming who holds it (withheld, never absent), or None.
    withheld: dict | None = None
    # Parameters the search ignored (unknown result parameters, or any unknown one when
    # the client asked for lenient handling): said in an OperationOutcome, left out of links.
    ignored: list[str] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.count > 0 and self.total is not None and self.number * self.count < self.total

    def notice(self) -> dict | None:
        return ignored_notice(self.ignored)


def ignored_notice(ignored) -> dict | None:
    """What a search says of the parameters it ignored (None when it ignored none)."""
    if not ignored:
        return None
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"The parameter {name} is not one this server knows; it was "
                "ignored.",
                "expression": [name],
            }
            for name in ignored
        ],
    }


def page_size(params) -> int:
    """`_count`: how many a page holds (0: the total alone), at most `MAX_COUNT`."""
    return _whole(params, "_count", DEFAULT_COUNT, MAX_COUNT, least=0)


def search(user, resource_type: str, params, *, request=None, lenient=False) -> Page:
    """One page of matches the user may see, with included resources, audited per student."""
    known = PARAMETERS[resource_type]
    ignored = unknown_parameters(resource_type, params, lenient)
    used = _Used(params, ignored)
    summary = used.get("_summary")
    if summary not in (None, "count", "false", *SUMMARIES):
        raise FhirError(400, f"_summary may be true, text, data, count or false, not {summary}.",
                        expression="_summary")  # fmt: skip
    if summary in SUMMARIES and "_elements" in used:
        raise FhirError(400, "Ask for _summary or _elements, not both.", expression="_summary")
    count = 0 if summary == "count" else page_size(used)
    number = _whole(used, "_page", 1, MAX_PAGE, least=1)
    with_total = used.get("_total", "accurate") != "none"
    if used.get("_total") not in (None, "none", "estimate", "accurate"):
        raise FhirError(400, "_total may be none, estimate or accurate.", expression="_total")
    _check_format(used)
    if resource_type == "Questionnaire":
        page = _questionnaires(used, count, number)
    else:
        kind = KINDS[resource_type]
        rows = _filter(user, kind, visible(user, kind, _patients(kind, used)), used, known)
        rows = rows.order_by(*_ordering(kind, used, known))
        page_rows, total = _page_of(kind, rows, number, count, with_total)
        resources = _render_audited(user, kind, page_rows, request)
        included = _includes(user, kind, page_rows, used, request)
        withheld = _withheld(user, kind, used, request)
        page = Page(resources, included, total, number, count, withheld)
    if not with_total and count:
        page.total = None
    # The version is the whole resource's, so a subset names the version it was cut from.
    page.resources = [
        _summarised(only_elements(mapping.versioned(r), used), summary) for r in page.resources
    ]
    page.ignored = ignored
    return page


def _page_of(kind: Kind, rows: QuerySet, number: int, count: int, with_total: bool):
    """One page of `rows` and, when wanted, how many there are in all. The page's keys come
    first, and only the page's rows are then fetched whole, with what they refer to.

    On SQLite the keys and the total come from one query (a window count), which works out
    the access filters once: a count and a page apart cost it twice as much. PostgreSQL
    plans them apart better (a page in the order of an index stops early; a window count
    must read every match first), so it gets the two queries."""
    if count == 0:
        return [], rows.count()
    page = slice((number - 1) * count, number * count)
    if with_total and connection.vendor == "sqlite":
        keyed = list(rows.annotate(_total=Window(Count("pk"))).values_list("pk", "_total")[page])
        keys, total = [k for k, _ in keyed], (keyed[0][1] if keyed else rows.count())
    else:
        keys = list(rows.values_list("pk", flat=True)[page])
        total = rows.count() if with_total else None
    by_pk = kind.rows().in_bulk(keys)
    return [by_pk[k] for k in keys], total


def _patients(kind: Kind, params) -> list[int] | None:
    """The students a search is bound to by `patient`/`subject` (their ids, none when the
    ids name nobody), or None when it is not bound: the policy is then asked only about
    them, which keeps a patient's search as cheap on a hub as on a small service."""
    keys = [
        alternative.removeprefix("Patient/")
        for name in ("patient", "subject")
        for value in params.getlist(name)
        for alternative in _alternatives(value)
    ]
    if not keys or kind.category is None or kind.name == "Patient":
        return None
    uuids = [_uuid(key, "patient") for key in keys]
    return list(Student.objects.filter(uuid__in=uuids).values_list("pk", flat=True))


class _Used:
    """The request's parameters less those the search ignores (a QueryDict's reading API)."""

    def __init__(self, params, ignored):
        self._params, self._ignored = params, set(ignored)

    def __iter__(self):
        return (name for name in self._params if name not in self._ignored)

    def __contains__(self, name):
        return name in self._params and name not in self._ignored

    def get(self, name, default=None):
        return self._params.get(name, default) if name in self else default

    def getlist(self, name):
        return self._params.getlist(name) if name in self else []


def unknown_parameters(resource_type: str, params, lenient: bool, known=None) -> list[str]:
    """The parameters a search ignores (unknown result parameters, such as fhirpy's
    `_totalMethod`; any unknown one when the client asked for lenient handling); raises for
    an unknown or modified parameter that would filter. `known`: the type's parameters."""
    known = PARAMETERS[resource_type] if known is None else known
    allowed = (*known, *RESULT, *INCLUDES.get(resource_type, ()))
    ignored = []
    for name in params:
        if name in allowed:
            continue
        base, modified, _modifier = name.partition(":")
        result_only = base.startswith("_") and base not in FILTERING and not modified
        if lenient or (result_only and base not in known):
            ignored.append(name)
            continue
        if modified:
            raise FhirError(
                400,
                f"{name}: this server supports no search modifiers (:{_modifier}). Leave it "
                "out, or send Prefer: handling=lenient to have it ignored (and the search "
                "widened).",
                code="not-supported",
                expression=name,
            )
        raise FhirError(
            400,
            f"The search parameter {name!r} is not supported for {resource_type}. "
            f"Supported: {', '.join(allowed)}.",
            code="not-supported",
            expression=name,
        )
    return ignored


def _check_format(params) -> None:
    value = params.get("_format")
    if value is not None and value not in ("json", "application/json", "application/fhir+json"):
        raise FhirError(406, "This server answers in JSON only (_format=json).",
                        code="not-supported", expression="_format")  # fmt: skip


def _sortable(kind: Kind, known: dict[str, Parameter]) -> dict[str, object]:
    """What `_sort` may order a type by: `_id`, `_lastUpdated`, its date parameter, and a
    Patient's birthdate and family name."""
    updated = F(kind.updated) if isinstance(kind.updated, str) else kind.updated
    keys: dict[str, object] = {"_id": F(kind.key)}
    if updated is not None:
        keys["_lastUpdated"] = updated
    for name, parameter in known.items():
        if parameter.on == "date" and kind.date:
            keys[name] = F(kind.date)
        if kind.name == "Patient" and name in SORT_FIELDS:
            keys[name] = F(SORT_FIELDS[name])
    return keys


def _ordering(kind: Kind, params, known: dict[str, Parameter]) -> list:
    """`_sort` as an ORDER BY, the primary key breaking ties (so pages never overlap) in the
    last key's direction, so that an index on (key, id) gives the order as it stands."""
    sortable = _sortable(kind, known)
    ordering: list = []
    for key in filter(None, ",".join(params.getlist("_sort")).split(",")):
        target = sortable.get(key.removeprefix("-"))
        if target is None:
            raise FhirError(
                400,
                f"_sort={key} is not supported for {kind.name}. Sort by: {', '.join(sortable)}.",
                code="not-supported",
                expression="_sort",
            )
        ordering.append(target.desc() if key.startswith("-") else target.asc())
    descending = bool(ordering) and ordering[-1].descending
    return [*ordering, "-pk" if descending else "pk"]


def only_elements(resource: dict, params) -> dict:
    """`_elements`: only the named top-level elements (with id, meta, the type and, as the
    specification asks, the mandatory ones), marked SUBSETTED."""
    names = {n.strip() for v in params.getlist("_elements") for n in v.split(",") if n.strip()}
    if not names:
        return resource
    flags = _element_flags(resource["resourceType"])
    always = {"resourceType", "id", "meta"}
    kept = {k: v for k, v in resource.items() if k in names | always or flags[k][1]}
    meta = dict(kept.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    return kept | {"meta": meta}


def _summarised(resource: dict, summary: str | None) -> dict:
    """`_summary=true`: the elements the FHIR specification marks as summary (as
    `fhir.resources` records them); `text`: the narrative, id, meta and the mandatory
    elements; `data`: all but the narrative. Each marked SUBSETTED."""
    if summary not in SUMMARIES:
        return resource
    flags = _element_flags(resource["resourceType"])
    if summary == "true":
        kept = {k: v for k, v in resource.items() if k == "resourceType" or flags[k][0]}
    elif summary == "text":
        always = ("resourceType", "id", "meta", "text")
        kept = {k: v for k, v in resource.items() if k in always or flags[k][1]}
    else:
        kept = {k: v for k, v in resource.items() if k != "text"}
    meta = dict(kept.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    return kept | {"meta": meta}


@functools.cache
def _element_flags(resource_type: str) -> dict[str, tuple[bool, bool]]:
    """Each top-level element of a type: (is it a summary element, is it mandatory)."""
    flags: dict[str, tuple[bool, bool]] = collections.defaultdict(lambda: (False, False))
    for element in get_fhir_model_class(resource_type).model_fields.values():
        extra = element.json_schema_extra if isinstance(element.json_schema_extra, dict) else {}
        flags[element.alias or ""] = (
            bool(extra.get("summary_element_property")),
            element.is_required() or bool(extra.get("element_required")),
        )
    return flags


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


def _filter(user, kind: Kind, rows: QuerySet, params, known: dict[str, Parameter]) -> QuerySet:
    """Each parameter narrows the rows (AND); the values of one, separated by commas, are
    alternatives (OR), as `code=44261-6,70274-6` asks for either."""
    if "_lastUpdated" in params:
        updated = F(kind.updated) if isinstance(kind.updated, str) else kind.updated
        rows = rows.alias(_updated=updated)
    for name in params:
        if name in known:
            for value in params.getlist(name):
                either = Q(pk__in=[])
                for alternative in _alternatives(value):
                    either |= _condition(kind, name, known[name].on, alternative)
                rows = rows.filter(either)
    return rows


_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def _alternatives(value: str) -> list[str]:
    """A parameter's comma-separated values, `\\,` being a comma within one."""
    return [part.replace("\\,", ",") for part in _UNESCAPED_COMMA.split(value)]


def _condition(kind: Kind, name: str, on: str, value: str) -> Q:
    match on:
        case "_id":
            return _key_filter(kind, [value])
        case "patient":
            student = value.removeprefix("Patient/")
            return Q(student__uuid=_uuid(student, name))
        case "identifier":
            return _identifier_filter(kind, value)
        case "status" | "active":
            return _status_filter(kind, name, value)
        case "date":
            return _date_filter(kind.date, value, name)
        case "birthdate":
            return _date_filter("date_of_birth", value, name, dates=True)
        case "_lastUpdated":
            return _date_filter("_updated", value, name)
        case "name":
            return Q(name__icontains=value)
        case "person-name" | "family" | "given":
            return _person_name_filter(on, value)
        case "organization":
            return Q(organisation__uuid=_uuid(value.removeprefix("Organization/"), name))
        case "score-code":
            return Q(code__in=_score_codes(value))
        case "category":
            return EVERY if _token_matches(value, mapping.SURVEY) else Q(pk__in=[])
        case "questionnaire":
            return Q(code__in=_questionnaire_codes(value))
    raise FhirError(400, f"The search parameter {name!r} is not supported.", expression=name)


_NAME_FIELDS = {
    "person-name": ("legal_given_name", "legal_family_name", "preferred_name"),
    "family": ("legal_family_name",),
    "given": ("legal_given_name", "preferred_name"),
}


def _person_name_filter(on: str, value: str) -> Q:
    """A string search: a name that begins with the value, any case (FHIR's default)."""
    condition = Q(pk__in=[])
    for name in _NAME_FIELDS[on]:
        condition |= Q(**{f"{name}__istartswith": value.strip()})
    return condition


def _token_matches(value: str, coding: dict) -> bool:
    system, code = _token(value)
    return code == coding["code"] and system in (None, coding["system"])


def _score_codes(value: str) -> list[str]:
    return [i.code for i in mapping.scored_as(*_token(value))]


def _questionnaire_codes(value: str) -> list[str]:
    """The instruments a Questionnaire reference names: `Questionnaire/<id>`, or any
    canonical a response may be sent with (ours, a LOINC panel's, another organisation's
    naming the measure; with or without a version), as a create reads it."""
    every = instruments.all_instruments()
    by_id = [i for i in every if value == f"Questionnaire/{mapping.questionnaire_id(i.code)}"]
    return [i.code for i in by_id or mapping.instruments_named(value, every)]


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


def _date_filter(field: str | None, value: str, name: str, *, dates: bool = False) -> Q:
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
    if dates:  # a date field: the days the interval covers
        start, end = start.date(), end.date() + dt.timedelta(days=1 if end.time() else 0)
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


def _whole(params, name: str, default: int, most: int, *, least: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not is_whole_number(value) or int(value) < least:
        raise FhirError(400, f"{name} must be a whole number from {least}.", expression=name)
    return min(int(value), most)
