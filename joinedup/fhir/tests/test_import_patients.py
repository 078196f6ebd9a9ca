"""Patients, organisations, services and episodes of care in a transaction Bundle: what is
matched, what is created, and who may open access by it."""

import json

import pytest

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.fhir import mapping
from joinedup.fhir.models import ExternalIdentifier
from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, client_user, fhir_client
from joinedup.measures.models import Administration
from joinedup.people.models import Organisation, Student
from joinedup.referrals.models import Episode, Referral

NEW_NHS_NUMBER = "9000000009"
PATIENT_URL = "urn:uuid:5b0d0a46-6a0e-4a8e-9a55-0c6f0c7e2a11"


def _counts() -> tuple:
    return tuple(
        m.objects.count()
        for m in (
            Student,
            Organisation,
            Episode,
            CareRelationship,
            Administration,
            Referral,
            ExternalIdentifier,
        )
    )


def _post(client, entries: list[tuple[str | None, dict]], expect: int) -> dict:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            | ({"fullUrl": url} if url else {})
            for url, r in entries
        ],
    }
    response = client.post("/fhir/", json.dumps(bundle), content_type=mapping.FHIR_JSON)
    assert response.status_code == expect, response.content
    result = response.json()
    mapping.as_model(result)
    return result


def _patient(university, **extra) -> dict:
    return {
        "resourceType": "Patient",
        "extension": [{"url": mapping.PRONOUNS_URL, "extension": [
            {"url": "value", "valueCodeableConcept": {"text": "they/them"}}]}],
        "identifier": [
            {"system": mapping.NHS_NUMBER_SYSTEM, "value": NEW_NHS_NUMBER},
            {"system": f"{mapping.STUDENT_NUMBER_SYSTEM}:{university.uuid}", "value": "NB2000002"},
        ],
        "name": [{"use": "official", "family": "Okafor", "given": ["Chidinma"]},
                 {"use": "usual", "family": "Okafor", "given": ["Chi"]}],
        "birthDate": "2005-02-01",
        "managingOrganization": {"reference": f"Organization/{university.uuid}"},
    } | extra  # fmt: skip


def _episode(service, patient_reference=PATIENT_URL, **extra) -> dict:
    return {
        "resourceType": "EpisodeOfCare",
        "identifier": [{"system": "https://partner.example/episodes", "value": "E-1"}],
        "status": "active",
        "type": [{"text": service.name}],
        "patient": {"reference": patient_reference},
        "managingOrganization": {"reference": f"Organization/{service.organisation.uuid}"},
        "period": {"start": "2026-09-01T09:00:00+00:00"},
    } | extra


def _phq9(patient_reference=PATIENT_URL) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "https://partner.example/responses", "value": "R-1"},
        "questionnaire": mapping.questionnaire_url("PHQ-9"),
        "status": "completed",
        "subject": {"reference": patient_reference},
        "authored": "2026-09-02T10:00:00+00:00",
        "item": [{"linkId": str(n), "answer": [{"valueInteger": 1}]} for n in range(1, 10)],
    }


@pytest.fixture
def writer(hub):
    return fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")


