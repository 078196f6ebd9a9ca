"""Every resource the mapping emits parses as its FHIR R4B model, and carries the UK Core
identifiers, names, pronouns and LOINC codes partners rely on."""

import pytest

from joinedup.audit.models import AuditEvent
from joinedup.fhir import mapping
from joinedup.fhir.access import KINDS
from joinedup.fhir.resources import questionnaires, render
from joinedup.measures import instruments
from joinedup.people.models import Organisation, Service


def _all(kind_name, student=None):
    rows = KINDS[kind_name].rows()
    return render(kind_name, rows, registration_ids={student.pk} if student else ())


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_every_resource_parses_as_its_r4b_model(record, kind_name):
    resources = _all(kind_name, record.student)
    assert resources, kind_name
    for resource in resources:
        model = mapping.as_model(resource)
        assert model.get_resource_type() == kind_name
        assert model.model_dump(mode="json", exclude_none=True)["id"] == resource["id"]


def test_every_questionnaire_parses(db):
    for resource in questionnaires():
        assert mapping.as_model(resource).status == "active"


def test_patient_has_nhs_number_official_and_usual_names_and_pronouns(record):
    (patient,) = _all("Patient", record.student)
    assert {"system": mapping.NHS_NUMBER_SYSTEM, "value": "9434765919"} in patient["identifier"]
    names = {n["use"]: n for n in patient["name"]}
    assert names["official"]["given"] == ["Alexandra"]
    assert names["usual"]["given"] == ["Alex"]
    (pronouns,) = patient["extension"]
    assert pronouns["url"] == mapping.PRONOUNS_URL
    assert pronouns["extension"][0]["valueCodeableConcept"]["text"] == "she/her"
    assert patient["generalPractitioner"][0]["display"] == "Northbridge Surgery"
    assert patient["address"] == [{"use": "temp", "postalCode": "NB1 2AB"}]


def test_patient_without_registration_leaves_out_address_gp_and_status(record):
    patient = mapping.patient_resource(record.student, with_registration=False)
    assert not {"address", "generalPractitioner", "active"} & set(patient)


def test_organisation_carries_its_ods_code(record, hub):
    organisations = {o["name"]: o for o in _all("Organization")}
    trust = organisations["Northbridge NHS Trust"]
    assert trust["identifier"][0] == {"system": mapping.ODS_SYSTEM, "value": "RX4"}
    assert all(i["system"] != mapping.ODS_SYSTEM
               for i in organisations["University of Northbridge"]["identifier"])  # fmt: skip


def test_phq9_questionnaire_uses_loinc_for_panel_items_answers_and_total(db):
    phq9 = next(q for q in questionnaires() if q["id"] == "phq-9")
    assert phq9["code"] == [{"system": mapping.LOINC, "code": "44249-1"}]
    first, *_rest, total = phq9["item"]
    assert first["code"] == [{"system": mapping.LOINC, "code": "44250-9"}]
    assert first["answerOption"][0]["valueCoding"]["code"] == "LA6568-5"
    assert total["code"] == [{"system": mapping.LOINC, "code": "44261-6"}]
    gad7 = next(q for q in questionnaires() if q["id"] == "gad-7")
    assert gad7["code"][0]["code"] == "69737-5"


def test_questionnaire_of_a_licensed_measure_ships_no_item_texts(db):
    licensed = [i for i in instruments.all_instruments() if not i.texts_shipped]
    assert licensed
    for instrument in licensed:
        resource = mapping.questionnaire_resource(instrument)
        assert all("text" not in item for item in resource["item"][:-1])


def test_response_and_observation_carry_answers_and_recomputed_total(record):
    response = mapping.questionnaire_response_resource(record.phq9)
    answers = [i["answer"][0]["valueCoding"]["code"] for i in response["item"][:9]]
    assert answers == ["LA6570-1", "LA6569-3", "LA6569-3", "LA6569-3", "LA6570-1",
                       "LA6569-3", "LA6569-3", "LA6569-3", "LA6569-3"]  # fmt: skip
    assert response["item"][-1] == {"linkId": "total", "answer": [{"valueDecimal": 11.0}]}
    observation = mapping.observation_resource(record.phq9)
    assert observation["code"]["coding"][0]["code"] == "44261-6"
    assert observation["valueQuantity"]["value"] == 11.0
    assert observation["interpretation"] == [{"text": "moderate"}]
    assert observation["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/{record.phq9.uuid}"}
    ]


