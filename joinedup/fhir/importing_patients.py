"""Patients, the organisations and services they are cared in, and episodes of care, received
in a transaction Bundle (`joinedup.fhir.importing.transaction`).

What may be created, and why:

- **Organization**: matched by ODS code, by this server's own id, or by an identifier an
  earlier import remembered. An unknown one is added only when it carries an ODS code and is
  not a university: NHS bodies and GP practices are registered nationally, and an
  organisation with no staff gives nobody access. A university owns students and staff
  seats, so only an administrator adds one.
- **HealthcareService**: matched by this server's own id, a remembered identifier, or its
  name within the organisation that provides it. Never created: a service is where staff sit
  and what a referral opens access for, so only an administrator adds one.
- **Patient**: matched by NHS number, else by student number at the university named by
  `managingOrganization` (or by the student-number identifier's assigner, which is what this
  server emits). A match is used only if the client may already know the student, and is
  never changed by the import. A new student is created from the resource, only if the
  same Bundle carries an active EpisodeOfCare of the client's service for them: otherwise
  nobody here could see the student, and resending the Bundle would be refused. A match the
  client may not know is audited as a refused read and then treated as no match: checked
  as a new patient and refused with the same words as a new patient without an episode
  (`unreachable`), so a refusal never tells the client that the student exists here. (A
  Bundle that would add the student with their episode is still refused, which only an
  existing student explains: only clients registered with `system/Bundle.write` may
  import, and each refusal is audited.)
- **EpisodeOfCare**: only for the client's own service (an episode opens that service's care
  relationship, as accepting a referral does), and only for a student this Bundle added or
  one the service already has an open care relationship with: an import never opens a
  service's access to a student someone else brought. Only active episodes: FHIR does not
  say whether a finished one ended as planned, which the service's reports count. An
  episode found again (by identifier, or by service and start) is returned only after the
  same decision as a read of it (`only_visible`), audited.

This server's own ids (`urn:joinedup:id`) on resources from another JoinedUp instance name
records there, not here: they are remembered under `SOURCE_ID_SYSTEM`, so resending finds
what the first import made.

References between entries (`Patient/<id>` or the entry's `fullUrl`) are translated to the
records they became here by `References`.
"""

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import decide, entry_for, seats_of
from joinedup.fhir import access, mapping
from joinedup.fhir.errors import FhirError
from joinedup.fhir.models import ExternalIdentifier
from joinedup.people.models import Organisation, Service, Student
from joinedup.people.validators import normalise_nhs_number
from joinedup.referrals.models import Episode
from joinedup.referrals.services import open_episode

# This server's ids sent back from another JoinedUp instance are remembered under this
# system, so they never look like ids of records here.
SOURCE_ID_SYSTEM = f"{mapping.URN}:source-id"
ORGANISATION_KINDS = {label.lower(): value for value, label in Organisation.Kind.choices}
PATIENT_FIELDS = {
    "nhs_number": "identifier",
    "student_number": "identifier",
    "legal_given_name": "name",
    "legal_family_name": "name",
    "preferred_name": "name",
    "pronouns": "extension",
    "date_of_birth": "birthDate",
    "email": "telecom",
    "phone": "telecom",
    "term_postcode": "address",
    "home_postcode": "address",
    "gp_practice": "generalPractitioner",
    "university": "managingOrganization",
}


class References:
    """Bundle-local references (`Type/<sender's id>` or an entry's `fullUrl`) and the local
    `Type/<uuid>` each became; also the students this Bundle created."""

    def __init__(self):
        self.local: dict[str, str] = {}
        self.created_students: dict[int, str] = {}  # pk → the entry's FHIRPath

    def add(self, entry: dict, resource: dict, made: dict) -> None:
        target = f"{made['resourceType']}/{made['id']}"
        keys = [entry.get("fullUrl")]
        if isinstance(resource.get("id"), str):
            keys.append(f"{resource['resourceType']}/{resource['id']}")
        for key in keys:
            if isinstance(key, str) and key:
                self.local[key] = target

    def resolve(self, reference: str | None) -> str | None:
        if not reference or reference in self.local:
            return self.local.get(reference, reference)
        tail = "/".join(reference.rstrip("/").split("/")[-2:])
        return self.local.get(tail, reference)


def local_identifiers(parsed) -> list[tuple[str, str]]:
    """The (system, value) pairs a resource is matched and remembered by: this server's own
    id becomes `SOURCE_ID_SYSTEM` (it names a record of the instance that sent it)."""
    identifier = parsed.identifier
    if identifier is None:
        return []
    found = identifier if isinstance(identifier, list) else [identifier]
    return [
        (SOURCE_ID_SYSTEM if i.system == mapping.ID_SYSTEM else i.system, i.value)
        for i in found
        if i.system and i.value
    ]