def test_a_partner_adds_a_student_with_an_episode_and_results(hub, writer):
    # Listed out of order: the Bundle is processed patient, episode, then the response.
    entries = [(None, _phq9()), (None, _episode(hub.wellbeing)),
               (PATIENT_URL, _patient(hub.university))]  # fmt: skip
    result = _post(writer, entries, 200)
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 3
    student = Student.objects.get(nhs_number=NEW_NHS_NUMBER)
    assert (student.legal_given_name, student.preferred_name, student.pronouns) == (
        "Chidinma", "Chi", "they/them")  # fmt: skip
    assert student.university == hub.university
    assert student.student_number == "NB2000002"
    assert CareRelationship.objects.open().filter(student=student, service=hub.wellbeing).exists()
    administration = Administration.objects.get(student=student)
    assert administration.total == 9
    assert administration.episode == Episode.objects.get(student=student)
    assert result["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{student.uuid}"

    before = _counts()
    again = _post(writer, entries, 200)
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"] * 3
    assert _counts() == before


def test_a_patient_the_client_may_not_see_is_refused_and_nothing_is_saved(record, hub):
    outsider = fhir_client(hub.other_wellbeing, f"{ALL_READ} {ALL_WRITE}")
    patient = _patient(hub.university)
    patient["identifier"][0]["value"] = record.student.nhs_number
    before = _counts()
    outcome = _post(outsider, [(PATIENT_URL, patient), (None, _episode(hub.other_wellbeing))],
                    422)  # fmt: skip
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource"]
    assert outcome["issue"][0]["diagnostics"].startswith("Entry 0: ")
    assert "known here" not in outcome["issue"][0]["diagnostics"]
    assert _counts() == before


def test_a_new_student_without_an_episode_gets_no_access_and_nothing_is_saved(hub, writer):
    before = _counts()
    outcome = _post(writer, [(PATIENT_URL, _patient(hub.university)), (None, _phq9())], 422)
    assert [i["expression"] for i in outcome["issue"]] == [
        ["Bundle.entry[0].resource"],  # a new patient nobody here could see
        ["Bundle.entry[1].resource.subject"],
    ]
    assert _counts() == before


def test_an_episode_never_opens_access_to_a_student_someone_else_brought(hub):
    counselling = fhir_client(hub.counselling, f"{ALL_READ} {ALL_WRITE}")
    episode = _episode(hub.counselling, f"Patient/{hub.student.uuid}")
    before = _counts()
    outcome = _post(counselling, [(None, episode)], 422)
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource.patient"]
    assert _counts() == before


def test_an_episode_is_only_for_the_clients_own_service(hub, writer):
    outcome = _post(writer, [(PATIENT_URL, _patient(hub.university)), (None, _episode(hub.crisis))],
                    422)  # fmt: skip
    assert [i["expression"] for i in outcome["issue"]] == [
        ["Bundle.entry[0].resource"],  # so the new patient would be out of everyone's sight
        ["Bundle.entry[1].resource.managingOrganization"],
    ]
    assert not Student.objects.filter(nhs_number=NEW_NHS_NUMBER).exists()


def test_unknown_services_and_universities_are_refused_gp_practices_are_added(hub, writer):
    unknown_service = {
        "resourceType": "HealthcareService",
        "name": "Night Line",
        "providedBy": {"reference": f"Organization/{hub.trust.uuid}"},
    }
    unknown_university = {"resourceType": "Organization", "name": "Eastport University",
                          "type": [{"text": "University"}]}  # fmt: skip
    before = _counts()
    outcome = _post(writer, [(None, unknown_service), (None, unknown_university)], 422)
    assert [i["expression"] for i in outcome["issue"]] == [
        ["Bundle.entry[0].resource.name"],
        ["Bundle.entry[1].resource.identifier"],
    ]
    assert "administrator" in outcome["issue"][0]["diagnostics"]
    assert _counts() == before

    practice = {
        "resourceType": "Organization",
        "identifier": [{"system": mapping.ODS_SYSTEM, "value": "B82099"}],
        "name": "Harbour Surgery",
        "type": [{"text": "GP practice"}],
    }
    gp_url = "urn:uuid:0f3c1e0e-3a57-4b0e-8a52-3a1f4f0d9c01"
    patient = _patient(hub.university, generalPractitioner=[{"reference": gp_url}])
    entries = [(gp_url, practice), (PATIENT_URL, patient), (None, _episode(hub.wellbeing))]
    result = _post(writer, entries, 200)
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 3
    added = Organisation.objects.get(ods_code="B82099")
    assert added.kind == "gp_practice"
    assert Student.objects.get(nhs_number=NEW_NHS_NUMBER).gp_practice == added
    again = _post(writer, [(gp_url, practice)], 200)
    assert again["entry"][0]["response"]["status"] == "200 OK"


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"birthDate": None}, "birthDate"),
        ({"name": [{"use": "usual", "given": ["Chi"]}]}, "name"),
        ({"managingOrganization": None, "identifier": [
            {"system": mapping.NHS_NUMBER_SYSTEM, "value": NEW_NHS_NUMBER}]},
         "managingOrganization"),
        ({"managingOrganization": {"reference": "Organization/nowhere"}}, "managingOrganization"),
        ({"identifier": [{"system": mapping.NHS_NUMBER_SYSTEM, "value": "1234567890"},
                         {"system": mapping.STUDENT_NUMBER_SYSTEM, "value": "NB3"}]},
         "identifier"),
        ({"telecom": [{"system": "email", "value": "not an address"}]}, "telecom"),
    ],
)  # fmt: skip
def test_a_new_patient_with_missing_or_bad_details_is_refused(hub, writer, change, expression):
    patient = {k: v for k, v in (_patient(hub.university) | change).items() if v is not None}
    before = _counts()
    outcome = _post(writer, [(PATIENT_URL, patient)], 422)
    assert outcome["issue"][0]["expression"] == [f"Bundle.entry[0].resource.{expression}"]
    assert _counts() == before


