"""Reads and searches over HTTP: tokens and scopes, the access policy, audit, paging."""

import base64
import datetime as dt

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import Application

from joinedup.audit.models import AuditEvent
from joinedup.consent.services import record_consent
from joinedup.fhir import mapping
from joinedup.fhir.services import create_client
from joinedup.fhir.tests.conftest import client_user, fhir_client, secret_asker
from joinedup.measures.services import record_administration

FHIR_JSON = "application/fhir+json"


def _get(client, url, expect=200, **params):
    response = client.get(url, params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    mapping.as_model(body)  # every response is a valid R4B resource
    for entry in body.get("entry", []):
        mapping.as_model(entry["resource"])
    return body


def _ids(bundle, kind=None):
    return {
        e["resource"]["id"]
        for e in bundle["entry"]
        if kind is None or e["resource"]["resourceType"] == kind
    }


def test_capability_statement_lists_exactly_what_is_supported(db):
    body = _get(HttpClient(), "/fhir/metadata")
    (rest,) = body["rest"]
    types = {r["type"]: r for r in rest["resource"]}
    assert len(types) == 13
    history = {"history-instance", "history-type"}
    assert {i["code"] for i in types["QuestionnaireResponse"]["interaction"]} == {
        "read", "vread", "search-type", "create", *history
    }  # fmt: skip
    assert {i["code"] for i in types["Flag"]["interaction"]} == {
        "read", "vread", "search-type", *history
    }  # fmt: skip
    # No time of change is kept for the directory, so it has no type history.
    assert {i["code"] for i in types["Organization"]["interaction"]} == {
        "read", "vread", "search-type", "history-instance"
    }  # fmt: skip
    assert {i["code"] for i in types["Group"]["interaction"]} == {"read", "search-type"}
    assert "patient" in {p["name"] for p in types["Observation"]["searchParam"]}


def test_a_request_without_a_token_is_refused_with_an_operation_outcome(record):
    response = HttpClient().get(f"/fhir/Patient/{record.student.uuid}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_token_without_the_scope_is_refused(record, hub):
    client = fhir_client(hub.wellbeing, "system/Observation.read")
    body = _get(client, f"/fhir/Patient/{record.student.uuid}", expect=403)
    assert "system/Patient.read" in body["issue"][0]["diagnostics"]
    _get(client, "/fhir/Observation")


def test_client_credentials_token_from_the_token_endpoint_reads_as_its_service(record, hub):
    application, secret = create_client(
        service=hub.wellbeing, name="Partner EPR", scopes=["system/*.read"]
    )
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = HttpClient().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/*.read"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    client = HttpClient(headers={"Authorization": f"Bearer {token}"})
    patient = _get(client, f"/fhir/Patient/{record.student.uuid}")
    assert patient["birthDate"] == "2004-05-17"


def test_scopes_beyond_those_registered_are_refused(record, hub):
    ask = secret_asker(hub.wellbeing, ["system/Organization.read"])
    refused = ask("system/*.read")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    token = ask("system/Organization.read").json()["access_token"]
    client = HttpClient(headers={"Authorization": f"Bearer {token}"})
    _get(client, f"/fhir/Patient/{record.student.uuid}", expect=403)
    _get(client, "/fhir/Organization")


def test_the_care_service_reads_the_whole_record_it_wrote(record, hub):
    client = fhir_client(hub.wellbeing)
    patient = _get(client, f"/fhir/Patient/{record.student.uuid}")
    assert patient["generalPractitioner"]  # registration details: a care relationship
    for kind, key in [
        ("QuestionnaireResponse", record.phq9.uuid),
        ("Observation", record.gad7.uuid),
        ("Flag", record.flag.uuid),
        ("ServiceRequest", record.referral.uuid),
        ("Task", record.referral.uuid),
        ("EpisodeOfCare", record.episode.uuid),
    ]:
        assert _get(client, f"/fhir/{kind}/{key}")["id"] == str(key)


def test_an_unrelated_service_sees_nothing_and_cannot_tell_it_exists(record, hub):
    client = fhir_client(hub.other_wellbeing)
    _get(client, f"/fhir/Patient/{record.student.uuid}", expect=404)
    _get(client, f"/fhir/QuestionnaireResponse/{record.phq9.uuid}", expect=404)
    for kind in ("Patient", "QuestionnaireResponse", "Observation", "Flag", "ServiceRequest",
                 "Task", "EpisodeOfCare", "Consent"):  # fmt: skip
        assert _get(client, f"/fhir/{kind}")["total"] == 0
    missing = _get(client, "/fhir/Patient/00000000-0000-0000-0000-000000000000", expect=404)
    assert missing["issue"][0]["code"] == "not-found"


def test_without_consent_a_category_is_absent_from_reads_searches_and_includes(record, hub):
    # The receiving service has a care relationship (the referral) but no outcomes consent:
    # it sees the student and its own referral, never the wellbeing service's questionnaires.
    client = fhir_client(hub.talking)
    _get(client, f"/fhir/Patient/{record.student.uuid}")
    _get(client, f"/fhir/QuestionnaireResponse/{record.phq9.uuid}", expect=404)
    _get(client, f"/fhir/Observation/{record.phq9.uuid}", expect=404)
    _get(client, f"/fhir/Flag/{record.flag.uuid}", expect=404)
    assert _get(client, "/fhir/QuestionnaireResponse")["total"] == 0
    assert _get(client, "/fhir/Observation", patient=str(record.student.uuid))["total"] == 0
    included = _get(client, "/fhir/Patient", _revinclude=["Observation:patient", "Flag:patient"])
    assert _ids(included, "Observation") == set()
    assert _ids(included, "Flag") == set()
    assert _ids(_get(client, "/fhir/ServiceRequest")) == {str(record.referral.uuid)}
    # Its episode of care with the wellbeing service is the wellbeing service's engagement.
    assert _get(client, "/fhir/EpisodeOfCare")["total"] == 0


def test_consent_opens_the_category_at_once_and_withdrawal_closes_it(record, hub):
    client = fhir_client(hub.talking)
    grant = record_consent(
        actor=hub.student_user, student=record.student, category="outcomes",
        purpose="direct_care", how_given="portal", recipient_service=hub.talking,
    )  # fmt: skip
    found = _get(client, "/fhir/Observation", _include="Observation:patient")
    assert _ids(found, "Observation") == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert _ids(found, "Patient") == {str(record.student.uuid)}
    _get(client, f"/fhir/QuestionnaireResponse/{record.phq9.uuid}")
    from joinedup.consent.services import withdraw_consent

    withdraw_consent(actor=hub.student_user, grant=grant)
    assert _get(client, "/fhir/Observation")["total"] == 0


def test_every_read_and_search_is_audited_naming_the_client(record, hub):
    client = fhir_client(hub.wellbeing)
    user = client_user(hub.wellbeing)
    _get(client, f"/fhir/Observation/{record.phq9.uuid}")
    read = AuditEvent.objects.filter(actor=user, action="fhir.read")
    assert set(read.values_list("category", flat=True)) == {"identity", "outcomes"}
    assert read.first().actor_service == "Wellbeing"
    _get(client, "/fhir/Flag")
    searched = AuditEvent.objects.filter(actor=user, action="fhir.search")
    assert set(searched.values_list("category", flat=True)) == {"identity", "risk"}
    assert searched.first().student == record.student


def test_search_pages_with_links_and_a_total(record, hub):
    client = fhir_client(hub.wellbeing)
    first = _get(client, "/fhir/Observation", _count="1")
    assert first["total"] == 2
    assert len(first["entry"]) == 1
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_page=2" in links["next"]
    assert "_count=1" in links["next"]
    second = _get(client, links["next"].split("testserver", 1)[1])
    assert {link["relation"] for link in second["link"]} == {"self", "previous"}
    assert _ids(first) | _ids(second) == {str(record.phq9.uuid), str(record.gad7.uuid)}


def test_search_parameters_filter(record, hub):
    client = fhir_client(hub.wellbeing)
    nhs = f"{mapping.NHS_NUMBER_SYSTEM}|9434765919"
    assert _ids(_get(client, "/fhir/Patient", identifier=nhs)) == {str(record.student.uuid)}
    assert _get(client, "/fhir/Patient", identifier=f"{mapping.NHS_NUMBER_SYSTEM}|1")["total"] == 0
    week_ago = (timezone.now() - dt.timedelta(days=3)).date().isoformat()
    assert _ids(_get(client, "/fhir/QuestionnaireResponse", authored=f"lt{week_ago}")) == {
        str(record.phq9.uuid)
    }
    assert _ids(_get(client, "/fhir/QuestionnaireResponse", authored=f"ge{week_ago}")) == {
        str(record.gad7.uuid)
    }
    today = timezone.now().date().isoformat()
    assert _get(client, "/fhir/Flag", _lastUpdated=today, status="active")["total"] == 1
    assert _get(client, "/fhir/Flag", status="inactive")["total"] == 0
    assert _get(client, "/fhir/Observation", subject=f"Patient/{record.student.uuid}")["total"] == 2
    assert _get(client, "/fhir/Task", status="requested")["total"] == 1
    assert _get(client, "/fhir/Organization", identifier=f"{mapping.ODS_SYSTEM}|RX4")["total"] == 1
    assert _get(client, "/fhir/Questionnaire", code=f"{mapping.LOINC}|44249-1")["total"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"date": "yesterday"}, "date"),
        ({"status": "sleeping"}, "status"),
        ({"_count": "-1"}, "_count"),
        ({"_count": "²"}, "_count"),
        ({"_page": "99999999999999999999"}, "_page"),
        ({"date": "9999-12-31"}, "date"),
        ({"_lastUpdated": "9999-12"}, "_lastUpdated"),
        ({"patient": "Patient/42"}, "patient"),
        ({"_include": "Observation:performer"}, "_include"),
    ],
)
def test_bad_search_parameters_get_a_400_naming_the_parameter(record, hub, params, field):
    body = _get(fhir_client(hub.wellbeing), "/fhir/Observation", expect=400, **params)
    assert body["issue"][0]["expression"] == [field]


def test_unknown_resource_type_is_a_404_outcome(db, hub):
    body = _get(fhir_client(hub.wellbeing), "/fhir/Encounter", expect=404)
    assert "not support Encounter" in body["issue"][0]["diagnostics"]


def test_a_client_sees_only_its_own_audit_events(record, hub):
    client = fhir_client(hub.wellbeing)
    _get(client, f"/fhir/Patient/{record.student.uuid}")
    events = _get(client, "/fhir/AuditEvent")
    user = client_user(hub.wellbeing)
    assert events["total"] == AuditEvent.objects.filter(actor=user).count() > 0
    practitioner_event = AuditEvent.objects.filter(actor=hub.practitioner).first()
    _get(client, f"/fhir/AuditEvent/{practitioner_event.seq}", expect=404)


def test_a_refused_read_leaves_no_trace_in_the_clients_audit_events(record, hub):
    client = fhir_client(hub.other_wellbeing)
    _get(client, f"/fhir/Flag/{record.flag.uuid}", expect=404)
    refused = AuditEvent.objects.get(actor=client_user(hub.other_wellbeing), allowed=False)

    events = _get(client, "/fhir/AuditEvent")

    assert f"Patient/{record.student.uuid}" not in str(events)
    _get(client, f"/fhir/AuditEvent/{refused.seq}", expect=404)


def test_search_queries_do_not_grow_with_the_number_of_results(record, hub):
    client = fhir_client(hub.wellbeing)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            _get(client, "/fhir/QuestionnaireResponse", _include="QuestionnaireResponse:patient")
        return len(captured)

    before = queries()
    for session in range(2, 6):
        record_administration(
            actor=hub.practitioner, student=record.student, service=hub.wellbeing,
            code="GAD-7", answers=[1] * 7, method="in_session", episode=record.episode,
            session_number=session,
        )  # fmt: skip
    assert queries() == before


def test_bearer_requests_are_neither_redirected_for_mfa_nor_csrf_checked(record, hub):
    # A staff session would be sent to second-factor enrolment; a token never is.
    client = fhir_client(hub.wellbeing, "system/*.read system/ServiceRequest.write")
    assert client.get(f"/fhir/Patient/{record.student.uuid}").status_code == 200
    response = client.post("/fhir/ServiceRequest", "{}", content_type=FHIR_JSON)
    assert response.status_code != 403
    assert response.status_code < 500


def test_create_client_command_prints_id_and_secret_once(hub, capsys):
    from django.core.management import call_command

    call_command("create_client", service=str(hub.crisis.uuid), name="Crisis EPR",
                 scopes="system/*.read")  # fmt: skip
    out = capsys.readouterr().out
    application = Application.objects.get(name="Crisis EPR")
    assert f"client_id: {application.client_id}" in out
    assert "client_secret: " in out
    secret = out.split("client_secret: ")[1].split()[0]
    assert secret != application.client_secret  # stored hashed
    (membership,) = application.user.memberships.all()
    assert (membership.service, membership.role) == (hub.crisis, "practitioner")


def test_an_expired_token_is_refused(record, hub):
    from oauth2_provider.models import AccessToken

    client = fhir_client(hub.wellbeing)
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(f"/fhir/Patient/{record.student.uuid}").status_code == 401


def test_capability_statement_names_the_bulk_export_and_transaction(db):
    (rest,) = HttpClient().get("/fhir/metadata").json()["rest"]
    assert {o["name"] for o in rest["operation"]} == {"export", "group-export", "patient-export"}
    assert rest["interaction"] == [{"code": "transaction"}]


def test_patient_everything_returns_the_record_the_client_may_see(record, hub):
    body = _get(fhir_client(hub.wellbeing), f"/fhir/Patient/{record.student.uuid}/$everything")
    assert body["type"] == "searchset"
    assert _ids(body, "QuestionnaireResponse") == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert _ids(body, "Flag") == {str(record.flag.uuid)}
    talking = _get(fhir_client(hub.talking), f"/fhir/Patient/{record.student.uuid}/$everything")
    assert _ids(talking, "QuestionnaireResponse") == set()
    assert _ids(talking, "ServiceRequest") == {str(record.referral.uuid)}
    narrow = fhir_client(hub.wellbeing, "system/Patient.read system/Flag.read")
    limited = _get(narrow, f"/fhir/Patient/{record.student.uuid}/$everything")
    assert {e["resource"]["resourceType"] for e in limited["entry"]} == {"Patient", "Flag"}
    outsider = fhir_client(hub.other_wellbeing)
    _get(outsider, f"/fhir/Patient/{record.student.uuid}/$everything", expect=404)
    _get(outsider, "/fhir/Patient/nonsense/$everything", expect=404)


def test_patient_everything_says_what_is_withheld_and_who_holds_it(record, hub):
    talking = _get(fhir_client(hub.talking), f"/fhir/Patient/{record.student.uuid}/$everything")

    [outcome] = [e for e in talking["entry"] if e["search"]["mode"] == "outcome"]
    issues = {i["details"]["text"]: i for i in outcome["resource"]["issue"]}
    assert set(issues) == {
        "Engagement: held by other services — not shared with you.",
        "Outcomes: held by Wellbeing — not shared with you.",
        "Risk: held by Wellbeing — not shared with you.",
    }
    assert {i["code"] for i in issues.values()} == {"suppressed"}
    assert talking["total"] == len(talking["entry"]) - 1  # the outcome is not a match
    own = _get(fhir_client(hub.wellbeing), f"/fhir/Patient/{record.student.uuid}/$everything")
    said = [e["resource"] for e in own["entry"] if e["search"]["mode"] == "outcome"]
    assert not any("Outcomes" in str(r) or "Risk" in str(r) for r in said)  # Wellbeing wrote them


def test_a_search_about_one_patient_says_what_is_withheld_and_who_holds_it(record, hub):
    talking = _get(fhir_client(hub.talking), "/fhir/Flag", patient=str(record.student.uuid))

    assert talking["total"] == 0
    [outcome] = [e["resource"] for e in talking["entry"] if e["search"]["mode"] == "outcome"]
    assert [i["details"]["text"] for i in outcome["issue"]] == [
        "Risk: held by Wellbeing — not shared with you."
    ]
    # A patient the client may not know gets exactly what a missing one gets: nothing.
    outsider = fhir_client(hub.other_wellbeing)
    known = _get(outsider, "/fhir/Flag", patient=str(record.student.uuid))
    missing = _get(outsider, "/fhir/Flag", patient="6b4bb9a2-7d69-4982-b14c-6ac514d6fa22")
    assert known["entry"] == missing["entry"] == []
    assert known["total"] == missing["total"] == 0


def test_patient_everything_audits_only_the_categories_its_scopes_let_out(record, hub):
    narrow = fhir_client(hub.wellbeing, "system/Patient.read system/QuestionnaireResponse.read")
    body = _get(narrow, f"/fhir/Patient/{record.student.uuid}/$everything")
    assert {e["resource"]["resourceType"] for e in body["entry"]} == {
        "Patient", "QuestionnaireResponse"
    }  # fmt: skip
    audited = AuditEvent.objects.filter(
        actor=client_user(hub.wellbeing), action="fhir.record.read", student=record.student
    )
    # Not risk (Flag) nor engagement (EpisodeOfCare, ServiceRequest): none of those went out.
    assert sorted(audited.values_list("category", flat=True)) == [
        "identity", "outcomes", "registration"
    ]  # fmt: skip
    assert all(audited.values_list("allowed", flat=True))
