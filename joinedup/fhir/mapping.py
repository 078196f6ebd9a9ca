"""JoinedUp models as FHIR R4 resources (UK Core identifiers and extensions where they exist).

Each `*_resource()` function takes model instances already fetched (with their related rows
selected) and returns the resource as its JSON form, a plain dict: the server writes
thousands of them per second in a bulk export, and building pydantic models for each would
cost several times more than the query. `as_model()` turns any of them into the
`fhir.resources.R4B` model, which is how the tests validate every resource emitted, and how
received resources are parsed.

Nothing here decides access: callers pass only rows the access policy lets the reader see
(`joinedup.fhir.access`). The Patient carries registration details (address, GP practice,
status) only when `with_registration` says that category was allowed too.

Abbreviations: LOINC (Logical Observation Identifiers Names and Codes), ODS (Organisation
Data Service code), SNOMED CT (clinical terms), UCUM (units of measure).
"""

import datetime as dt
import functools
import hashlib
import json
import re

from fhir.resources.R4B import get_fhir_model_class

from joinedup.measures import instruments

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
HL7_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
PRONOUNS_URL = "http://hl7.org/fhir/StructureDefinition/individual-pronouns"
# JoinedUp's own naming systems. URNs: they name things, nobody resolves them.
URN = "urn:joinedup"
STUDENT_NUMBER_SYSTEM = f"{URN}:student-number"
ID_SYSTEM = f"{URN}:id"
QUESTIONNAIRE_BASE = f"{URN}:questionnaire"
CATEGORY_SYSTEM = f"{URN}:data-category"
PURPOSE_SYSTEM = f"{URN}:purpose"
RISK_LEVEL_SYSTEM = f"{URN}:risk-level"
AUDIT_ACTION_SYSTEM = f"{URN}:audit-action"
REFERRAL_CODE = {"system": SNOMED, "code": "3457005", "display": "Patient referral"}

FHIR_JSON = "application/fhir+json"


def as_model(resource: dict):
    """The `fhir.resources.R4B` model of a resource dict; raises pydantic's ValidationError."""
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def reference(resource_type: str, key, display: str = "") -> dict:
    ref = {"reference": f"{resource_type}/{key}"}
    if display:
        ref["display"] = display
    return ref