def test_an_identifier_of_a_record_the_client_may_not_see_reads_nothing(record, hub):
    outsider = fhir_client(hub.other_wellbeing, f"{ALL_READ} {ALL_WRITE}")
    response = _phq9(f"Patient/{record.student.uuid}")
    response["identifier"] = {"system": mapping.ID_SYSTEM, "value": str(record.phq9.uuid)}
    outcome = _post(outsider, [(None, response)], 409)
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[0].resource.identifier"]
    assert "PHQ" not in json.dumps(outcome)


def test_a_known_student_is_matched_by_nhs_number_and_never_changed(record, hub, writer):
    patient = _patient(hub.other_university)  # another university, other names: still them
    patient["identifier"][0]["value"] = record.student.nhs_number
    students = Student.objects.count()
    result = _post(writer, [(PATIENT_URL, patient), (None, _phq9())], 200)
    assert [e["response"]["status"] for e in result["entry"]] == ["200 OK", "201 Created"]
    assert result["entry"][0]["resource"]["id"] == str(record.student.uuid)
    assert Student.objects.count() == students
    record.student.refresh_from_db()
    assert record.student.legal_family_name != "Okafor"
    assert Administration.objects.filter(student=record.student, total=9).exists()


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"status": "finished", "period": {"start": "2026-09-01T09:00:00+00:00",
                                           "end": "2026-10-01T09:00:00+00:00"}}, "status"),
        ({"status": "planned"}, "status"),
        ({"period": {"start": "2099-01-01T09:00:00+00:00"}}, "period.start"),
        ({"period": None}, "period.start"),
    ],
)  # fmt: skip
def test_only_active_episodes_that_have_started_are_imported(hub, writer, change, expression):
    episode = {k: v for k, v in (_episode(hub.wellbeing) | change).items() if v is not None}
    before = _counts()
    outcome = _post(writer, [(PATIENT_URL, _patient(hub.university)), (None, episode)], 422)
    assert [f"Bundle.entry[1].resource.{expression}"] in [i["expression"] for i in outcome["issue"]]
    assert _counts() == before


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Patient", "name": "x"},
        {"resourceType": "Patient", "birthDate": "soon"},
        {"resourceType": "Patient", "identifier": [{"system": mapping.NHS_NUMBER_SYSTEM,
                                                     "value": "abc"}]},
        {"resourceType": "Patient", "managingOrganization": {"identifier": {
            "system": mapping.ODS_SYSTEM, "value": "RX4"}}},  # a trust, not a university
        {"resourceType": "Organization"},
        {"resourceType": "Organization", "identifier": [{"system": mapping.ODS_SYSTEM,
                                                         "value": "lower"}],
         "type": [{"text": "GP practice"}], "name": "Bad Code Surgery"},
        {"resourceType": "HealthcareService", "name": "Y", "providedBy": {"display": "X"}},
        {"resourceType": "EpisodeOfCare", "status": "active",
         "patient": {"reference": "Patient/x"}},
        {"resourceType": "EpisodeOfCare", "status": "active"},
    ],
)  # fmt: skip
def test_odd_shapes_of_the_new_kinds_get_a_4xx_never_a_server_error(hub, writer, resource):
    entry = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    before = _counts()
    response = writer.post("/fhir/", json.dumps(bundle), content_type=mapping.FHIR_JSON)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["issue"][0]["expression"][0].startswith("Bundle.entry[0].resource")
    assert _counts() == before


# Bundles around a Patient entry that would be refused even if the student were new here.
REFUSED_BUNDLES = {
    "alone": lambda patient: [(PATIENT_URL, patient)],
    "with-response": lambda patient: [(PATIENT_URL, patient), (None, _phq9())],
    "no-university": lambda patient: [(PATIENT_URL, patient | {"managingOrganization": None})],
    "no-birth-date": lambda patient: [(PATIENT_URL, patient | {"birthDate": None})],
}


