"""Creating QuestionnaireResponses and ServiceRequests, and importing transaction Bundles:
scored again from the answers, matched by LOINC codes, idempotent, all or nothing."""

import copy
import json

import pytest

from joinedup.fhir import mapping
from joinedup.fhir.models import ExternalIdentifier
from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, fhir_client
from joinedup.measures.models import Administration
from joinedup.referrals.models import Referral
from joinedup.risk.models import Flag

FHIR_JSON = "application/fhir+json"
PHQ9_ITEMS = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5",
              "44253-3", "44260-8"]  # fmt: skip
ANSWER_CODES = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def partner_phq9(student, answers=(1, 1, 1, 1, 1, 1, 1, 1, 1), *, stated_total=27, **extra):
    """A PHQ-9 as another system writes it: LHC-Forms linkIds, answer codes without a
    system, and a wrong stated total."""
    items = [
        {
            "linkId": f"/44249-1/{code}",
            "answer": [{"valueCoding": {"code": ANSWER_CODES[value]}}],
        }
        for code, value in zip(PHQ9_ITEMS, answers, strict=True)
    ]
    items.append({"linkId": "/44249-1/44261-6", "answer": [{"valueInteger": stated_total}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "https://partner.example/qr", "value": "qr-1"},
        "questionnaire": "http://loinc.org/q/44249-1",
        "status": "completed",
        "subject": {"reference": f"Patient/{student.uuid}"},
        "authored": "2026-11-01T10:00:00Z",
        "item": items,
    } | extra


def referral_request(student, service, **extra):
    return {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "https://partner.example/referrals", "value": "ref-7"}],
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{student.uuid}"},
        "performer": [{"reference": f"HealthcareService/{service.uuid}"}],
        "reasonCode": [{"text": "Panic attacks before exams."}],
    } | extra


@pytest.fixture
def writer(hub):
    return fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")


def _post(client, url, resource, expect):
    body = resource if isinstance(resource, str | bytes) else json.dumps(resource)
    response = client.post(url, body, content_type=FHIR_JSON)
    assert response.status_code == expect, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    result = response.json()
    mapping.as_model(result)
    return result


def _issue(outcome):
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome["issue"][0]


def test_questionnaire_response_is_rescored_and_stored_as_an_administration(hub, writer):
    created = _post(writer, "/fhir/QuestionnaireResponse", partner_phq9(hub.student), 201)
    administration = Administration.objects.get(uuid=created["id"])
    assert (administration.code, administration.method) == ("PHQ-9", "imported")
    assert administration.total == 9  # recomputed: the stated 27 is ignored
    assert administration.service == hub.wellbeing
    assert list(administration.answers.values_list("value", flat=True)) == [1] * 9
    assert created["item"][-1] == {"linkId": "total", "answer": [{"valueDecimal": 9.0}]}
    observation = writer.get(f"/fhir/Observation/{created['id']}").json()
    assert observation["code"]["coding"][0]["code"] == "44261-6"
    assert observation["valueQuantity"]["value"] == 9
    assert Flag.objects.filter(administration=administration).exists()  # item 9 answered


def test_items_are_matched_by_loinc_code_not_link_id(hub, writer):
    # Another publisher: items in a different order, with their own linkIds and the LOINC
    # code in `definition`; the answers land on the right items all the same.
    answers = [0, 1, 2, 3, 0, 1, 2, 3, 0]
    items = [
        {
            "linkId": f"q{n}",
            "definition": f"http://loinc.org/{code}",
            "answer": [{"valueCoding": {"system": mapping.LOINC, "code": ANSWER_CODES[value]}}],
        }
        for n, (code, value) in enumerate(zip(PHQ9_ITEMS, answers, strict=True))
    ]
    response = partner_phq9(hub.student, item=list(reversed(items)), questionnaire=None)
    del response["questionnaire"]
    created = _post(writer, "/fhir/QuestionnaireResponse", response, 201)
    administration = Administration.objects.get(uuid=created["id"])
    assert [a.value for a in administration.answers.all()] == answers
    assert administration.total == sum(answers)


def test_items_coded_in_a_contained_questionnaire(hub, writer):
    response = partner_phq9(hub.student)
    response["contained"] = [
        {
            "resourceType": "Questionnaire",
            "id": "form",
            "status": "active",
            "item": [
                {"linkId": f"x{n}", "type": "choice",
                 "code": [{"system": mapping.LOINC, "code": code}]}
                for n, code in enumerate(PHQ9_ITEMS)
            ],
        }
    ]  # fmt: skip
    response["questionnaire"] = "#form"
    for n, item in enumerate(response["item"][:9]):
        item["linkId"] = f"x{n}"
    response["item"] = response["item"][:9]
    created = _post(writer, "/fhir/QuestionnaireResponse", response, 201)
    assert Administration.objects.get(uuid=created["id"]).total == 9