def instant(value: dt.datetime | None) -> str | None:
    """A FHIR instant/dateTime: always with its UTC offset (the database stores UTC)."""
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def _prune(resource: dict) -> dict:
    """Drop empty elements: FHIR forbids empty strings, lists and objects."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def _own_identifier(key) -> dict:
    return {"system": ID_SYSTEM, "value": str(key)}


def _meta(updated: dt.datetime | None) -> dict | None:
    return {"lastUpdated": instant(updated)} if updated else None


# UK Core (HL7 UK, https://simplifier.net/hl7fhirukcorer4): every type served here has its
# profile, and every resource meets it (tested against each profile's required elements).
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
UK_CORE_TYPES = ("Patient", "Organization", "HealthcareService", "ServiceRequest", "Task",
                 "EpisodeOfCare", "Questionnaire", "QuestionnaireResponse", "Observation",
                 "Flag", "Consent", "AuditEvent")  # fmt: skip


# A resource's one JSON form: compact, its elements in the order the mapping builds them.
COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_UNVERSIONED = "0" * 16  # where the version goes while it is worked out


def versioned_json(resource: dict) -> tuple[str, str]:
    """The resource in its JSON form carrying its `meta.versionId`, and that version: a
    digest of what it says, so the version changes exactly when its content does (this
    server keeps no past versions to number). It is the version of what this reader sees of
    the resource. The digest is of the same text, with a placeholder where the version goes,
    so a bulk export pays for one encoding. (The placeholder cannot be met earlier in the
    text: a quote inside a string is escaped.)"""
    meta = dict(resource.get("meta") or {})
    meta.pop("versionId", None)
    text = COMPACT.encode(resource | {"meta": meta | {"versionId": _UNVERSIONED}})
    version = hashlib.sha256(text.encode()).hexdigest()[:16]
    return text.replace(f'"versionId":"{_UNVERSIONED}"', f'"versionId":"{version}"', 1), version


def versioned(resource: dict) -> dict:
    """The resource with its `meta.versionId` (`versioned_json`)."""
    _text, version = versioned_json(resource)
    meta = dict(resource.get("meta") or {})
    meta.pop("versionId", None)
    return resource | {"meta": meta | {"versionId": version}}


def profiled(resource: dict) -> dict:
    """The resource claiming its UK Core profile in `meta.profile`."""
    if resource["resourceType"] in UK_CORE_TYPES:
        meta = resource.get("meta") or {}
        resource["meta"] = meta | {"profile": [f"{UK_CORE}{resource['resourceType']}"]}
    return resource


def _period(start, end) -> dict:
    return _prune({"start": instant(start), "end": instant(end)})


# People and places ------------------------------------------------------------------------


def patient_resource(student, *, with_registration: bool, extra_identifiers=()) -> dict:
    """A student as a Patient: NHS number, student number, legal (`official`) and preferred
    (`usual`) names, pronouns (individual-pronouns extension), date of birth, contacts.

    Registration details (address, GP practice, enrolment status) only `with_registration`.
    """
    identifiers = []
    if student.nhs_number:
        nhs = {"system": NHS_NUMBER_SYSTEM, "value": student.nhs_number}
        if student.nhs_number_status in NHS_NUMBER_STATUSES:
            nhs["extension"] = [nhs_number_status_extension(student.nhs_number_status)]
        identifiers.append(nhs)
    identifiers.append(
        {
            "system": f"{STUDENT_NUMBER_SYSTEM}:{student.university.uuid}",
            "value": student.student_number,
            "assigner": reference("Organization", student.university.uuid, student.university.name),
        }
    )
    identifiers.extend(extra_identifiers)
    names = [
        {
            "use": "official",
            "family": student.legal_family_name,
            "given": [student.legal_given_name],
        }
    ]
    if student.preferred_name:
        names.append(
            {"use": "usual", "family": student.legal_family_name, "given": [student.preferred_name]}
        )
    telecom = []
    if student.email:
        telecom.append({"system": "email", "value": student.email, "use": "home"})
    if student.phone:
        telecom.append({"system": "phone", "value": student.phone, "use": "mobile"})
    resource = {
        "resourceType": "Patient",
        "id": str(student.uuid),
        "meta": _meta(student.changed_at),
        "extension": [_pronouns_extension(student.pronouns)] if student.pronouns else None,
        "identifier": identifiers,
        "name": names,
        "telecom": telecom,
        "birthDate": student.date_of_birth.isoformat(),
    }
    if with_registration:
        resource["active"] = student.status in ("enrolled", "interrupted")
        resource["address"] = [
            _prune({"use": use, "postalCode": postcode})
            for use, postcode in (("temp", student.term_postcode), ("home", student.home_postcode))
            if postcode
        ]
        if student.gp_practice_id is not None:
            gp = student.gp_practice
            resource["generalPractitioner"] = [reference("Organization", gp.uuid, gp.name)]
    return _prune(resource)


def _pronouns_extension(pronouns: str) -> dict:
    # The extension's value is a CodeableConcept; free-text pronouns go in its text.
    return {
        "url": PRONOUNS_URL,
        "extension": [{"url": "value", "valueCodeableConcept": {"text": pronouns}}],
    }


NHS_NUMBER_STATUS_URL = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
NHS_NUMBER_STATUS_SYSTEM = (
    "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
)
NHS_NUMBER_STATUSES = {
    "01": "Number present and verified",
    "02": "Number present but not traced",
    "03": "Trace required",
    "04": "Trace attempted - No match or multiple match found",
    "05": "Trace needs to be resolved - (NHS number or patient detail conflict)",
    "06": "Trace in progress",
    "07": "Number not present and trace not required",
    "08": "Trace postponed (baby under six weeks old)",
}


def nhs_number_status_extension(code: str) -> dict:
    """UK Core's NHS number verification status, as the sender of the number said it."""
    coding = {"system": NHS_NUMBER_STATUS_SYSTEM, "code": code,
              "display": NHS_NUMBER_STATUSES[code]}  # fmt: skip
    return {"url": NHS_NUMBER_STATUS_URL, "valueCodeableConcept": {"coding": [coding]}}


