"""Questionnaire responses in the shapes other systems send, all scored again from their
answers: a LOINC canonical with LHC-Forms paths, an SDC form with a contained Questionnaire,
another organisation's own canonical with its own linkIds, answers without systems; extra
items kept out of the score with a warning; and scores sent as Observations."""

import json

import pytest

from joinedup.fhir import mapping
from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, fhir_client
from joinedup.fhir.tests.test_create import ANSWER_CODES, partner_phq9
from joinedup.measures import instruments
from joinedup.measures.models import Administration

FHIR_JSON = "application/fhir+json"
GAD7_ITEMS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
ANSWERS = [0, 1, 2, 3, 0, 1, 2, 3, 1]  # total 13


@pytest.fixture
def writer(hub):
    return fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE} system/Observation.write")


def _send(client, resource, expect=201, path="/fhir/QuestionnaireResponse", **headers):
    response = client.post(path, json.dumps(resource), content_type=FHIR_JSON, headers=headers)
    assert response.status_code == expect, response.content
    body = response.json()
    mapping.as_model(body)
    return body


def _stored(created) -> Administration:
    return Administration.objects.get(uuid=created["id"])


def _base(student, **fields):
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": f"Patient/{student.uuid}"},
        "authored": "2026-11-20T09:30:00+00:00",
    } | fields


def test_a_loinc_canonical_with_a_trailing_slash_and_answers_without_systems(hub, writer):
    response = partner_phq9(hub.student, ANSWERS, questionnaire="http://loinc.org/44249-1/")
    stored = _stored(_send(writer, response))
    assert (stored.code, stored.total) == ("PHQ-9", 13)
    assert [a.value for a in stored.answers.order_by("item")] == ANSWERS


def test_an_sdc_form_with_a_contained_questionnaire_coded_only_at_its_top(hub, writer):
    """An SDC-style form: the contained Questionnaire carries the LOINC panel code; its
    items are numbered, not coded."""
    form = {
        "resourceType": "Questionnaire", "id": "phq9-form", "status": "active",
        "url": "https://forms.example.org/Questionnaire/depression-screen",
        "code": [{"system": "http://loinc.org", "code": "44249-1"}],
        "item": [{"linkId": "group", "type": "group", "item": [
            {"linkId": f"item-{n}", "type": "choice"} for n in range(1, 10)]}],
    }  # fmt: skip
    items = [{"linkId": "group", "item": [
        {"linkId": f"item-{n}", "answer": [{"valueCoding": {
            "system": "http://loinc.org", "code": ANSWER_CODES[value]}}]}
        for n, value in enumerate(ANSWERS, 1)]}]  # fmt: skip
    response = _base(hub.student, contained=[form], questionnaire="#phq9-form", item=items)
    stored = _stored(_send(writer, response))
    assert (stored.code, stored.total) == ("PHQ-9", 13)
    assert [a.value for a in stored.answers.order_by("item")] == ANSWERS


def test_another_organisations_canonical_with_its_own_link_ids_and_an_extra_item(hub, writer):
    items = [{"linkId": f"phq9_q{n}", "answer": [{"valueInteger": v}]}
             for n, v in enumerate(ANSWERS, 1)]  # fmt: skip
    items += [
        {"linkId": "phq9_total", "answer": [{"valueInteger": 27}]},  # never trusted
        {"linkId": "clinician_comment", "answer": [{"valueString": "Seen in clinic."}]},
    ]
    response = _base(
        hub.student, questionnaire="https://fhir.example-trust.nhs.uk/Questionnaire/PHQ-9|2.1",
        item=items, identifier={"system": "https://example-trust.nhs.uk/qr", "value": "77"},
    )  # fmt: skip
    outcome = _send(writer, response, Prefer="return=OperationOutcome")
    created, extra, total = outcome["issue"]
    assert created["severity"] == "information"
    assert extra["severity"] == total["severity"] == "warning"
    assert "'clinician_comment'" in extra["diagnostics"]
    assert extra["expression"] == ["QuestionnaireResponse.item[10]"]
    assert total["diagnostics"] == (
        "The total sent (27) was not kept: the answers score 13, which was recorded."
    )
    assert total["expression"] == ["QuestionnaireResponse.item[9]"]
    stored = Administration.objects.get()
    assert (stored.code, stored.total) == ("PHQ-9", 13)


def test_a_stated_total_that_agrees_and_the_unscored_difficulty_item(hub, writer):
    """A total that agrees with the answers says nothing; the PHQ-9's tenth question (how
    difficult the problems made things) is asked with it but never scored: not stored, and
    the sender is told so."""
    response = partner_phq9(hub.student, stated_total=9)
    response["item"].append({"linkId": "/44249-1/69722-7", "answer": [
        {"valueCoding": {"code": "LA6572-7"}}]})  # fmt: skip
    outcome = _send(writer, response, Prefer="return=OperationOutcome")
    _created, difficulty = outcome["issue"]
    assert difficulty["diagnostics"] == (
        "Item '/44249-1/69722-7' (LOINC 69722-7) is asked with PHQ-9 but is not part of its "
        "score; its answer was not stored."
    )
    assert difficulty["expression"] == ["QuestionnaireResponse.item[10]"]
    assert Administration.objects.get().answers.count() == 9