def test_resending_the_same_response_changes_nothing(hub, writer):
    first = _post(writer, "/fhir/QuestionnaireResponse", partner_phq9(hub.student), 201)
    again = _post(writer, "/fhir/QuestionnaireResponse", partner_phq9(hub.student), 200)
    assert again["id"] == first["id"]
    assert Administration.objects.count() == 1
    assert again["identifier"] == {"system": "https://partner.example/qr", "value": "qr-1"}


def _unchanged(func):
    counts = (Administration.objects.count(), Referral.objects.count(),
              ExternalIdentifier.objects.count(), Flag.objects.count())  # fmt: skip
    result = func()
    assert counts == (Administration.objects.count(), Referral.objects.count(),
                      ExternalIdentifier.objects.count(), Flag.objects.count())  # fmt: skip
    return result


def _bad_answer_code(student):
    response = partner_phq9(student)
    response["item"][2]["answer"][0]["valueCoding"]["code"] = "LA9999-9"
    return response


def _out_of_range(student):
    response = partner_phq9(student)
    response["item"][4]["answer"] = [{"valueInteger": 7}]
    return response


def _missing_patient(student):
    return partner_phq9(student, subject={"reference": "Patient/not-a-patient"})


def _unknown_questionnaire(student):
    items = [{"linkId": "mood", "answer": [{"valueInteger": 2}]}]
    return partner_phq9(student, questionnaire="https://other.example/Questionnaire/mood-check",
                        item=items)  # fmt: skip


@pytest.mark.parametrize(
    ("make", "status", "expression", "words"),
    [
        (_bad_answer_code, 422, "QuestionnaireResponse.item[2].answer[0].valueCoding",
         "LA9999-9 is not one of its answers"),
        (_out_of_range, 422, "QuestionnaireResponse.item[4].answer[0].valueInteger",
         "outside the answers 0–3"),
        (_missing_patient, 422, "QuestionnaireResponse.subject", "patient this server does not"),
        (_unknown_questionnaire, 422, "QuestionnaireResponse.questionnaire",
         "Cannot tell which questionnaire https://other.example/Questionnaire/mood-check is"),
        (lambda s: partner_phq9(s, status="in-progress"), 422, "QuestionnaireResponse.status",
         "Only a completed questionnaire"),
        (lambda s: partner_phq9(s, item=[{"linkId": 5}]) | {"colour": "blue"}, 400,
         None, ""),
        (lambda s: partner_phq9(s, resourceType="Observation"), 400, "resourceType",
         "sent to QuestionnaireResponse"),
    ],
)  # fmt: skip
def test_bad_responses_get_a_4xx_outcome_naming_the_field_and_save_nothing(
    hub, writer, make, status, expression, words
):
    outcome = _unchanged(
        lambda: _post(writer, "/fhir/QuestionnaireResponse", make(hub.student), status)
    )
    issue = _issue(outcome)
    if expression:
        assert issue["expression"] == [expression]
    assert words in issue["diagnostics"]


def test_malformed_and_oversized_bodies_are_refused(hub, writer):
    assert (
        "not valid JSON"
        in _issue(_post(writer, "/fhir/QuestionnaireResponse", "{", 400))["diagnostics"]
    )
    assert _issue(_post(writer, "/fhir/QuestionnaireResponse", "[1]", 400))["code"] == "structure"
    huge = partner_phq9(hub.student, text={"status": "generated", "div": "x" * 1_100_000})
    assert _issue(_post(writer, "/fhir/QuestionnaireResponse", huge, 413))["code"] == "too-costly"


def test_a_service_that_may_not_see_the_student_cannot_write_about_them(hub):
    outsider = fhir_client(hub.other_wellbeing, ALL_WRITE)
    outcome = _unchanged(
        lambda: _post(outsider, "/fhir/QuestionnaireResponse", partner_phq9(hub.student), 422)
    )
    assert _issue(outcome)["expression"] == ["QuestionnaireResponse.subject"]


def test_writing_needs_the_write_scope(hub):
    reader = fhir_client(hub.wellbeing, ALL_READ)
    _post(reader, "/fhir/QuestionnaireResponse", partner_phq9(hub.student), 403)


def test_other_types_cannot_be_created(hub, writer):
    # Said as what it is (no such interaction), never as a scope no client can be given.
    response = writer.post("/fhir/Flag", json.dumps({"resourceType": "Flag"}),
                           content_type=FHIR_JSON)  # fmt: skip
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "Flag cannot be created here" in _issue(response.json())["diagnostics"]