# Organization.type (http://terminology.hl7.org/CodeSystem/organization-type) by kind.
ORGANIZATION_TYPES = {
    "university": ("edu", "Educational Institute"),
    "nhs_trust": ("prov", "Healthcare Provider"),
    "gp_practice": ("prov", "Healthcare Provider"),
    "third_sector": ("cg", "Community Group"),
}


def organization_resource(organisation) -> dict:
    """An organisation; NHS bodies carry their ODS code."""
    identifiers = [_own_identifier(organisation.uuid)]
    if organisation.ods_code:
        identifiers.insert(0, {"system": ODS_SYSTEM, "value": organisation.ods_code})
    return {
        "resourceType": "Organization",
        "id": str(organisation.uuid),
        "identifier": identifiers,
        "active": True,
        "type": [_organization_type(organisation)],
        "name": organisation.name,
    }


def _organization_type(organisation) -> dict:
    code, display = ORGANIZATION_TYPES[organisation.kind]
    coding = {"system": "http://terminology.hl7.org/CodeSystem/organization-type",
              "code": code, "display": display}  # fmt: skip
    return {"coding": [coding], "text": organisation.get_kind_display()}


def healthcare_service_resource(service) -> dict:
    organisation = service.organisation
    return {
        "resourceType": "HealthcareService",
        "id": str(service.uuid),
        "identifier": [_own_identifier(service.uuid)],
        "active": True,
        "providedBy": reference("Organization", organisation.uuid, organisation.name),
        "type": [{"text": service.get_kind_display()}],
        "name": service.name,
    }


def group_resource(service, size: int) -> dict:
    """A service's caseload as a Group: the students in its care (`size` of them), whose
    id is the service's, as a group-level export names it."""
    organisation = service.organisation
    return {
        "resourceType": "Group",
        "id": str(service.uuid),
        "identifier": [_own_identifier(service.uuid)],
        "active": True,
        "type": "person",
        "actual": True,
        "name": f"Caseload of {service.name}",
        "managingEntity": reference("Organization", organisation.uuid, organisation.name),
        "quantity": size,
        "characteristic": [
            {
                "code": {"text": "In the care of"},
                "valueReference": reference("HealthcareService", service.uuid, service.name),
                "exclude": False,
            }
        ],
    }


# Referrals and episodes -------------------------------------------------------------------

SERVICE_REQUEST_STATUS = {
    "draft": "draft",
    "sent": "active",
    "accepted": "active",
    "waiting": "active",
    "in_treatment": "active",
    "declined": "revoked",
    "withdrawn": "revoked",
    "discharged": "completed",
}
TASK_STATUS = {
    "draft": "draft",
    "sent": "requested",
    "accepted": "accepted",
    "waiting": "accepted",
    "in_treatment": "in-progress",
    "declined": "rejected",
    "withdrawn": "cancelled",
    "discharged": "completed",
}


def service_request_resource(referral, extra_identifiers=()) -> dict:
    """A referral as a ServiceRequest: who asked (the referring service's organisation, or the
    student for a self-referral), the receiving service as performer, the reason as text."""
    student = referral.student
    if referral.from_service_id is not None:
        frm = referral.from_service
        requester = reference("Organization", frm.organisation.uuid, frm.organisation.name)
    else:
        requester = reference("Patient", student.uuid)
    to = referral.to_service
    return _prune(
        {
            "resourceType": "ServiceRequest",
            "id": str(referral.uuid),
            "meta": _meta(referral.last_changed_at),
            "identifier": [_own_identifier(referral.uuid), *extra_identifiers],
            "status": SERVICE_REQUEST_STATUS[referral.state],
            "intent": "order",
            "category": [{"coding": [REFERRAL_CODE]}],
            "code": {"coding": [REFERRAL_CODE], "text": referral.get_source_display()},
            "subject": reference("Patient", student.uuid),
            "encounter": None,
            "authoredOn": instant(referral.sent_at or referral.created_at),
            "requester": requester,
            "performer": [reference("HealthcareService", to.uuid, to.name)],
            "reasonCode": [{"text": referral.reason}],
        }
    )


