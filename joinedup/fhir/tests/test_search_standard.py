"""Search as the FHIR spec says: the standard parameters users reach for, `_sort`, `_total`,
`_summary=count`, `_elements`, unknown parameters, and the CapabilityStatement's
definitions; and the same again through fhirpy, a FHIR client nobody here wrote, against the
running server."""

import datetime as dt
import urllib.parse
import uuid

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from joinedup.consent.services import record_consent
from joinedup.fhir import mapping
from joinedup.fhir.tests.conftest import token_for
from joinedup.fhir.tests.test_server import _get, _ids
from joinedup.measures.models import Administration
from joinedup.measures.services import record_administration

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def client(record, hub):
    return HttpClient(headers={"Authorization": f"Bearer {token_for(hub.wellbeing)}"})


def _matches(bundle) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


def _outcomes(bundle) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]


def test_summary_count_and_count_zero_give_the_total_alone(client):
    for params in ({"_summary": "count"}, {"_count": "0"}):
        body = _get(client, "/fhir/QuestionnaireResponse", **params)
        assert body["total"] == 2
        assert _matches(body) == []
        assert {link["relation"] for link in body["link"]} == {"self"}


def test_total_none_leaves_the_total_out_and_accurate_keeps_it(client):
    assert "total" not in _get(client, "/fhir/QuestionnaireResponse", _total="none")
    assert _get(client, "/fhir/QuestionnaireResponse", _total="accurate")["total"] == 2
    assert _get(client, "/fhir/QuestionnaireResponse", _total="estimate")["total"] == 2
    _get(client, "/fhir/QuestionnaireResponse", expect=400, _total="roughly")


def test_sort_orders_by_the_types_date_either_way_and_pages_never_overlap(client, record, hub):
    for days in (3, 8, 12):
        record_administration(
            actor=hub.practitioner, student=record.student, service=hub.wellbeing, code="GAD-7",
            answers=[0] * 7, method="in_session", episode=record.episode,
            completed_at=timezone.now() - dt.timedelta(days=days),
        )  # fmt: skip

    def authored(params):
        return [
            r["authored"] for r in _matches(_get(client, "/fhir/QuestionnaireResponse", **params))
        ]

    newest_first = authored({"_sort": "-authored"})
    assert len(newest_first) == 5
    assert newest_first == sorted(newest_first, reverse=True)
    assert authored({"_sort": "authored"}) == sorted(newest_first)
    paged = [
        a
        for page in (1, 2, 3)
        for a in authored({"_sort": "-authored", "_count": "2", "_page": str(page)})
    ]
    assert paged == newest_first
    body = _get(client, "/fhir/QuestionnaireResponse", expect=400, _sort="colour")
    assert body["issue"][0]["expression"] == ["_sort"]
    assert "authored" in body["issue"][0]["diagnostics"]


def test_sort_breaks_ties_by_id_in_the_keys_direction_so_an_index_gives_the_order(
    client, record, hub
):
    at = timezone.now() - dt.timedelta(days=2)
    same = [
        record_administration(
            actor=hub.practitioner, student=record.student, service=hub.wellbeing, code="GAD-7",
            answers=[0] * 7, method="in_session", completed_at=at,
        ).pk
        for _ in range(3)
    ]  # fmt: skip
    ids = {a.uuid: a.pk for a in Administration.objects.filter(pk__in=same)}

    def tied(sort):
        body = _get(client, "/fhir/QuestionnaireResponse", _sort=sort)
        return [ids[uuid.UUID(r["id"])] for r in _matches(body) if uuid.UUID(r["id"]) in ids]

    assert tied("-authored") == sorted(same, reverse=True)
    assert tied("authored") == sorted(same)


def test_elements_keeps_only_the_named_elements_and_marks_them_subsetted(client, record):
    (first, *_rest) = _matches(_get(client, "/fhir/Observation", _elements="subject,valueQuantity"))
    # The mandatory elements too, so that what is sent is still a valid Observation.
    assert set(first) == {"resourceType", "id", "meta", "subject", "valueQuantity", "status",
                          "code"}  # fmt: skip
    assert mapping_subsetted(first)


