"""Input the server cannot read is refused with an OperationOutcome (4xx), never a 500 and
never an HTML page: bodies that are not JSON or nest too deeply, broken query strings,
unknown endpoints, and faults of the server's own."""

import io
import json

import pytest
from django.test import Client as HttpClient

from joinedup.fhir import views
from joinedup.fhir.importing import MAX_DEPTH
from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, token_for
from joinedup.measures.models import Administration

FHIR_JSON = "application/fhir+json"


@pytest.fixture
def fhir(hub) -> HttpClient:
    """A client of Wellbeing that may read and write, seeing a 500 as a response."""
    token = token_for(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")
    return HttpClient(headers={"Authorization": f"Bearer {token}"}, raise_request_exception=False)


def outcome(response, status: int) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("url", ["/fhir/QuestionnaireResponse", "/fhir"])
def test_a_multipart_body_is_a_415(fhir, url):
    # The token check would read a multipart body as a form, and then nothing could read it.
    response = fhir.post(url, {"resourceType": "Bundle", "file": io.BytesIO(b"data")})
    assert "application/fhir+json" in outcome(response, 415)


def test_a_body_of_another_type_is_a_415(fhir):
    response = fhir.post("/fhir/QuestionnaireResponse", "{}", content_type="text/plain")
    outcome(response, 415)


@pytest.mark.parametrize("url", ["/fhir/QuestionnaireResponse", "/fhir"])
def test_a_body_nested_100_000_deep_is_a_400(fhir, url):
    response = fhir.post(url, "[" * 100_000, content_type=FHIR_JSON)
    assert "nested more than" in outcome(response, 400)


def test_a_resource_nested_too_deeply_to_process_is_a_400(fhir):
    item = {"linkId": "1"}
    for _ in range(MAX_DEPTH):
        item = {"linkId": "1", "item": [item]}
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [item]}
    response = fhir.post(
        "/fhir/QuestionnaireResponse", json.dumps(resource), content_type=FHIR_JSON
    )
    assert f"nested more than {MAX_DEPTH} levels" in outcome(response, 400)
    assert not Administration.objects.exists()


@pytest.mark.parametrize("query", ["_id=%zz", "_id=%E0%A4%A", "_id=%ff"])
def test_a_broken_escape_in_the_query_string_is_a_400(fhir, query):
    # oauthlib raised on "%zz"; "%ff" is not UTF-8, which Django would quietly replace.
    assert "query string" in outcome(fhir.get(f"/fhir/Patient?{query}"), 400)
    anonymous = HttpClient(raise_request_exception=False)
    outcome(anonymous.get(f"/fhir/Patient?{query}"), 400)
    outcome(anonymous.get(f"/fhir/metadata?{query}"), 400)


def test_an_unknown_endpoint_is_an_operation_outcome(fhir):
    assert "/fhir/metadata" in outcome(fhir.get("/fhir/Patient/1/2/3"), 404)


def test_a_server_fault_is_an_operation_outcome(fhir, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a fault")

    monkeypatch.setattr(views, "search", fail)
    assert "The fault is ours" in outcome(fhir.get("/fhir/Patient"), 500)