@pytest.mark.parametrize(
    ("matched_by", "bundle"),
    [
        *(("nhs-number", name) for name in REFUSED_BUNDLES),
        # Without a university a student number matches nobody: nothing to compare.
        *(("student-number", name) for name in REFUSED_BUNDLES if name != "no-university"),
    ],
)
def test_a_patient_the_client_may_not_see_is_refused_as_if_unknown_here(
    record, hub, matched_by, bundle
):
    outsider = fhir_client(hub.other_wellbeing, f"{ALL_READ} {ALL_WRITE}")
    unknown = _patient(hub.university)
    known = _patient(hub.university)
    if matched_by == "nhs-number":
        known["identifier"][0]["value"] = record.student.nhs_number
    else:
        known["identifier"][1]["value"] = record.student.student_number

    def refusal(patient):
        entries = [(url, {k: v for k, v in r.items() if v is not None})
                   for url, r in REFUSED_BUNDLES[bundle](patient)]  # fmt: skip
        return _post(outsider, entries, 422)

    before = _counts()
    assert refusal(known) == refusal(unknown)
    assert _counts() == before
    refused = AuditEvent.objects.filter(
        student=record.student, actor=client_user(hub.other_wellbeing), category="identity"
    )
    assert list(refused.values_list("allowed", flat=True)) == [False]


@pytest.mark.parametrize("identified", [True, False], ids=["by-identifier", "by-start"])
def test_an_episode_matched_on_import_is_decided_and_audited_as_a_read(hub, writer, identified):
    episode = _episode(hub.wellbeing)
    if not identified:
        del episode["identifier"]
    entries = [(PATIENT_URL, _patient(hub.university)), (None, episode)]
    _post(writer, entries, 200)
    student = Student.objects.get(nhs_number=NEW_NHS_NUMBER)
    reads = AuditEvent.objects.filter(student=student, category="engagement", action="fhir.read")
    assert not reads.exists()
    again = _post(writer, entries, 200)
    assert again["entry"][1]["response"]["status"] == "200 OK"
    assert list(reads.values_list("actor", "allowed")) == [(client_user(hub.wellbeing).pk, True)]


@pytest.mark.parametrize("service", ["other_wellbeing", "talking"])
def test_an_episode_matched_by_identifier_the_client_may_not_see_is_refused_like_any_match(
    record, hub, service
):
    # Southgate may not know the student; Talking Therapies may (the referral), but not
    # Wellbeing's episode nor its questionnaire results.
    client = fhir_client(getattr(hub, service), f"{ALL_READ} {ALL_WRITE}")
    ours = [{"system": mapping.ID_SYSTEM, "value": str(record.episode.uuid)}]
    episode = _episode(getattr(hub, service), f"Patient/{record.student.uuid}", identifier=ours)
    response = _phq9(f"Patient/{record.student.uuid}")
    response["identifier"] = {"system": mapping.ID_SYSTEM, "value": str(record.phq9.uuid)}
    reads = AuditEvent.objects.filter(
        student=record.student, actor=client_user(getattr(hub, service)), action="fhir.read"
    )
    refused = _post(client, [(None, episode)], 409)
    assert reads.exists()  # the decision was made, and audited
    assert refused == _post(client, [(None, response)], 409)
    assert "Wellbeing" not in json.dumps(refused)


def test_a_new_patient_without_an_episode_is_told_the_rule_that_is_enforced(hub, writer):
    finished = _episode(hub.wellbeing, status="finished",
                        period={"start": "2026-09-01T09:00:00+00:00",
                                "end": "2026-10-01T09:00:00+00:00"})  # fmt: skip
    outcome = _post(writer, [(PATIENT_URL, _patient(hub.university)), (None, finished)], 422)
    patient_issue, episode_issue = outcome["issue"]
    assert patient_issue["expression"] == ["Bundle.entry[0].resource"]
    assert patient_issue["diagnostics"] == (
        "Entry 0: A patient can be imported only if your service may already see them, or if "
        "they are new here and this Bundle carries an EpisodeOfCare of your service for them "
        "with status active (an episode with any other status, finished included, is "
        "refused): otherwise your service could not see what you send."
    )
    assert episode_issue["expression"] == ["Bundle.entry[1].resource.status"]
    assert "finished episode cannot be imported" in episode_issue["diagnostics"]
