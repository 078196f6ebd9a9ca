"""`student_bundle`: one student's record as a FHIR collection, as the reader may see it,
and a round trip into an empty instance (export, empty the database, import, export
again)."""

import json
import re

from django.db import connection
from django.db import transaction as db_transaction
from django.test.utils import CaptureQueriesContext

from joinedup.consent.models import CareRelationship
from joinedup.fhir import mapping
from joinedup.fhir.importing_patients import SOURCE_ID_SYSTEM
from joinedup.fhir.models import ExternalIdentifier
from joinedup.fhir.selectors import student_bundle
from joinedup.fhir.tests.conftest import client_user, fhir_client, token_for
from joinedup.measures.models import Administration
from joinedup.measures.services import record_administration
from joinedup.people.models import Organisation, Service, Student, User
from joinedup.referrals.models import Episode, Referral
from joinedup.risk.models import Flag


def _types(result) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for entry in result["entry"]:
        resource = entry["resource"]
        found.setdefault(resource["resourceType"], set()).add(resource["id"])
    return found


def _valid(result) -> dict:
    model = mapping.as_model(result)
    assert model.type == "collection"
    return result


def test_the_student_gets_their_whole_record_and_who_read_it(record, hub):
    token_for(hub.wellbeing)  # a client exists; a practitioner reads the record
    from joinedup.consent.policy import decide

    decide(hub.practitioner, record.student, "outcomes")
    types = _types(_valid(student_bundle(hub.student_user, record.student)))
    assert types["Patient"] == {str(record.student.uuid)}
    assert types["QuestionnaireResponse"] == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert types["Observation"] == types["QuestionnaireResponse"]
    assert types["Flag"] == {str(record.flag.uuid)}
    assert types["ServiceRequest"] == types["Task"] == {str(record.referral.uuid)}
    assert types["EpisodeOfCare"] == {str(record.episode.uuid)}
    assert types["Consent"] == {str(record.consent.uuid)}
    assert types["AuditEvent"]  # the practitioner's read
    assert {"Wellbeing", "Talking Therapies"} <= {
        e["resource"]["name"]
        for e in student_bundle(hub.student_user, record.student)["entry"]
        if e["resource"]["resourceType"] == "HealthcareService"
    }


def test_a_client_gets_only_what_its_service_may_see(record, hub):
    token_for(hub.talking)
    client = client_user(hub.talking)
    types = _types(_valid(student_bundle(client, record.student)))
    assert not {"QuestionnaireResponse", "Observation", "Flag", "EpisodeOfCare"} & set(types)
    assert types["ServiceRequest"] == {str(record.referral.uuid)}
    patient = next(e["resource"] for e in student_bundle(client, record.student)["entry"])
    assert patient["generalPractitioner"]  # registration: a care relationship shows it


def test_a_client_that_may_not_know_the_student_gets_nothing(record, hub):
    token_for(hub.other_wellbeing)
    assert student_bundle(client_user(hub.other_wellbeing), record.student) is None


def test_bundle_queries_do_not_grow_with_the_record(record, hub):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            student_bundle(hub.student_user, record.student)
        return len(captured)

    queries()  # the user's seats are cached on the user after the first decision
    before = queries()
    for session in range(2, 7):
        record_administration(
            actor=hub.practitioner, student=record.student, service=hub.wellbeing,
            code="PHQ-9", answers=[1] * 9, method="in_session", episode=record.episode,
            session_number=session,
        )  # fmt: skip
    assert queries() == before


# Round trip -------------------------------------------------------------------------------

IMPORTED = ("Organization", "HealthcareService", "Patient", "EpisodeOfCare", "ServiceRequest",
            "QuestionnaireResponse")  # fmt: skip
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Set by the server when it stores a record, not by the sender: a round trip cannot keep them.
SERVER_TIMES = {"authoredOn", "lastModified"}
SERVER_IDS = {mapping.ID_SYSTEM, SOURCE_ID_SYSTEM}


def _strip(value, kind: str = ""):
    """A resource without server-assigned ids (uuids anywhere, our own identifiers), meta and
    the times the server sets itself."""
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            if key in ("id", "meta", "fullUrl") or key in SERVER_TIMES:
                continue
            if kind == "Flag" and key == "period":  # raised when the import scored it
                continue
            if key == "identifier" and isinstance(item, dict) and item.get("system") in SERVER_IDS:
                continue
            kept[key] = _strip(item)
        return kept
    if isinstance(value, list):
        return [
            _strip(item)
            for item in value
            if not (isinstance(item, dict) and item.get("system") in SERVER_IDS)
        ]
    if isinstance(value, str):
        return UUID.sub("<id>", value)
    return value