def test_a_response_too_incomplete_to_score_is_stored_unscored_and_the_sender_told(hub, writer):
    response = partner_phq9(hub.student, stated_total=5)
    del response["item"][5:9]  # items 6 to 9 unanswered
    outcome = _send(writer, response, Prefer="return=OperationOutcome")
    _created, unscored = outcome["issue"]
    assert unscored["diagnostics"] == (
        "No score was recorded: PHQ-9 items 6, 7, 8, 9 are not answered, and it is scored "
        "with at most 2 missing. The answers given were stored."
    )
    stored = Administration.objects.get()
    assert (stored.is_valid, stored.main_score, stored.answers.count()) == (False, None, 5)


def test_a_gad7_with_bare_loinc_link_ids_and_codes_without_systems(hub, writer):
    values = [1, 1, 2, 0, 1, 1, 0]
    items = [{"linkId": code, "answer": [{"valueCoding": {"code": ANSWER_CODES[v]}}]}
             for code, v in zip(GAD7_ITEMS, values, strict=True)]  # fmt: skip
    response = _base(hub.student, questionnaire="http://loinc.org/q/69737-5", item=items)
    stored = _stored(_send(writer, response))
    assert (stored.code, stored.total) == ("GAD-7", 6)


def test_a_measure_without_loinc_answers_matched_by_its_own_codes_without_a_system(hub, writer):
    values = [1, 2, 0, 3, 4, 1, 0, 2, 1, 0]
    items = [{"linkId": str(n), "answer": [{"valueCoding": {"code": str(v)}}]}
             for n, v in enumerate(values, 1)]  # fmt: skip
    response = _base(hub.student, questionnaire="https://other.example/fhir/Questionnaire/core10",
                     item=items)  # fmt: skip
    stored = _stored(_send(writer, response))
    assert stored.code == "CORE-10"
    assert [a.value for a in stored.answers.order_by("item")] == values


def test_our_own_responses_still_round_trip(record, hub, writer):
    ours = writer.get(f"/fhir/QuestionnaireResponse/{record.gad7.uuid}").json()
    del ours["id"], ours["identifier"]
    stored = _stored(_send(writer, ours))
    assert stored.code == "GAD-7"
    assert stored.total == record.gad7.total
    assert [a.value for a in stored.answers.order_by("item")] == [
        a.value for a in record.gad7.answers.order_by("item")
    ]


def test_a_warning_reaches_a_transaction_bundles_entry(hub, writer):
    response = partner_phq9(hub.student, stated_total=9)
    response["item"].append({"linkId": "mood-today", "answer": [{"valueString": "low"}]})
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": response, "request": {"method": "POST", "url": "QuestionnaireResponse"}}
        ],
    }
    result = _send(writer, bundle, expect=200, path="/fhir")
    (entry,) = result["entry"]
    (issue,) = entry["response"]["outcome"]["issue"]
    assert "'mood-today'" in issue["diagnostics"]


# Observation: a score without its answers ------------------------------------------------


def phq9_total(student, value=14, **fields):
    """A PHQ-9 total as an Observation, as systems that keep only scores send it."""
    return {
        "resourceType": "Observation",
        "identifier": [{"system": "https://gp.example/obs", "value": "o-1"}],
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                  "observation-category", "code": "survey"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6",
                             "display": "Patient Health Questionnaire 9 item total score"}]},
        "subject": {"reference": f"Patient/{student.uuid}"},
        "effectiveDateTime": "2026-11-18T14:00:00Z",
        "valueQuantity": {"value": value, "unit": "{score}",
                          "system": "http://unitsofmeasure.org", "code": "{score}"},
    } | fields  # fmt: skip


def test_an_observation_with_a_phq9_total_is_recorded_as_a_score(hub, writer):
    created = _send(writer, phq9_total(hub.student), path="/fhir/Observation")
    stored = _stored(created)
    assert (stored.code, stored.total, stored.main_score) == ("PHQ-9", 14, 14)
    assert stored.band == "moderate"
    assert not stored.answers.exists()
    assert stored.method == "imported"
    assert created["valueQuantity"]["value"] == 14
    again = _send(writer, phq9_total(hub.student), expect=200, path="/fhir/Observation")
    assert again["id"] == created["id"]
    assert Administration.objects.count() == 1
    found = writer.get("/fhir/Observation", {"code": "44261-6"}).json()
    assert found["total"] == 1