def test_summary_true_text_and_data_keep_what_the_specification_says(client, record):
    """The summary elements are the specification's (Observation.category and
    .interpretation are not among them); text keeps the mandatory elements (a response's
    status) with id and meta; data drops only the narrative, which is never sent here."""
    full = _matches(_get(client, "/fhir/Observation", _id=record.phq9.uuid))[0]
    summary = _matches(_get(client, "/fhir/Observation", _id=record.phq9.uuid, _summary="true"))
    assert set(summary[0]) == set(full) - {"category", "interpretation"}
    assert {"code", "status", "subject", "valueQuantity", "derivedFrom"} <= set(summary[0])
    assert mapping_subsetted(summary[0])
    mapping.as_model(summary[0])
    text = _matches(_get(client, "/fhir/QuestionnaireResponse", _summary="text"))
    assert {frozenset(r) for r in text} == {frozenset({"resourceType", "id", "meta", "status"})}
    text = _matches(_get(client, "/fhir/Observation", _summary="text"))  # code is 1..1
    assert {frozenset(r) for r in text} == {frozenset({"resourceType", "id", "meta", "status",
                                                       "code"})}  # fmt: skip
    data = _matches(_get(client, "/fhir/Observation", _id=record.phq9.uuid, _summary="data"))
    assert {k: v for k, v in data[0].items() if k != "meta"} == {
        k: v for k, v in full.items() if k != "meta"
    }
    assert mapping_subsetted(data[0])
    for params in ({"_summary": "some"}, {"_summary": "true", "_elements": "code"}):
        _get(client, "/fhir/Observation", expect=400, **params)


def mapping_subsetted(resource) -> bool:
    return any(tag["code"] == "SUBSETTED" for tag in resource["meta"]["tag"])


def test_patient_by_name_and_birthdate(client, record):
    student = record.student
    for params in (
        {"name": "alex"}, {"name": student.legal_family_name[:5]},
        {"family": student.legal_family_name},
        {"given": "Alexandra"}, {"birthdate": "2004-05-17"}, {"birthdate": "ge2004"},
        {"birthdate": "2004-05"}, {"name": "alex", "birthdate": "2004-05-17"},
    ):  # fmt: skip
        assert _ids(_get(client, "/fhir/Patient", **params)) == {str(student.uuid)}, params
    for params in ({"name": "lex"}, {"birthdate": "2004-05-18"}, {"birthdate": "lt2004-05-17"},
                   {"family": "Alex"}):  # fmt: skip
        assert _get(client, "/fhir/Patient", **params)["total"] == 0, params


def test_observations_by_code_and_category(client, record):
    phq9 = {str(record.phq9.uuid)}
    assert _ids(_get(client, "/fhir/Observation", code=f"{mapping.LOINC}|44261-6")) == phq9
    assert _ids(_get(client, "/fhir/Observation", code="44261-6")) == phq9
    assert _get(client, "/fhir/Observation", code="http://snomed.info/sct|44261-6")["total"] == 0
    assert _get(client, "/fhir/Observation", category="survey")["total"] == 2
    assert _get(client, "/fhir/Observation", category="laboratory")["total"] == 0


def test_questionnaire_responses_by_questionnaire(client, record):
    """By this server's canonical or id, or by any canonical a response may be sent with (a
    sender searches by the one it sent)."""
    phq9 = {str(record.phq9.uuid)}
    url = mapping.questionnaire_url("PHQ-9")
    others = ("http://loinc.org/q/44249-1", "https://fhir.example-trust.nhs.uk/Questionnaire/PHQ-9")
    for value in (url, f"{url}|1.0", "Questionnaire/phq-9", *others):
        assert _ids(_get(client, "/fhir/QuestionnaireResponse", questionnaire=value)) == phq9
    assert _get(client, "/fhir/QuestionnaireResponse", questionnaire="x")["total"] == 0


def test_an_unknown_result_parameter_is_ignored_and_said_so(client):
    body = _get(client, "/fhir/Observation", _totalMethod="count", category="survey")
    assert body["total"] == 2
    (notice,) = _outcomes(body)
    assert notice["issue"][0]["severity"] == "warning"
    assert notice["issue"][0]["expression"] == ["_totalMethod"]
    (self_link,) = [link["url"] for link in body["link"] if link["relation"] == "self"]
    assert "_totalMethod" not in self_link
    assert "category=survey" in self_link


