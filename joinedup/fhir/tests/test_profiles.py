"""UK Core: every resource served claims its profile and carries what the profile requires;
the NHS number's verification status travels with the number; organisations' types are
coded."""

import pytest
from django.test import Client as HttpClient

from joinedup.consent.services import record_consent
from joinedup.fhir import mapping
from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, fhir_client
from joinedup.fhir.tests.test_import_patients import PATIENT_URL, _episode, _patient, _post
from joinedup.people.models import Student

# The elements each UK Core profile requires (min 1; https://simplifier.net/hl7fhirukcorer4,
# the profiles and the base resources they constrain), as paths through the JSON. A list
# on the way means each of its members must have the rest.
REQUIRED = {
    "Patient": [],
    "Organization": [],
    "HealthcareService": [],
    "ServiceRequest": ["status", "intent", "subject.reference"],
    "Task": ["status", "intent"],
    "EpisodeOfCare": ["status", "patient.reference"],
    "Questionnaire": ["status"],
    "QuestionnaireResponse": ["status"],
    "Observation": ["status", "code.coding"],
    "Flag": ["status", "code", "subject.reference"],
    "Consent": ["status", "scope", "category"],
    "AuditEvent": ["type", "recorded", "agent.requestor", "source.observer"],
}
# Slices UK Core constrains where they are present: an identifier of this system has a
# value (the NHS number of ten digits), and the verification status extension a coding.
SLICES = {
    mapping.NHS_NUMBER_SYSTEM: lambda value: len(value) == 10 and value.isdigit(),
    mapping.ODS_SYSTEM: lambda value: bool(value),
}


def _has(value, path: list[str]) -> bool:
    if not path:
        return value not in (None, "", [], {})
    if isinstance(value, list):
        return bool(value) and all(_has(member, path) for member in value)
    return isinstance(value, dict) and _has(value.get(path[0]), path[1:])


def _meets_uk_core(resource: dict) -> None:
    kind = resource["resourceType"]
    assert resource["meta"]["profile"] == [f"{mapping.UK_CORE}{kind}"], kind
    for path in REQUIRED[kind]:
        assert _has(resource, path.split(".")), (kind, path)
    for identifier in resource.get("identifier", []) if isinstance(resource.get(
            "identifier"), list) else []:  # fmt: skip
        check = SLICES.get(identifier.get("system"))
        assert check is None or check(identifier.get("value", "")), identifier
        for extension in identifier.get("extension", []):
            if extension["url"] == mapping.NHS_NUMBER_STATUS_URL:
                (coding,) = extension["valueCodeableConcept"]["coding"]
                assert coding["system"] == mapping.NHS_NUMBER_STATUS_SYSTEM
                assert coding["code"] in mapping.NHS_NUMBER_STATUSES
    mapping.as_model(resource)


def test_every_resource_served_meets_its_uk_core_profile(record, hub):
    record.student.nhs_number_status = "01"
    record.student.save()
    record_consent(
        actor=hub.student_user,
        student=record.student,
        category="outcomes",
        purpose="direct_care",
        how_given="portal",
        recipient_service=hub.wellbeing,
    )
    client = fhir_client(hub.wellbeing)
    seen = set()
    for kind in REQUIRED:
        body = client.get(f"/fhir/{kind}", {"_count": 200}).json()
        for entry in body["entry"]:
            if entry["search"]["mode"] in ("match", "include"):
                _meets_uk_core(entry["resource"])
                seen.add(entry["resource"]["resourceType"])
    record_bundle = client.get(f"/fhir/Patient/{record.student.uuid}/$everything").json()
    for entry in record_bundle["entry"]:
        if entry["search"]["mode"] == "match":
            _meets_uk_core(entry["resource"])
    assert seen == set(REQUIRED)
    statement = HttpClient().get("/fhir/metadata").json()
    for resource in statement["rest"][0]["resource"]:
        if resource["type"] != "Group":  # UK Core has no Group profile
            assert resource["supportedProfile"] == [f"{mapping.UK_CORE}{resource['type']}"]


def test_the_nhs_numbers_verification_status_is_served_with_it(record, hub):
    client = fhir_client(hub.wellbeing)
    patient = client.get(f"/fhir/Patient/{record.student.uuid}").json()
    (nhs,) = [i for i in patient["identifier"] if i["system"] == mapping.NHS_NUMBER_SYSTEM]
    assert "extension" not in nhs  # not known: not claimed
    record.student.nhs_number_status = "02"
    record.student.save()
    patient = client.get(f"/fhir/Patient/{record.student.uuid}").json()
    (nhs,) = [i for i in patient["identifier"] if i["system"] == mapping.NHS_NUMBER_SYSTEM]
    (extension,) = nhs["extension"]
    assert extension["url"] == mapping.NHS_NUMBER_STATUS_URL
    assert extension["valueCodeableConcept"]["coding"][0]["code"] == "02"


def _with_status(university, code: str) -> dict:
    patient = _patient(university)
    patient["identifier"][0]["extension"] = [mapping.nhs_number_status_extension(code)]
    return patient


def test_a_received_patients_verification_status_is_kept(hub):
    writer = fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")
    university = hub.student.university
    _post(writer, [(PATIENT_URL, _with_status(university, "01")), (None, _episode(hub.wellbeing))],
          200)  # fmt: skip
    student = Student.objects.get(legal_family_name="Okafor")
    assert student.nhs_number_status == "01"
    served = writer.get(f"/fhir/Patient/{student.uuid}").json()
    (nhs,) = [i for i in served["identifier"] if i["system"] == mapping.NHS_NUMBER_SYSTEM]
    assert nhs["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "01"


def test_an_unknown_verification_status_is_refused(hub):
    writer = fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")
    patient = _with_status(hub.student.university, "01")
    patient["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = "99"
    outcome = _post(writer, [(PATIENT_URL, patient), (None, _episode(hub.wellbeing))], 422)
    issue = outcome["issue"][0]
    assert issue["expression"] == ["Bundle.entry[0].resource.identifier[0].extension"]
    assert "01 to 08" in issue["diagnostics"]
    assert not Student.objects.filter(legal_family_name="Okafor").exists()


@pytest.mark.parametrize(("kind", "code"), [
    ("university", "edu"), ("nhs_trust", "prov"), ("gp_practice", "prov"), ("third_sector", "cg"),
])  # fmt: skip
def test_organisation_types_are_coded(kind, code):
    from joinedup.people.models import Organisation

    organisation = Organisation(name="X", kind=kind)
    (concept,) = mapping.organization_resource(organisation)["type"]
    assert (
        concept["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/organization-type"
    )
    assert concept["coding"][0]["code"] == code
    assert concept["text"] == organisation.get_kind_display()