def own_ids(parsed) -> list[str]:
    """Values of this server's own id identifiers (uuids of records here, if they exist)."""
    identifier = parsed.identifier
    found = identifier if isinstance(identifier, list) else [identifier] if identifier else []
    return [i.value for i in found if i.system == mapping.ID_SYSTEM and is_uuid(i.value)]


def remembered(resource_type: str, parsed, model):
    """The record an earlier import made from a resource with one of these identifiers, or
    the record here whose own id it carries."""
    for key in own_ids(parsed):
        row = model.objects.filter(uuid=key).first()
        if row is not None:
            return row
    for system, value in local_identifiers(parsed):
        known = ExternalIdentifier.objects.filter(
            resource_type=resource_type, system=system, value=value
        ).first()
        if known is not None:
            row = model.objects.filter(uuid=known.target_uuid).first()
            if row is not None:
                return row
    return None


def remember(resource_type: str, parsed, target_uuid) -> None:
    """Remember the sender's identifiers, except our own ids of records here."""
    ours = set(own_ids(parsed))
    for system, value in local_identifiers(parsed):
        if system == SOURCE_ID_SYSTEM and value in ours and _exists_here(resource_type, value):
            continue
        ExternalIdentifier.objects.get_or_create(
            resource_type=resource_type,
            system=system,
            value=value,
            defaults={"target_uuid": target_uuid},
        )


def _exists_here(resource_type: str, value: str) -> bool:
    model = {"Organization": Organisation, "HealthcareService": Service}.get(resource_type)
    return model is not None and model.objects.filter(uuid=value).exists()


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def client_service(user) -> Service | None:
    seat = next((s for s in seats_of(user) if s.service_id), None)
    if seat is None:
        return None
    return Service.objects.select_related("organisation").get(pk=seat.service_id)


# Organization -----------------------------------------------------------------------------


def _ods_code(parsed) -> str:
    identifier = parsed.identifier or []
    found = identifier if isinstance(identifier, list) else [identifier]
    return next((i.value for i in found if i.system == mapping.ODS_SYSTEM and i.value), "")


def organisation(user, parsed, *, here: str, request=None) -> tuple[Organisation, bool]:
    """The organisation a received Organization is (found, or added when that is safe)."""
    ods_code = _ods_code(parsed)
    found = Organisation.objects.filter(ods_code=ods_code).first() if ods_code else None
    found = found or remembered("Organization", parsed, Organisation)
    if found is not None:
        return found, False
    kind = _organisation_kind(parsed)
    if not ods_code or kind in (None, Organisation.Kind.UNIVERSITY):
        raise FhirError(
            422,
            f"Organization {parsed.name or '(no name)'!r} is not known here. Organisations are "
            "matched by ODS code (https://fhir.nhs.uk/Id/ods-organization-code) or this "
            "server's id; an unknown one is added only when it has an ODS code and its type is "
            "NHS trust, GP practice or third sector. Ask an administrator to add it.",
            code="not-found",
            expression=f"{here}.identifier",
        )
    made = Organisation(name=(parsed.name or "").strip(), kind=kind, ods_code=ods_code)
    try:
        made.full_clean()
    except ValidationError as error:
        field = {"name": "name", "ods_code": "identifier"}.get(
            next(iter(error.message_dict), ""), "identifier"
        )
        raise FhirError(422, " ".join(error.messages), code="value",
                        expression=f"{here}.{field}") from error  # fmt: skip
    made.save()
    remember("Organization", parsed, made.uuid)
    append(
        [
            Entry(
                action="fhir.organisation.imported",
                actor=user,
                reason=f"{made.name} ({made.ods_code})",
                request_id=request_id_of(request),
            )
        ]
    )
    return made, True


def _organisation_kind(parsed) -> str | None:
    for concept in parsed.type or []:
        if concept.text and concept.text.strip().lower() in ORGANISATION_KINDS:
            return ORGANISATION_KINDS[concept.text.strip().lower()]
    return None