def test_service_request_becomes_a_sent_referral_once(hub, writer):
    created = _post(writer, "/fhir/ServiceRequest", referral_request(hub.student, hub.talking), 201)
    referral = Referral.objects.get(uuid=created["id"])
    assert (referral.from_service, referral.to_service, referral.state) == (
        hub.wellbeing, hub.talking, "sent"
    )  # fmt: skip
    assert referral.reason == "Panic attacks before exams."
    again = _post(writer, "/fhir/ServiceRequest", referral_request(hub.student, hub.talking), 200)
    assert again["id"] == created["id"]
    assert Referral.objects.count() == 1
    assert {"system": "https://partner.example/referrals", "value": "ref-7"} in again["identifier"]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"performer": [{"reference": "HealthcareService/00000000-0000-0000-0000-000000000000"}]},
         "ServiceRequest.performer[0]"),
        ({"performer": []}, "ServiceRequest.performer[0]"),
        ({"reasonCode": [{"text": "   "}]}, "ServiceRequest.reasonCode[0].text"),
        ({"status": "completed"}, "ServiceRequest.status"),
    ],
)  # fmt: skip
def test_bad_service_requests_are_refused_naming_the_field(hub, writer, change, expression):
    resource = referral_request(hub.student, hub.talking) | change
    if not change.get("performer", True):
        del resource["performer"]
    outcome = _unchanged(lambda: _post(writer, "/fhir/ServiceRequest", resource, 422))
    assert _issue(outcome)["expression"] == [expression]


def test_a_service_cannot_refer_to_itself(hub, writer):
    resource = referral_request(hub.student, hub.wellbeing)
    outcome = _unchanged(lambda: _post(writer, "/fhir/ServiceRequest", resource, 422))
    assert _issue(outcome)["expression"] == ["ServiceRequest.performer[0]"]
    assert "cannot refer to itself" in _issue(outcome)["diagnostics"]


def _transaction(*resources):
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources
        ],
    }


def test_transaction_imports_every_entry_and_resending_changes_nothing(hub, writer):
    bundle = _transaction(partner_phq9(hub.student), referral_request(hub.student, hub.talking))
    first = _post(writer, "/fhir/", bundle, 200)
    assert first["type"] == "transaction-response"
    assert [e["response"]["status"] for e in first["entry"]] == ["201 Created", "201 Created"]
    again = _unchanged(lambda: _post(writer, "/fhir/", bundle, 200))
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK", "200 OK"]
    assert [e["resource"]["id"] for e in again["entry"]] == [
        e["resource"]["id"] for e in first["entry"]
    ]


def test_a_bad_entry_leaves_the_database_unchanged_and_every_error_is_named(hub, writer):
    bad_referral = referral_request(hub.student, hub.talking, reasonCode=[{"text": " "}])
    bad_referral["identifier"] = [{"system": "https://partner.example/referrals", "value": "8"}]
    bundle = _transaction(
        partner_phq9(hub.student), _out_of_range(hub.student) | {"identifier": None}, bad_referral
    )
    bundle["entry"][1]["resource"].pop("identifier")
    outcome = _unchanged(lambda: _post(writer, "/fhir/", bundle, 422))
    expressions = [i["expression"][0] for i in outcome["issue"]]
    assert expressions == [
        "Bundle.entry[1].resource.item[4].answer[0].valueInteger",
        "Bundle.entry[2].resource.reasonCode[0].text",
    ]
    assert outcome["issue"][0]["diagnostics"].startswith("Entry 1: ")