def task_resource(referral) -> dict:
    """The receiving service's work on a referral, as a Task focused on its ServiceRequest."""
    to = referral.to_service
    resource = {
        "resourceType": "Task",
        "id": str(referral.uuid),
        "meta": _meta(referral.last_changed_at),
        "identifier": [_own_identifier(referral.uuid)],
        "basedOn": [reference("ServiceRequest", referral.uuid)],
        "status": TASK_STATUS[referral.state],
        "businessStatus": {"text": referral.get_state_display()},
        "intent": "order",
        "code": {"coding": [REFERRAL_CODE]},
        "focus": reference("ServiceRequest", referral.uuid),
        "for": reference("Patient", referral.student.uuid),
        "authoredOn": instant(referral.created_at),
        "lastModified": instant(referral.last_changed_at),
        "owner": reference("HealthcareService", to.uuid, to.name),
    }
    if referral.decline_reason:
        resource["statusReason"] = {"text": referral.get_decline_reason_display()}
    return _prune(resource)


def episode_of_care_resource(episode) -> dict:
    service = episode.service
    referral = getattr(episode, "referral", None)
    return _prune(
        {
            "resourceType": "EpisodeOfCare",
            "id": str(episode.uuid),
            "meta": _meta(episode.ended_at or episode.started_at),
            "identifier": [_own_identifier(episode.uuid)],
            "status": "finished" if episode.ended_at else "active",
            "type": [{"text": service.name}],
            "patient": reference("Patient", episode.student.uuid),
            "managingOrganization": reference(
                "Organization", service.organisation.uuid, service.organisation.name
            ),
            "period": _period(episode.started_at, episode.ended_at),
            "referralRequest": [reference("ServiceRequest", referral.uuid)] if referral else None,
        }
    )


# Questionnaires ---------------------------------------------------------------------------


def questionnaire_id(code: str) -> str:
    """ "PHQ-9" → "phq-9": a FHIR id (letters, digits, '-' and '.')."""
    return re.sub(r"[^a-z0-9.-]", "-", code.lower())


def questionnaire_url(code: str) -> str:
    return f"{QUESTIONNAIRE_BASE}:{questionnaire_id(code)}"


LOINC_AT_END = re.compile(r"(\d{1,7}-\d)$")


def plain_name(name: str) -> str:
    """A questionnaire's name reduced for comparison: "PHQ-9", "phq9", "Phq_9" agree."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def instruments_named(text: str, every) -> list:
    """The instruments a canonical or name names: ours, a LOINC panel's, or another
    organisation's whose last path segment is the measure's name (".../Questionnaire/PHQ-9")."""
    canonical = text.split("|")[0].rstrip("/")
    if "loinc.org" in canonical:
        panel = LOINC_AT_END.search(canonical)
        return [i for i in every if panel and i.loinc_panel == panel.group(1)]
    ours = [i for i in every if canonical == questionnaire_url(i.code)]
    if ours:
        return ours
    last = plain_name(canonical.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    return [i for i in every if last and plain_name(i.code) == last]


def answer_coding(instrument, option) -> dict:
    """An answer option's coding: its LOINC answer code where the measure has one."""
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.label}
    return {
        "system": f"{questionnaire_url(instrument.code)}:answer",
        "code": str(option.value),
        "display": option.label,
    }