def organisation_of(reference, refs: References, field: str) -> Organisation:
    """The organisation a Reference names: `Organization/<id>` (here or in the Bundle) or an
    ODS code identifier."""
    found = None
    if reference is not None and reference.reference:
        local = refs.resolve(reference.reference)
        key = local.removeprefix("Organization/")
        if local.startswith("Organization/") and is_uuid(key):
            found = Organisation.objects.filter(uuid=key).first()
    elif reference is not None and reference.identifier is not None:
        identifier = reference.identifier
        if identifier.system == mapping.ODS_SYSTEM and identifier.value:
            found = Organisation.objects.filter(ods_code=identifier.value).first()
    if found is None:
        raise FhirError(
            422,
            f"{field} must name an organisation: Organization/<id> of an entry in this Bundle "
            "or of this server, or an ODS code identifier.",
            code="not-found",
            expression=field,
        )
    return found


# HealthcareService ------------------------------------------------------------------------


def service(user, parsed, *, here: str, refs: References, request=None) -> tuple[Service, bool]:
    """The service a received HealthcareService is; never created (see the module's note)."""
    found = remembered("HealthcareService", parsed, Service)
    if found is None and parsed.providedBy is not None and parsed.name:
        provider = organisation_of(parsed.providedBy, refs, f"{here}.providedBy")
        matches = list(Service.objects.filter(organisation=provider, name__iexact=parsed.name)[:2])
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise FhirError(
            422,
            f"HealthcareService {parsed.name or '(no name)'!r} is not known here. A service is "
            "where staff work and what a referral opens access for, so only an administrator "
            "adds one: ask them to add it to the organisation, then send the Bundle again.",
            code="not-found",
            expression=f"{here}.name",
        )
    return found, False


# Patient ----------------------------------------------------------------------------------


def _identifier_list(parsed) -> list:
    identifier = parsed.identifier or []
    return identifier if isinstance(identifier, list) else [identifier]


def patient(user, parsed, *, here: str, refs: References, request=None) -> tuple[Student, bool]:
    """The student a received Patient is: found by NHS number or student number (if the
    client may know them), or created."""
    identifiers = _identifier_list(parsed)
    nhs = next((i for i in identifiers if i.system == mapping.NHS_NUMBER_SYSTEM and i.value), None)
    number_index, number = next(
        (
            (index, i)
            for index, i in enumerate(identifiers)
            if (i.system or "").startswith(mapping.STUDENT_NUMBER_SYSTEM) and i.value
        ),
        (None, None),
    )
    nhs_number = normalise_nhs_number(nhs.value) if nhs else ""
    # A student the client may not know is treated as if not found (`hidden`, refused below
    # as a new patient would be), so no answer tells the client that they exist here.
    hidden = None
    found = Student.objects.filter(nhs_number=nhs_number).first() if nhs_number else None
    if found is not None and not _may_know(user, found, refs, request):
        hidden, found = found, None
    # The university matters only when the NHS number found nobody the client may know: a
    # student known here by NHS number is used even if the sender's university is not.
    university = None if found else _university(parsed, number, number_index, refs, here)
    if found is None and university is not None and number is not None:
        found = Student.objects.filter(
            university=university, student_number=number.value.strip()
        ).first()
        if found is not None and not _may_know(user, found, refs, request):
            hidden, found = found, None
    if found is not None:
        return found, False
    if university is None:
        raise FhirError(
            422,
            "A new patient needs their university: managingOrganization (or the student "
            "number's assigner) must name a university known here.",
            code="required",
            expression=f"{here}.managingOrganization",
        )
    if number is None:
        raise FhirError(
            422,
            f"A new patient needs their student number (identifier system "
            f"{mapping.STUDENT_NUMBER_SYSTEM}:<university>).",
            code="required",
            expression=f"{here}.identifier",
        )
    student = _new_student(
        parsed, university, number.value.strip(), nhs_number, refs, here, unique=hidden is None
    )
    student.nhs_number_status = _nhs_number_status(nhs, identifiers, here) if nhs_number else ""
    if hidden is not None:
        raise unreachable(here)
    student.save()
    refs.created_students[student.pk] = here
    own = client_service(user)
    append(
        [
            entry_for(
                "fhir.patient.imported",
                user,
                student,
                category="identity",
                service=own,
                reason=f"Added from a partner system by {own or user}",
                request=request,
            )
        ]
    )
    return student, True


def _may_know(user, student, refs: References, request) -> bool:
    """Whether the client may know this student (decided and audited), or this Bundle has
    just added them (the same patient twice)."""
    if student.pk in refs.created_students:
        return True
    return decide(user, student, "identity", request=request).allowed


def _university(parsed, number, number_index, refs: References, here: str):
    if parsed.managingOrganization is not None:
        field = f"{here}.managingOrganization"
        reference = parsed.managingOrganization
    elif number is not None and number.assigner is not None:
        field = f"{here}.identifier[{number_index}].assigner"
        reference = number.assigner
    else:
        return None
    found = organisation_of(reference, refs, field)
    if found.kind != Organisation.Kind.UNIVERSITY:
        raise FhirError(422, f"{field} must name a university; {found.name} is not one.",
                        code="value", expression=field)  # fmt: skip
    return found