def test_an_unknown_filter_is_refused_unless_the_client_asks_for_leniency(client):
    body = _get(client, "/fhir/Observation", expect=400, colour="blue")
    assert body["issue"][0]["expression"] == ["colour"]
    _get(client, "/fhir/Observation", expect=400, _has="Patient:link:x")
    lenient = client.get(
        "/fhir/Observation", {"colour": "blue"}, headers={"Prefer": "handling=lenient"}
    )
    assert lenient.status_code == 200
    assert lenient.json()["total"] == 2
    assert _outcomes(lenient.json())[0]["issue"][0]["expression"] == ["colour"]


def test_format_other_than_json_is_not_acceptable(client):
    assert _get(client, "/fhir/Observation", _format="json")["total"] == 2
    assert (
        _get(client, "/fhir/Observation", expect=406, _format="xml")["issue"][0]["code"]
        == "not-supported"
    )


def test_every_declared_search_parameter_has_its_standard_definition(db):
    statement = HttpClient().get("/fhir/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for resource in resources.values():
        for parameter in resource["searchParam"]:
            assert parameter["definition"].startswith(("http://hl7.org/fhir/SearchParameter/",
                                                      mapping.ID_SYSTEM)), parameter  # fmt: skip
    names = {r: {p["name"] for p in resources[r]["searchParam"]} for r in resources}
    assert {"authored", "questionnaire", "patient"} <= names["QuestionnaireResponse"]
    assert "date" not in names["QuestionnaireResponse"]
    assert {"code", "category", "date"} <= names["Observation"]
    assert {"name", "birthdate", "family", "given"} <= names["Patient"]
    assert "authored-on" in names["Task"]
    patient_definition = {
        p["name"]: p["definition"] for p in resources["Observation"]["searchParam"]
    }
    assert patient_definition["patient"] == "http://hl7.org/fhir/SearchParameter/clinical-patient"
    assert statement["rest"][0]["compartment"] == [
        "http://hl7.org/fhir/CompartmentDefinition/patient"
    ]


# Through fhirpy, against the running server -----------------------------------------------


# Each request on a connection of its own: a kept-alive connection would hold its server
# thread, and that thread's database connection, past the end of the test.
ONE_SHOT = {"Connection": "close"}


@pytest.fixture
def fhirpy_client(live_server, record, hub):
    return SyncFHIRClient(
        f"{live_server.url}/fhir",
        authorization=f"Bearer {token_for(hub.wellbeing)}",
        extra_headers=ONE_SHOT,
    )


def test_fhirpy_counts_sorts_searches_and_reads(fhirpy_client, record):
    observations = fhirpy_client.resources("Observation")
    assert observations.search(patient=str(record.student.uuid)).count() == 2
    assert observations.search(code=f"{mapping.LOINC}|44261-6").count() == 1
    responses = fhirpy_client.resources("QuestionnaireResponse").sort("-authored").fetch_all()
    assert [r["authored"] for r in responses] == sorted(
        (r["authored"] for r in responses), reverse=True
    )
    patient = fhirpy_client.resources("Patient").search(name="alex", birthdate="2004-05-17").first()
    assert patient.id == str(record.student.uuid)
    assert fhirpy_client.reference("Patient", patient.id).to_resource()["birthDate"] == "2004-05-17"
    subset = fhirpy_client.resources("Observation").elements("subject").limit(1).first()
    assert set(subset) == {"resourceType", "id", "meta", "subject", "status", "code"}


def test_fhirpy_reads_a_refusal_as_an_operation_outcome(fhirpy_client):
    with pytest.raises(OperationOutcome) as refused:
        fhirpy_client.resources("Observation").search(colour="blue").fetch()
    assert "colour" in str(refused.value)


def test_the_self_link_is_a_search_fhirpy_can_follow(fhirpy_client, live_server):
    bundle = fhirpy_client.execute("Observation", method="get", params={"_count": 1})
    (next_link,) = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(next_link).query)
    assert query["_page"] == ["2"]
    assert fhirpy_client.execute("Observation", method="get", params={"_count": 1, "_page": 2})[
        "entry"
    ]