def test_an_observations_derived_from_is_not_kept_and_the_sender_is_told(hub, writer):
    observation = phq9_total(hub.student, derivedFrom=[{"reference": "QuestionnaireResponse/x"}])
    outcome = _send(writer, observation, path="/fhir/Observation",
                    Prefer="return=OperationOutcome")  # fmt: skip
    _created, warning = outcome["issue"]
    assert "derivedFrom was not kept" in warning["diagnostics"]
    assert warning["expression"] == ["Observation.derivedFrom"]
    served = writer.get(f"/fhir/Observation/{Administration.objects.get().uuid}").json()
    assert "derivedFrom" not in served


def test_an_observation_as_an_integer_and_by_this_servers_own_score_code(hub, writer):
    coding = mapping.score_coding(instruments.get("CORE-10"))
    observation = phq9_total(hub.student, code={"coding": [coding]}, valueInteger=12)
    del observation["valueQuantity"]
    stored = _stored(_send(writer, observation, path="/fhir/Observation"))
    assert (stored.code, stored.main_score) == ("CORE-10", 12)


@pytest.mark.parametrize(("change", "expression", "words"), [
    ({"code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}},
     "Observation.code", "not the score of a questionnaire"),
    ({"valueQuantity": {"value": 28}}, "Observation", "PHQ-9 score 28.0 is not within 0–27"),
    ({"valueQuantity": None}, "Observation.value[x]", "The score is missing"),
    ({"status": "preliminary"}, "Observation.status", "Only a final score"),
    ({"effectiveDateTime": "2099-01-01"}, "Observation.effective", "in the future"),
])  # fmt: skip
def test_bad_observations_are_refused_and_nothing_is_written(hub, writer, change, expression,
                                                             words):  # fmt: skip
    observation = {k: v for k, v in (phq9_total(hub.student) | change).items() if v is not None}
    outcome = _send(writer, observation, expect=422, path="/fhir/Observation")
    issue = outcome["issue"][0]
    assert issue["expression"] == [expression]
    assert words in issue["diagnostics"]
    assert not Administration.objects.exists()


def test_sending_an_observation_needs_its_write_scope(hub):
    client = fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")
    outcome = _send(client, phq9_total(hub.student), expect=403, path="/fhir/Observation")
    assert "system/Observation.write" in outcome["issue"][0]["diagnostics"]


def test_a_resend_that_differs_from_what_is_held_is_refused(hub, writer, record):
    first = _send(writer, partner_phq9(hub.student, ANSWERS))
    again = _send(writer, partner_phq9(hub.student, ANSWERS), expect=200)
    assert again["id"] == first["id"]  # the same resent: nothing changes
    corrected = partner_phq9(hub.student, [3, *ANSWERS[1:]])
    issue = _send(writer, corrected, expect=409)["issue"][0]
    assert "names a response with other answers" in issue["diagnostics"]
    assert issue["expression"] == ["QuestionnaireResponse.identifier"]
    from conftest import make_student
    from joinedup.consent.services import record_consent

    other = make_student(hub.student.university, "NB1000999")
    for category in ("identity", "outcomes"):
        record_consent(actor=hub.student_user, student=other, category=category,
                       purpose="direct_care", how_given="portal",
                       recipient_service=hub.wellbeing)  # fmt: skip
    someone_else = partner_phq9(other, ANSWERS)
    issue = _send(writer, someone_else, expect=409)["issue"][0]
    assert "names a record about another patient" in issue["diagnostics"]
    assert Administration.objects.filter(method="imported").count() == 1
    _send(writer, phq9_total(hub.student), path="/fhir/Observation")
    changed = _send(writer, phq9_total(hub.student, value=19), expect=409,
                    path="/fhir/Observation")  # fmt: skip
    assert "names a score of 14, not 19" in changed["issue"][0]["diagnostics"]
    assert Administration.objects.filter(method="imported").count() == 2


def test_a_subject_given_as_this_servers_own_url_is_the_patient(hub, writer):
    def about(base: str, n: str):
        subject = {"reference": f"{base}/fhir/Patient/{hub.student.uuid}"}
        identifier = {"system": "s", "value": n}
        return partner_phq9(hub.student, ANSWERS, subject=subject, identifier=identifier)

    assert _stored(_send(writer, about("http://testserver", "1"))).student == hub.student
    _send(writer, about("https://other.example", "2"), expect=422)


def test_an_item_with_two_answers_is_refused(hub, writer):
    response = partner_phq9(hub.student, ANSWERS)
    response["item"][1]["answer"].append({"valueCoding": {"code": ANSWER_CODES[3]}})
    issue = _send(writer, response, expect=422)["issue"][0]
    assert issue["expression"] == ["QuestionnaireResponse.item[1].answer"]
    assert "has 2 answers; it takes one" in issue["diagnostics"]
    assert not Administration.objects.exists()