def _nhs_number_status(nhs, identifiers, here: str) -> str:
    """The verification status the sender gave its NHS number (UK Core's extension), kept
    with the number; blank when it gave none."""
    field = f"{here}.identifier[{identifiers.index(nhs)}].extension"
    for extension in nhs.extension or []:
        if extension.url != mapping.NHS_NUMBER_STATUS_URL:
            continue
        concept = extension.valueCodeableConcept
        codes = [c.code for c in (concept.coding if concept else None) or []
                 if c.system == mapping.NHS_NUMBER_STATUS_SYSTEM]  # fmt: skip
        if not codes or codes[0] not in mapping.NHS_NUMBER_STATUSES:
            raise FhirError(
                422,
                "The NHS number's verification status must be a code of "
                f"{mapping.NHS_NUMBER_STATUS_SYSTEM} (01 to 08).",
                code="code-invalid",
                expression=field,
            )
        return codes[0]
    return ""


def _new_student(
    parsed, university, student_number, nhs_number, refs, here, *, unique: bool = True
) -> Student:
    """The student a Patient describes, checked but not saved. `unique=False` leaves out
    the check that the student number is free, for a match the client may not know (which
    is never saved, and must not be revealed by that check)."""
    names = parsed.name or []
    official = next((n for n in names if n.use == "official"), names[0] if names else None)
    usual = next((n for n in names if n.use == "usual"), None)
    if official is None or not official.family or not official.given:
        raise FhirError(422, "A new patient needs their legal name (an official name with a "
                        "family and a given name).", code="required",
                        expression=f"{here}.name")  # fmt: skip
    if parsed.birthDate is None:
        raise FhirError(422, "A new patient needs their date of birth.", code="required",
                        expression=f"{here}.birthDate")  # fmt: skip
    telecom = {t.system: t.value for t in reversed(parsed.telecom or []) if t.value}
    postcodes = {a.use: a.postalCode for a in reversed(parsed.address or []) if a.postalCode}
    gp = None
    if parsed.generalPractitioner:
        field = f"{here}.generalPractitioner[0]"
        gp = organisation_of(parsed.generalPractitioner[0], refs, field)
        if gp.kind != Organisation.Kind.GP_PRACTICE:
            raise FhirError(422, f"{field} must name a GP practice; {gp.name} is not one.",
                            code="value", expression=field)  # fmt: skip
    student = Student(
        university=university,
        student_number=student_number,
        nhs_number=nhs_number,
        legal_given_name=(official.given[0] or "").strip(),
        legal_family_name=official.family.strip(),
        preferred_name=(usual.given[0] if usual and usual.given else "").strip(),
        pronouns=_pronouns(parsed),
        date_of_birth=parsed.birthDate
        if isinstance(parsed.birthDate, dt.date)
        else dt.date.fromisoformat(str(parsed.birthDate)),
        email=telecom.get("email", ""),
        phone=telecom.get("phone", ""),
        term_postcode=postcodes.get("temp", ""),
        home_postcode=postcodes.get("home", ""),
        gp_practice=gp,
    )
    try:
        student.full_clean(exclude=["user", "department"], validate_constraints=unique)
    except ValidationError as error:
        field = next(iter(getattr(error, "message_dict", {})), "")
        raise FhirError(422, " ".join(error.messages), code="value",
                        expression=f"{here}.{PATIENT_FIELDS.get(field, 'identifier')}",
                        ) from error  # fmt: skip
    return student


def _pronouns(parsed) -> str:
    for extension in parsed.extension or []:
        if extension.url != mapping.PRONOUNS_URL:
            continue
        for part in extension.extension or []:
            concept = part.valueCodeableConcept
            if part.url == "value" and concept is not None:
                text = concept.text or next((c.display for c in concept.coding or []), "")
                return (text or "").strip()
    return ""


# EpisodeOfCare ----------------------------------------------------------------------------