def item_code(instrument, item) -> list[dict] | None:
    return [{"system": LOINC, "code": item.loinc}] if item.loinc else None


def questionnaire_resource(instrument, item_texts: dict[int, str] | None = None) -> dict:
    """A measure as a Questionnaire: LOINC panel, item and answer codes where they exist.

    Item texts appear only where the licence lets them ship (or a licensed service loaded
    them: `item_texts`); linkIds are the item numbers.
    """
    texts = {i.number: i.text for i in instrument.items if i.text} | (item_texts or {})
    options = [{"valueCoding": answer_coding(instrument, o)} for o in instrument.options]
    items = [
        _prune(
            {
                "linkId": str(item.number),
                "code": item_code(instrument, item),
                "prefix": str(item.number),
                "text": texts.get(item.number),
                "type": "choice",
                "required": False,
                "answerOption": options,
            }
        )
        for item in instrument.items
    ]
    items.append(
        _prune(
            {
                "linkId": "total",
                "code": [{"system": LOINC, "code": instrument.loinc_total}]
                if instrument.loinc_total
                else None,
                "text": "Total score",
                "type": "decimal",
                "readOnly": True,
            }
        )
    )
    return _prune(
        {
            "resourceType": "Questionnaire",
            "id": questionnaire_id(instrument.code),
            "url": questionnaire_url(instrument.code),
            "name": re.sub(r"[^A-Za-z0-9]", "", instrument.code),
            "title": instrument.name,
            "status": "active",
            "subjectType": ["Patient"],
            "copyright": instrument.licence,
            "code": [{"system": LOINC, "code": instrument.loinc_panel}]
            if instrument.loinc_panel
            else None,
            "item": items,
        }
    )


def questionnaire_response_resource(
    administration, extra_identifiers=(), *, answers: dict[int, int] | None = None
) -> dict:
    """An administration as a completed QuestionnaireResponse; each answer carries the
    option's coding, and the computed total is the read-only `total` item."""
    items_of, codings = _response_parts(administration.code)
    items = []
    if answers is None:
        answers = {a.item: a.value for a in administration.answers.all()}
    for number, link_id, text in items_of:
        entry = {"linkId": link_id}
        if text:
            entry["text"] = text
        if number in answers:
            entry["answer"] = [{"valueCoding": dict(codings[answers[number]])}]
        items.append(entry)
    if administration.total is not None:
        items.append({"linkId": "total", "answer": [{"valueDecimal": administration.total}]})
    service = administration.service
    return _prune(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(administration.uuid),
            "meta": _meta(administration.created_at),
            "identifier": (extra_identifiers or [_own_identifier(administration.uuid)])[0],
            "questionnaire": questionnaire_url(administration.code),
            "status": "completed",
            "subject": reference("Patient", administration.student.uuid),
            "authored": instant(administration.completed_at),
            "author": reference(
                "Organization", service.organisation.uuid, service.organisation.name
            ),
            "source": reference("Patient", administration.student.uuid)
            if administration.method == "link"
            else None,
            "item": items,
        }
    )


@functools.cache
def _response_parts(code: str) -> tuple[tuple, dict]:
    """A measure's items (number, linkId, text) and answer codings by position, worked out
    once: an export writes the same few measures hundreds of thousands of times."""
    instrument = instruments.get(code)
    items = tuple((i.number, str(i.number), i.text) for i in instrument.items)
    codings = {o.value: answer_coding(instrument, o) for o in instrument.options}
    return items, codings


SURVEY = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}


def score_coding(instrument) -> dict:
    """The code of an instrument's score Observation: LOINC's total code where the score is
    the total and LOINC has one, else the score's own code in the instrument's system."""
    if instrument.main_score_field == "total" and instrument.loinc_total:
        return {"system": LOINC, "code": instrument.loinc_total}
    return {
        "system": f"{questionnaire_url(instrument.code)}:score",
        "code": instrument.main_score_field,
    }