def _comparable(result) -> list[str]:
    """Every resource of the record but consents and audit events (neither is imported)."""
    return sorted(
        json.dumps(_strip(e["resource"], e["resource"]["resourceType"]), sort_keys=True)
        for e in result["entry"]
        if e["resource"]["resourceType"] not in ("Consent", "AuditEvent")
    )


def _as_transaction(exported) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": e["fullUrl"], "resource": e["resource"],
             "request": {"method": "POST", "url": e["resource"]["resourceType"]}}
            for e in exported["entry"]
            if e["resource"]["resourceType"] in IMPORTED
        ],
    }  # fmt: skip


class _DiscardError(Exception):
    """Raised to roll back the instance a record was exported from."""


def _export_then_discard(request) -> dict:
    """Build a student's record (the `record` fixture), export it as a client of the wellbeing
    service, then roll the whole database back: only the exported Bundle survives."""
    exported = None
    try:
        with db_transaction.atomic():
            hub = request.getfixturevalue("hub")
            record = request.getfixturevalue("record")
            hub.university.ods_code = "NBU01"  # found by its ODS code in the new instance
            hub.university.save()
            token_for(hub.wellbeing, "system/*.read system/Bundle.write")
            exported = _valid(student_bundle(client_user(hub.wellbeing), record.student))
            raise _DiscardError
    except _DiscardError:
        pass
    for model in (Student, Organisation, Service, Referral, Administration, Episode, Flag,
                  CareRelationship, ExternalIdentifier, User):  # fmt: skip
        assert not model.objects.exists(), model
    return exported


def _post_bundle(client, bundle, expect=200) -> dict:
    response = client.post("/fhir/", json.dumps(bundle), content_type=mapping.FHIR_JSON)
    assert response.status_code == expect, response.content
    return _valid_any(response.json())


def _valid_any(result) -> dict:
    mapping.as_model(result)
    return result


def test_round_trip_into_an_empty_instance(request, db):
    """Export a record, start again from an empty database, import it as a client of the new
    instance (whose administrator set up only its own services), export again: the same
    record, and sending it twice changes nothing."""
    exported = _export_then_discard(request)
    before = _comparable(exported)
    kinds = [json.loads(r)["resourceType"] for r in before]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "Patient": 1, "Organization": 3, "HealthcareService": 2, "EpisodeOfCare": 1,
        "ServiceRequest": 1, "Task": 1, "QuestionnaireResponse": 2, "Observation": 2, "Flag": 1,
    }  # fmt: skip
    bundle = _as_transaction(exported)
    # The new instance's directory, as its administrator set it up: new ids, no GP practice.
    university = Organisation.objects.create(
        name="University of Northbridge", kind="university", ods_code="NBU01"
    )
    trust = Organisation.objects.create(name="Northbridge NHS Trust", kind="nhs_trust",
                                        ods_code="RX4")  # fmt: skip
    wellbeing = Service.objects.create(organisation=university, name="Wellbeing",
                                       kind="wellbeing")  # fmt: skip
    Service.objects.create(organisation=trust, name="Talking Therapies", kind="talking_therapies")
    partner = fhir_client(wellbeing, "system/*.read system/Bundle.write")

    response = _post_bundle(partner, bundle)
    statuses = {
        (entry["resource"]["resourceType"], result["response"]["status"])
        for entry, result in zip(bundle["entry"], response["entry"], strict=True)
    }
    assert statuses == {
        ("Organization", "200 OK"), ("Organization", "201 Created"),  # the GP practice
        ("HealthcareService", "200 OK"), ("Patient", "201 Created"),
        ("EpisodeOfCare", "201 Created"), ("ServiceRequest", "201 Created"),
        ("QuestionnaireResponse", "201 Created"),
    }  # fmt: skip
    student = Student.objects.get()
    assert student.university == university
    assert student.gp_practice.ods_code == "B82001"
    after = _comparable(student_bundle(client_user(wellbeing), student))
    assert after == before

    counts = [m.objects.count() for m in (Student, Organisation, Service, Referral,
                                          Administration, Episode, Flag)]  # fmt: skip
    again = _post_bundle(partner, bundle)
    assert {e["response"]["status"] for e in again["entry"]} == {"200 OK"}
    assert counts == [m.objects.count() for m in (Student, Organisation, Service, Referral,
                                                  Administration, Episode, Flag)]  # fmt: skip
    assert _comparable(student_bundle(client_user(wellbeing), student)) == before


def test_an_empty_instance_refuses_a_client_that_may_not_write_bundles(record, hub):
    token_for(hub.wellbeing, "system/*.read system/Bundle.write")
    bundle = _as_transaction(student_bundle(client_user(hub.wellbeing), record.student))
    reader = fhir_client(hub.other_wellbeing, "system/*.read")
    students = Student.objects.count()
    outcome = _post_bundle(reader, bundle, 403)
    assert "system/Bundle.write" in outcome["issue"][0]["diagnostics"]
    assert Student.objects.count() == students