@pytest.mark.parametrize(
    ("bundle", "status", "expression"),
    [
        ({"resourceType": "Bundle", "type": "batch", "entry": []}, 422, "Bundle.type"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": []}, 422, "Bundle.entry"),
        ({"resourceType": "Patient"}, 400, "resourceType"),
    ],
)
def test_bundles_that_are_not_transactions_are_refused(hub, writer, bundle, status, expression):
    assert _issue(_post(writer, "/fhir/", bundle, status))["expression"] == [expression]


def test_transaction_entries_must_be_creates_of_supported_types(hub, writer):
    bundle = _transaction({"resourceType": "Flag", "id": "x"})  # derived, never imported
    outcome = _unchanged(lambda: _post(writer, "/fhir/", bundle, 422))
    assert _issue(outcome)["expression"] == ["Bundle.entry[0].resource.resourceType"]
    bundle = copy.deepcopy(_transaction(partner_phq9(hub.student)))
    bundle["entry"][0]["request"]["method"] = "PUT"
    assert _issue(_post(writer, "/fhir/", bundle, 422))["expression"] == ["Bundle.entry[0].request"]


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": "x"},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "subject": 5},
        {"resourceType": "QuestionnaireResponse", "status": "completed",
         "subject": {"identifier": {"system": mapping.NHS_NUMBER_SYSTEM, "value": "123"}}},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "authored": "soon"},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [
            {"linkId": "/44249-1/44250-9", "answer": [{"valueString": "often"}]}]},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [
            {"linkId": "/44249-1/44250-9", "answer": [{"valueCoding": {"code": "LA6568-5"}}]},
            {"linkId": "/44249-1/44250-9", "answer": [{"valueCoding": {"code": "LA6568-5"}}]}]},
        {"resourceType": 7},
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
         "subject": {"reference": "Patient/x"}, "performer": [{"display": "Somewhere"}]},
    ],
)  # fmt: skip
def test_odd_shapes_get_a_4xx_never_a_server_error(hub, writer, body):
    resource_type = body["resourceType"] if isinstance(body["resourceType"], str) else "Flag"
    url = f"/fhir/{resource_type}"
    response = writer.post(url, json.dumps(body), content_type=FHIR_JSON)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "entry",
    [
        "x",
        {"resource": "x"},
        {"resource": {"resourceType": "QuestionnaireResponse"}, "request": "POST"},
        {"resource": {"resourceType": "QuestionnaireResponse"}, "request": {"method": "POST",
                                                                            "url": 5}},
    ],
)  # fmt: skip
def test_odd_bundle_entries_get_a_4xx_never_a_server_error(hub, writer, entry):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    response = writer.post("/fhir/", json.dumps(bundle), content_type=FHIR_JSON)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["issue"][0]["expression"][0].startswith("Bundle.entry[0]")


def _create(client, resource, expect, **headers):
    response = client.post(
        "/fhir/QuestionnaireResponse", json.dumps(resource), content_type=FHIR_JSON,
        headers=headers,
    )  # fmt: skip
    assert response.status_code == expect, response.content
    return response


def test_if_none_exist_creates_once_and_returns_what_it_found(hub, writer):
    condition = "identifier=https://partner.example/qr|qr-1"
    first = _create(writer, partner_phq9(hub.student), 201, **{"If-None-Exist": condition})
    # A different response under the same condition is not created: the one found is returned.
    again = _create(writer, partner_phq9(hub.student, identifier={"system": "s", "value": "v"}),
                    200, **{"If-None-Exist": condition})  # fmt: skip
    assert again.json()["id"] == first.json()["id"]
    assert f"/QuestionnaireResponse/{first.json()['id']}/_history/" in again["Location"]
    assert Administration.objects.count() == 1


def test_if_none_exist_matching_several_is_a_412_and_nothing_is_created(hub, writer):
    _create(writer, partner_phq9(hub.student), 201)
    other = partner_phq9(hub.student, identifier={"system": "s", "value": "2"})
    _create(writer, other, 201)
    condition = f"patient={hub.student.uuid}"
    third = partner_phq9(hub.student, identifier={"system": "s", "value": "3"})
    refused = _create(writer, third, 412, **{"If-None-Exist": condition})
    assert "matches 2" in _issue(refused.json())["diagnostics"]
    _create(writer, third, 400, **{"If-None-Exist": "colour=blue"})
    _create(writer, third, 400, **{"If-None-Exist": " "})
    assert Administration.objects.count() == 2


def test_if_none_exist_needs_the_read_scope(hub):
    write_only = fhir_client(hub.wellbeing, ALL_WRITE)
    refused = _create(write_only, partner_phq9(hub.student), 403,
                      **{"If-None-Exist": "identifier=s|v"})  # fmt: skip
    assert "system/QuestionnaireResponse.read" in _issue(refused.json())["diagnostics"]
    assert not Administration.objects.exists()


def test_prefer_return_shapes_the_answer_to_a_create(hub, writer):
    minimal = _create(writer, partner_phq9(hub.student), 201, Prefer="return=minimal")
    assert minimal.content == b""
    created = Administration.objects.get()
    assert f"/QuestionnaireResponse/{created.uuid}/_history/" in minimal["Location"]
    said = _create(writer, partner_phq9(hub.student), 200, Prefer="return=OperationOutcome")
    issue = _issue(said.json())
    assert issue["severity"] == "information"
    assert issue["diagnostics"] == (
        f"Already held, so nothing was created: QuestionnaireResponse/{created.uuid}."
    )
    whole = _create(writer, partner_phq9(hub.student, identifier={"system": "s", "value": "9"}),
                    201, Prefer="return=representation")  # fmt: skip
    assert whole.json()["resourceType"] == "QuestionnaireResponse"
