"""`student_bundle`: one student's record as a FHIR collection, as the reader may see it,
and a round trip of what partners send (export, delete, import, export again)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from joinedup.fhir import mapping
from joinedup.fhir.importing import transaction
from joinedup.fhir.selectors import student_bundle
from joinedup.fhir.tests.conftest import client_user, token_for
from joinedup.measures.models import Administration
from joinedup.measures.services import record_administration
from joinedup.referrals.models import Referral


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


def _comparable(result) -> list:
    """What must survive a round trip: the clinical content, not ids or record times."""
    kept = []
    for entry in result["entry"]:
        resource = dict(entry["resource"])
        kind = resource["resourceType"]
        if kind == "QuestionnaireResponse":
            kept.append((kind, resource["questionnaire"], resource["authored"],
                         repr(resource["item"])))  # fmt: skip
        elif kind == "Observation":
            kept.append((kind, repr(resource["code"]), resource["valueQuantity"]["value"],
                         resource["effectiveDateTime"]))  # fmt: skip
        elif kind == "ServiceRequest":
            kept.append((kind, resource["status"], repr(resource["performer"]),
                         repr(resource["reasonCode"]), repr(resource["requester"])))  # fmt: skip
    return sorted(kept)


def test_round_trip_export_delete_import_export(record, hub):
    token_for(hub.wellbeing, "system/*.read system/Bundle.write")
    client = client_user(hub.wellbeing)
    exported = student_bundle(client, record.student)
    before = _comparable(exported)
    assert len(before) == 5  # two responses, two scores, one referral
    partner = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": e["resource"], "request": {"method": "POST",
                                                    "url": e["resource"]["resourceType"]}}
            for e in exported["entry"]
            if e["resource"]["resourceType"] in ("QuestionnaireResponse", "ServiceRequest")
        ],
    }  # fmt: skip
    Administration.objects.filter(student=record.student).delete()
    Referral.objects.filter(student=record.student).delete()
    assert _comparable(student_bundle(client, record.student)) == []
    response = transaction(client, partner)
    assert [e["response"]["status"] for e in response["entry"]] == ["201 Created"] * 3
    assert _comparable(student_bundle(client, record.student)) == before