def episode(user, parsed, *, here: str, refs: References, request=None) -> tuple[Episode, bool]:
    """An episode of the client's own service, for a student this Bundle added or one the
    service already cares for. One found again is decided and audited as a read."""
    own = client_service(user)
    found = remembered("EpisodeOfCare", parsed, Episode)
    if found is not None:
        only_visible(user, found, "EpisodeOfCare", request, here=here)
        if own is None or found.service_id != own.pk:
            raise FhirError(409, "This identifier belongs to another service's episode.",
                            code="conflict", expression=f"{here}.identifier")  # fmt: skip
        return found, False
    student = _episode_student(parsed, refs, here)
    managing = organisation_of(parsed.managingOrganization, refs, f"{here}.managingOrganization")
    named = next((t.text for t in parsed.type or [] if t.text), None)
    if own is None or managing.pk != own.organisation_id or (named and named != own.name):
        raise FhirError(
            422,
            "An episode of care can be imported only for your own service "
            f"({own.name if own else 'none'}): it opens that service's access to the record.",
            code="business-rule",
            expression=f"{here}.managingOrganization",
        )
    cares = CareRelationship.objects.open().filter(student=student, service=own).exists()
    if student.pk not in refs.created_students and not cares:
        raise FhirError(
            422,
            "An episode opens your service's access to the student's record, so it can be "
            "imported only for a student this Bundle adds or one your service already cares "
            "for. Send a ServiceRequest (referral) instead.",
            code="forbidden",
            expression=f"{here}.patient",
        )
    if parsed.status == "finished":
        raise FhirError(
            422,
            "A finished episode cannot be imported: FHIR does not say whether its ending was "
            "planned, and the service's reports count that. Send episodes that are active.",
            code="not-supported",
            expression=f"{here}.status",
        )
    if parsed.status != "active":
        raise FhirError(422, "Only an active episode (status active) can be imported.",
                        code="business-rule", expression=f"{here}.status")  # fmt: skip
    start = _moment(parsed.period.start if parsed.period else None)
    if start is None:
        raise FhirError(422, "Say when the episode started (period.start).", code="required",
                        expression=f"{here}.period.start")  # fmt: skip
    if start > timezone.now():
        raise FhirError(422, "An episode cannot start in the future.", code="business-rule",
                        expression=f"{here}.period.start")  # fmt: skip
    same = Episode.objects.filter(student=student, service=own, started_at=start).first()
    if same is not None:
        only_visible(user, same, "EpisodeOfCare", request, here=here)
        return same, False
    made = open_episode(actor=user, student=student, service=own, started_at=start)
    remember("EpisodeOfCare", parsed, made.uuid)
    return made, True


def _episode_student(parsed, refs: References, here: str) -> Student:
    field = f"{here}.patient"
    reference = parsed.patient.reference if parsed.patient else None
    local = refs.resolve(reference) if reference else ""
    key = local.removeprefix("Patient/")
    student = None
    if local.startswith("Patient/") and is_uuid(key):
        student = Student.objects.filter(uuid=key).first()
    if student is None:
        raise FhirError(422, f"{field} must name the Patient: an entry of this Bundle or "
                        "Patient/<id> of this server.", code="not-found",
                        expression=field)  # fmt: skip
    return student


def _moment(value) -> dt.datetime | None:
    from joinedup.fhir.importing import _moment as moment

    return moment(value)


def unreachable_patients(user, refs: References) -> list[FhirError]:
    """A new patient must come with an episode of the client's service: otherwise nobody here
    could see the student the import added, and sending the Bundle again would be refused."""
    own = client_service(user)
    cared_for = set(
        CareRelationship.objects.open()
        .filter(student__in=list(refs.created_students), service=own)
        .values_list("student_id", flat=True)
    )
    return [unreachable(here) for pk, here in refs.created_students.items() if pk not in cared_for]


def unreachable(here: str) -> FhirError:
    """The refusal of a patient the client could not see after the import: one new here
    without an episode of its service, or one known here whom it may not see. Both get these
    same words, so the refusal does not tell which (whether the student exists here)."""
    return FhirError(
        422,
        "A patient can be imported only if your service may already see them, or if they are "
        "new here and this Bundle carries an EpisodeOfCare of your service for them with "
        "status active (an episode with any other status, finished included, is refused): "
        "otherwise your service could not see what you send.",
        code="business-rule",
        expression=here,
    )


def only_visible(user, row, resource_type: str, request=None, *, here: str = "") -> None:
    """Decide (and audit) a match by identifier as a read of the record, and refuse one the
    client may not see: otherwise resending someone else's identifier would read their
    record."""
    category = access.KINDS[resource_type].category
    decisions = access.decide_student(user, row.student, [category], request=request)
    if not decisions or not access.may_see(user, access.KINDS[resource_type], row, decisions):
        raise FhirError(
            409,
            "This identifier already belongs to a record your service may not see: give the "
            "resource an identifier of your own.",
            code="conflict",
            expression=f"{here}.identifier" if here else "identifier",
        )