def scored_as(system: str | None, code: str) -> list:
    """The instruments whose score Observation carries this code (`system` None: any)."""
    return [
        i
        for i in instruments.all_instruments()
        if code == score_coding(i)["code"] and system in (None, score_coding(i)["system"])
    ]


def observation_resource(administration, extra_identifiers=()) -> dict | None:
    """The score of an administration as an Observation (LOINC total code where one exists),
    derived from its QuestionnaireResponse unless the score was stated without answers;
    None when the answers gave no valid score."""
    if administration.main_score is None:
        return None
    instrument = instruments.get(administration.code)
    coding = score_coding(instrument)
    if coding["system"] != LOINC:  # LOINC's own displays are LOINC's to give
        coding["display"] = f"{instrument.code} {instrument.main_score_field.replace('_', ' ')}"
    interpretation = [{"text": administration.band}] if administration.band else None
    return _prune(
        {
            "resourceType": "Observation",
            "id": str(administration.uuid),
            "meta": _meta(administration.created_at),
            "identifier": [_own_identifier(administration.uuid), *extra_identifiers],
            "status": "final",
            "category": [{"coding": [dict(SURVEY)]}],
            "code": {"coding": [coding], "text": f"{instrument.code} score"},
            "subject": reference("Patient", administration.student.uuid),
            "effectiveDateTime": instant(administration.completed_at),
            "performer": [
                reference(
                    "Organization",
                    administration.service.organisation.uuid,
                    administration.service.organisation.name,
                )
            ],
            "valueQuantity": {
                "value": administration.main_score,
                "unit": "score",
                "system": UCUM,
                "code": "{score}",
            },
            "interpretation": interpretation,
            "derivedFrom": [reference("QuestionnaireResponse", administration.uuid)]
            if not administration.score_only
            else None,
        }
    )


# Risk, consent, audit ---------------------------------------------------------------------


def flag_resource(flag) -> dict:
    """A risk flag: active until someone in the student's care acknowledges it."""
    resource = {
        "resourceType": "Flag",
        "id": str(flag.uuid),
        "meta": _meta(flag.acknowledged_at or flag.raised_at),
        "identifier": [_own_identifier(flag.uuid)],
        "status": "inactive" if flag.acknowledged_at else "active",
        "category": [{"text": flag.get_source_display()}],
        "code": {
            "coding": [
                {
                    "system": RISK_LEVEL_SYSTEM,
                    "code": str(flag.level.rank),
                    "display": flag.level.name,
                }
            ],
            "text": flag.reason,
        },
        "subject": reference("Patient", flag.student.uuid),
        "period": _period(flag.raised_at, flag.acknowledged_at),
    }
    if flag.service_id is not None:
        service = flag.service
        resource["author"] = reference(
            "Organization", service.organisation.uuid, service.organisation.name
        )
    return _prune(resource)


# A purpose in HL7's PurposeOfUse (v3 ActReason), where one means it; academic support,
# which no health purpose covers, in this server's own code system.
PURPOSES_OF_USE = {"direct_care": ("TREAT", "treatment")}


def _purpose(grant) -> dict:
    if grant.purpose in PURPOSES_OF_USE:
        code, display = PURPOSES_OF_USE[grant.purpose]
        return {"system": f"{HL7_TERMINOLOGY}v3-ActReason", "code": code, "display": display}
    return {"system": PURPOSE_SYSTEM, "code": grant.purpose, "display": grant.get_purpose_display()}


