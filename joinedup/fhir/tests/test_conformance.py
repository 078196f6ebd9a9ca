"""Every error an OperationOutcome with the right status: 404 for what is not here (a
compartment outside the Patient's), 405 naming the allowed methods, 406 for a client that
accepts only XML, 415 for an XML body; and the Patient compartment search."""

from urllib.parse import urlencode

import pytest
from django.test import Client as HttpClient

from joinedup.fhir.tests.conftest import token_for
from joinedup.fhir.tests.test_server import _ids

WRITE = "system/*.read system/QuestionnaireResponse.write"


@pytest.fixture
def client(record, hub):
    return HttpClient(headers={"Authorization": f"Bearer {token_for(hub.wellbeing, WRITE)}"})


def _outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("put", "/fhir/Patient/{id}", "GET"),
    ("delete", "/fhir/Patient/{id}", "GET"),
    ("patch", "/fhir/Patient", "GET"),
    ("patch", "/fhir/Observation", "GET, POST"),
    ("put", "/fhir", "POST"),
    ("post", "/fhir/metadata", "GET"),
    ("post", "/fhir/Patient/{id}/Observation", "GET"),
    ("post", "/fhir/Patient/{id}/$everything", "GET"),
])  # fmt: skip
def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client, record, method, path, allow):
    url = path.format(id=record.student.uuid)
    response = getattr(client, method)(url, "{}", content_type="application/fhir+json")
    issue = _outcome(response, 405)
    assert response["Allow"] == allow
    assert issue["code"] == "not-supported"


@pytest.mark.parametrize("accept", ["application/fhir+xml", "application/xml", "text/html"])
def test_a_client_accepting_only_xml_is_answered_406(client, record, accept):
    for path in (f"/fhir/Patient/{record.student.uuid}", "/fhir/metadata", "/fhir/Observation"):
        issue = _outcome(client.get(path, headers={"Accept": accept}), 406)
        assert "application/fhir+json" in issue["diagnostics"]


@pytest.mark.parametrize("accept", [
    "application/fhir+json", "application/json", "*/*", "application/*",
    "application/fhir+xml;q=0.9, application/fhir+json;q=0.8",
])  # fmt: skip
def test_json_or_anything_is_answered(client, record, accept):
    response = client.get(f"/fhir/Patient/{record.student.uuid}", headers={"Accept": accept})
    assert response.status_code == 200


def test_an_xml_body_is_a_415(client):
    response = client.post(
        "/fhir/QuestionnaireResponse", "<QuestionnaireResponse/>",
        content_type="application/fhir+xml",
    )  # fmt: skip
    assert "JSON" in _outcome(response, 415)["diagnostics"]


def test_an_unknown_route_is_a_404_outcome(client):
    issue = _outcome(client.get("/fhir/Patient/x/y/z"), 404)
    assert "/fhir/metadata" in issue["diagnostics"]


def test_the_patient_compartment_is_the_search_by_patient(client, record):
    key = record.student.uuid
    compartment = client.get(f"/fhir/Patient/{key}/Observation", {"code": "44261-6"}).json()
    assert _ids(compartment) == {str(record.phq9.uuid)}
    everything = client.get(f"/fhir/Patient/{key}/QuestionnaireResponse").json()
    assert _ids(everything) == {str(record.phq9.uuid), str(record.gad7.uuid)}
    assert _outcome(client.get(f"/fhir/Patient/{key}/Organization"), 404)["code"] == "not-supported"
    _outcome(client.get(f"/fhir/Patient/{key}/Encounter"), 404)
    doubled = client.get(f"/fhir/Patient/{key}/Observation", {"patient": str(key)})
    assert _outcome(doubled, 400)["expression"] == ["patient"]


def test_a_compartment_of_a_patient_the_client_may_not_know_is_empty(record, hub):
    stranger = HttpClient(headers={"Authorization": f"Bearer {token_for(hub.crisis)}"})
    body = stranger.get(f"/fhir/Patient/{record.student.uuid}/Flag").json()
    assert body["total"] == 0


def test_a_read_carries_its_version_and_answers_if_none_match(client, record):
    url = f"/fhir/Patient/{record.student.uuid}"
    first = client.get(url)
    version = first.json()["meta"]["versionId"]
    assert first["ETag"] == f'W/"{version}"'
    assert client.get(url).json()["meta"]["versionId"] == version  # unchanged content
    unchanged = client.get(url, headers={"If-None-Match": f'W/"{version}"'})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    record.student.preferred_name = "Lexi"
    record.student.save()
    changed = client.get(url, headers={"If-None-Match": f'W/"{version}"'})
    assert changed.status_code == 200
    assert changed.json()["meta"]["versionId"] != version


def test_vread_answers_the_current_version_and_says_earlier_ones_are_not_kept(client, record):
    url = f"/fhir/Observation/{record.phq9.uuid}"
    version = client.get(url).json()["meta"]["versionId"]
    current = client.get(f"{url}/_history/{version}")
    assert current.status_code == 200
    assert current.json()["meta"]["versionId"] == version
    issue = _outcome(client.get(f"{url}/_history/1"), 404)
    assert f"only the current version, {version}" in issue["diagnostics"]
    searched = client.get("/fhir/Observation", {"code": "44261-6"}).json()
    assert searched["entry"][0]["resource"]["meta"]["versionId"] == version


def test_if_none_match_compares_weakly_and_bodiless_answers_have_no_content_type(client, record):
    url = f"/fhir/Patient/{record.student.uuid}"
    version = client.get(url).json()["meta"]["versionId"]
    for asked in (f'"{version}"', f'W/"{version}"', f'"other", W/"{version}"', "*"):
        unchanged = client.get(url, headers={"If-None-Match": asked})
        assert unchanged.status_code == 304, asked
        assert "Content-Type" not in unchanged
    subset = client.get("/fhir/Patient", {"_elements": "name"}).json()["entry"][0]["resource"]
    assert subset["meta"]["versionId"] == version  # the version the subset was cut from


def test_a_search_may_be_posted_as_a_form(client, record):
    def post(url, form):
        return client.post(url, urlencode(form), content_type="application/x-www-form-urlencoded")

    posted = post("/fhir/Observation/_search", {"code": "44261-6"})
    assert posted.status_code == 200, posted.content
    assert _ids(posted.json()) == {str(record.phq9.uuid)}
    both = post("/fhir/Observation/_search?category=survey", {"code": "44261-6,70274-6"})
    assert _ids(both.json()) == {str(record.phq9.uuid), str(record.gad7.uuid)}
    refused = post("/fhir/Observation/_search", {"colour": "blue"})
    assert _outcome(refused, 400)["expression"] == ["colour"]
    assert client.get("/fhir/Observation/_search")["Allow"] == "POST"