def test_what_a_search_includes_needs_its_own_scope(record, hub):
    def holding(scope):
        return HttpClient(headers={"Authorization": f"Bearer {token_for(hub.wellbeing, scope)}"})

    observations_only = holding("system/Observation.read")
    refused = observations_only.get("/fhir/Observation", {"_include": "Observation:patient"})
    assert refused.status_code == 403
    assert "system/Patient.read" in refused.json()["issue"][0]["diagnostics"]
    patients_only = holding("system/Patient.read")
    refused = patients_only.get("/fhir/Patient", {"_revinclude": "Flag:patient"})
    assert refused.status_code == 403
    assert "system/Flag.read" in refused.json()["issue"][0]["diagnostics"]
    everything = f"/fhir/Patient/{record.student.uuid}/$everything"
    refused = patients_only.get(everything, {"_type": "Flag"})
    assert refused.status_code == 403  # never an empty record that looks like "no flags"
    assert "system/Flag.read" in refused.json()["issue"][0]["diagnostics"]
    allowed = patients_only.get(everything, {"_type": "Patient"}).json()
    assert {e["resource"]["resourceType"] for e in allowed["entry"]} == {"Patient"}
    assert allowed["total"] == 1


def test_comma_separated_values_are_alternatives(client, record, hub):
    from conftest import make_student

    other = make_student(hub.student.university, "NB1000888", legal_family_name="Patel",
                         nhs_number="9000000009")  # fmt: skip
    record_consent(
        actor=hub.student_user,
        student=other,
        category="identity",
        purpose="direct_care",
        how_given="portal",
        recipient_service=hub.wellbeing,
    )
    both = {str(record.student.uuid), str(other.uuid)}
    nhs = mapping.NHS_NUMBER_SYSTEM
    assert _ids(_get(client, "/fhir/Patient",
                     identifier=f"{nhs}|9434765919,{nhs}|9000000009")) == both  # fmt: skip
    assert _ids(_get(client, "/fhir/Patient",
                     family=f"{record.student.legal_family_name},patel")) == both  # fmt: skip
    codes = _get(client, "/fhir/Observation", code="44261-6,70274-6")
    assert _ids(codes) == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert _get(client, "/fhir/Flag", status="active,inactive")["total"] == 1
    two = _get(client, "/fhir/Observation", patient=f"{record.student.uuid},{other.uuid}")
    assert two["total"] == 2
    assert _get(client, "/fhir/Patient", family="Pat\\,el")["total"] == 0  # an escaped comma


@pytest.mark.parametrize("name", [
    "_has:Observation:patient:code", "_id:not", "_lastUpdated:missing", "code:text",
    "_elements:exclude", "_include:iterate", "_tag", "family:exact",
])  # fmt: skip
def test_a_modified_or_filtering_parameter_is_refused_never_ignored(client, name):
    body = _get(client, "/fhir/Observation" if "family" not in name else "/fhir/Patient",
                expect=400, **{name: "x"})  # fmt: skip
    assert body["issue"][0]["expression"] == [name]


def test_a_page_size_beyond_the_most_is_capped_and_the_links_say_so(client):
    body = _get(client, "/fhir/QuestionnaireResponse", _count="100000")
    (self_link,) = [link["url"] for link in body["link"] if link["relation"] == "self"]
    assert "_count=200" in self_link
    assert "100000" not in self_link


def test_fhirpy_finds_the_group_follows_a_history_and_asks_for_summaries(
    fhirpy_client, record, hub
):
    """What a partner keeping a copy does, through fhirpy: find its caseload's Group, count
    it, read it; poll a type's history; ask for summaries."""
    groups = fhirpy_client.resources("Group")
    assert groups.count() == 1
    group = groups.first()
    assert (group.id, group["quantity"]) == (str(hub.wellbeing.uuid), 1)
    assert fhirpy_client.reference("Group", group.id).to_resource()["type"] == "person"
    since = {"_since": "2020-01-01T00:00:00Z", "_count": 1}
    history = fhirpy_client.execute("Observation/_history", method="get", params=since)
    assert (history["type"], history["total"]) == ("history", 2)
    (next_link,) = [link["url"] for link in history["link"] if link["relation"] == "next"]
    path, _, query = next_link.partition("/fhir/")[2].partition("?")
    following = fhirpy_client.execute(path, method="get", params=urllib.parse.parse_qs(query))
    seen = {e["resource"]["id"] for e in history["entry"] + following["entry"]}
    assert seen == {str(record.phq9.uuid), str(record.gad7.uuid)}
    one = fhirpy_client.resources("Observation").search(_summary="true").limit(1).first()
    assert "category" not in one
    assert any(tag["code"] == "SUBSETTED" for tag in one["meta"]["tag"])