def consent_resource(grant, *, now: dt.datetime) -> dict:
    """A consent grant: which category of data goes to whom, for what purpose, from when."""
    recipient = grant.recipient
    if grant.recipient_service_id is not None:
        actor = reference("HealthcareService", recipient.uuid, recipient.name)
    elif grant.recipient_organisation_id is not None:
        actor = reference("Organization", recipient.uuid, recipient.name)
    else:  # a department is part of its university
        actor = reference("Organization", recipient.organisation.uuid, recipient.organisation.name)
    active = grant.active_at(now)
    end = grant.withdrawn_at or grant.valid_until
    return _prune(
        {
            "resourceType": "Consent",
            "id": str(grant.uuid),
            "meta": _meta(grant.withdrawn_at or grant.created_at),
            "identifier": [_own_identifier(grant.uuid)],
            "status": "active" if active else "inactive",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }
                ]
            },
            "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
            "patient": reference("Patient", grant.student.uuid),
            "dateTime": instant(grant.created_at),
            "performer": [reference("Patient", grant.student.uuid)],
            "policyRule": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
                ]
            },
            "provision": _prune(
                {
                    "type": "permit",
                    "period": _period(grant.valid_from, end),
                    "actor": [
                        {
                            "role": {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                        "code": "IRCP",
                                    }
                                ]
                            },
                            "reference": actor,
                        }
                    ],
                    "purpose": [_purpose(grant)],
                    "code": [
                        {
                            "coding": [
                                {
                                    "system": CATEGORY_SYSTEM,
                                    "code": grant.category,
                                    "display": grant.get_category_display(),
                                }
                            ]
                        }
                    ],
                }
            ),
        }
    )


# AuditEvent.action (http://hl7.org/fhir/audit-event-action) by the last word of an audit
# action: a read (R), a query or other operation (E), a create (C), a delete (D); any
# other change is an update (U).
_AUDIT_VERBS = {
    "R": ("read", "viewed", "names_read", "case_read"),
    "E": ("search", "searched", "listed", "raised_listed", "lookup", "case_lookup", "found",
          "export", "exported", "exported_csv", "exported_pdf", "downloaded", "produced", "run",
          "verified", "summarised", "merge_compared", "backup", "restore", "refused"),
    "C": ("recorded", "registered", "raised", "created", "opened", "sent", "booked", "invited",
          "added", "saved", "imported", "logged", "case_added", "role_added", "joined"),
    "D": ("erased", "merged_away", "role_removed", "invitation_withdrawn"),
}  # fmt: skip
_AUDIT_ACTION_OF = {verb: code for code, verbs in _AUDIT_VERBS.items() for verb in verbs}


def audit_action(action: str) -> str:
    """The AuditEvent.action code of an audit log action such as "fhir.search"."""
    return _AUDIT_ACTION_OF.get(action.rsplit(".", 1)[-1], "U")


def audit_event_resource(event, student_uuid=None) -> dict:
    """An audit log entry: who read or changed what, on what basis, allowed or refused."""
    action = audit_action(event.action)
    agent = _prune(
        {
            "type": {"text": event.actor_role} if event.actor_role else None,
            "who": {"display": event.actor_email} if event.actor_email else None,
            "name": event.actor_service or None,
            "requestor": True,
        }
    )
    entity = []
    if student_uuid is not None:
        entity.append(
            _prune(
                {
                    "what": reference("Patient", student_uuid),
                    "description": event.category or None,
                }
            )
        )
    return _prune(
        {
            "resourceType": "AuditEvent",
            "id": str(event.seq),
            "meta": _meta(event.at),
            "type": {
                "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
                "code": "rest",
            },
            "subtype": [{"system": AUDIT_ACTION_SYSTEM, "code": event.action}],
            "action": action,
            "recorded": instant(event.at),
            "outcome": "4" if event.allowed is False else "0",
            "outcomeDesc": event.reason or None,
            "agent": [agent],
            "source": {"observer": {"display": "JoinedUp"}},
            "entity": entity,
        }
    )


def bundle(kind: str, entries: list[dict], *, base: str, total=None, links=()) -> dict:
    """A Bundle (`searchset` or `collection`) of resources, each with its absolute URL under
    `base` (the server's /fhir address); search entries say they are matches."""
    result: dict = {"resourceType": "Bundle", "type": kind}
    if total is not None:
        result["total"] = total
    if links:
        result["link"] = [{"relation": rel, "url": url} for rel, url in links]
    result["entry"] = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
        | ({"search": {"mode": "match"}} if kind == "searchset" else {})
        for r in entries
    ]
    return result