def test_referral_is_a_service_request_and_a_task(record, hub):
    request = mapping.service_request_resource(record.referral)
    assert request["status"] == "active"
    assert request["performer"][0]["reference"] == f"HealthcareService/{hub.talking.uuid}"
    assert request["subject"]["reference"] == f"Patient/{record.student.uuid}"
    task = mapping.task_resource(record.referral)
    assert task["status"] == "requested"
    assert task["focus"]["reference"] == f"ServiceRequest/{record.referral.uuid}"


def test_flag_consent_episode_and_audit_event(record, hub):
    flag = mapping.flag_resource(record.flag)
    assert flag["status"] == "active"
    assert "item 9" in flag["code"]["text"]
    from django.utils import timezone

    consent = mapping.consent_resource(record.consent, now=timezone.now())
    assert consent["status"] == "active"
    assert consent["provision"]["actor"][0]["reference"]["reference"] == (
        f"HealthcareService/{hub.crisis.uuid}"
    )
    assert consent["provision"]["code"][0]["coding"][0]["code"] == "engagement"
    assert consent["provision"]["purpose"] == [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT",
        "display": "treatment"}]  # fmt: skip
    record.consent.purpose = "academic_support"
    academic = mapping.consent_resource(record.consent, now=timezone.now())
    assert academic["provision"]["purpose"] == [{
        "system": "urn:joinedup:purpose", "code": "academic_support",
        "display": "Academic support"}]  # fmt: skip
    episode = mapping.episode_of_care_resource(record.episode)
    assert episode["status"] == "active"
    event = AuditEvent.objects.filter(student=record.student).first()
    audit = mapping.audit_event_resource(event, record.student.uuid)
    assert audit["entity"][0]["what"]["reference"] == f"Patient/{record.student.uuid}"


def test_gad7_score_observation_uses_its_loinc_total_code(record):
    observation = mapping.observation_resource(record.gad7)
    assert observation["code"]["coding"][0]["code"] == "70274-6"
    assert observation["valueQuantity"]["value"] == 6.0


def test_a_measure_without_a_loinc_total_uses_joinedups_own_code(record, hub):
    from joinedup.measures.services import record_administration

    core10 = record_administration(
        actor=hub.practitioner, student=record.student, service=hub.wellbeing, code="CORE-10",
        answers=[1] * 10, method="in_session",
    )  # fmt: skip
    observation = mapping.observation_resource(core10)
    assert (
        observation["code"]["coding"][0]["system"] == f"{mapping.QUESTIONNAIRE_BASE}:core-10:score"
    )
    mapping.as_model(observation)
    response = mapping.questionnaire_response_resource(core10)
    assert response["item"][0]["answer"][0]["valueCoding"]["system"].endswith("core-10:answer")
    mapping.as_model(response)


@pytest.mark.parametrize(("action", "code"), [
    ("fhir.read", "R"), ("fhir.record.read", "R"), ("record.banner.read", "R"),
    ("evaluation.report.viewed", "R"), ("fhir.search", "E"), ("fhir.export", "E"),
    ("record.caseload.listed", "E"), ("governance.audit.downloaded", "E"),
    ("measures.administration.recorded", "C"), ("referrals.referral.sent", "C"),
    ("fhir.organisation.imported", "C"), ("governance.retention.erased", "D"),
    ("consent.grant.withdrawn", "U"), ("people.student.contact_changed", "U"),
])  # fmt: skip
def test_audit_actions_map_to_the_audit_event_action_codes(action, code):
    assert mapping.audit_action(action) == code


def test_every_reference_display_names_its_target(record, hub):
    """A reference to an organisation is displayed with the organisation's name, never the
    name of the service within it that wrote the record."""
    organisations = {str(o.uuid): o.name for o in Organisation.objects.all()}
    services = {str(s.uuid): s.name for s in Service.objects.all()}
    resources = [
        mapping.questionnaire_response_resource(record.phq9),
        mapping.observation_resource(record.phq9),
        mapping.flag_resource(record.flag),
        mapping.service_request_resource(record.referral),
    ]
    checked = 0
    for resource in resources:
        for ref in _references(resource):
            kind, _, key = ref["reference"].partition("/")
            if "display" in ref and kind in ("Organization", "HealthcareService"):
                names = organisations if kind == "Organization" else services
                assert ref["display"] == names[key], (resource["resourceType"], ref)
                checked += 1
    assert checked >= 4


def _references(value):
    if isinstance(value, dict):
        if "reference" in value and isinstance(value["reference"], str):
            yield value
        for child in value.values():
            yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)
